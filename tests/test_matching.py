"""Every match as arrays: the vectorised scores against BM25F worked out posting by posting,
deleted articles, the time limit, and sorting by date."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from search.errors import QueryError
from search.index import QiaoIndex, build, delete
from search.matching import StringQuery, WordQuery
from search.query import search as searching
from search.query.statistics import statistics
from search.ranking import RANKING
from search.schema import PART_FIELDS


def by_hand(searcher, leaf, text: str, fields: dict[str, float]) -> dict[int, float]:
    """BM25F of ``text`` in one segment, one posting at a time through Whoosh's own matchers."""
    top, reader = searcher, leaf.reader()
    n = top.doc_count_all()
    # BM25F's document frequency: documents with the word in any text field, once each; a part
    # field's own count is the least it can be.
    in_text = documents_with(top, text, {name: w for name, w in fields.items() if name not in PART_FIELDS})
    df = max([len(in_text), *(top.doc_frequency(name, text) for name in fields if name in PART_FIELDS)])
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    k1, b = RANKING.bm25(han=not text.isascii())
    tf: dict[int, float] = {}
    for name, weight in sorted(fields.items()):
        if (name, text) not in reader:
            continue
        length_of = PART_FIELDS.get(name, name)
        average = top.avg_field_length(length_of)
        postings = reader.postings(name, text)
        while postings.is_active():
            doc = postings.id()
            length = reader.doc_field_length(doc, length_of) or 1
            tf[doc] = tf.get(doc, 0.0) + weight * postings.weight() / (1 - b + b * length / average)
            postings.next()
    return {doc: idf * f * (k1 + 1) / (k1 + f) for doc, f in tf.items()}


def documents_with(searcher, text: str, fields: dict[str, float]) -> set[tuple[int, int]]:
    """(segment, document) of every document of the index with ``text`` in any of ``fields``."""
    found = set()
    for segment, (leaf, _) in enumerate(searcher.leaf_searchers()):
        reader = leaf.reader()
        for name in fields:
            if (name, text) in reader:
                found.update((segment, doc) for doc in reader.postings(name, text).all_ids())
    return found


@pytest.mark.parametrize("text", ["香港", "银行", "合作", "kong", "cooper"])
def test_word_scores_equal_bm25f_worked_out_posting_by_posting(seeds: QiaoIndex, text: str) -> None:
    fields = RANKING.with_parts(RANKING.fields)
    searcher = seeds.searcher()
    matched = 0
    for leaf, _ in searcher.leaf_searchers():
        query = WordQuery(text, fields)
        found = query.matches(leaf, statistics(searcher, query))
        expected = by_hand(searcher, leaf, text, fields)
        assert found.docs.tolist() == sorted(expected)
        assert found.scores.tolist() == pytest.approx([expected[d] for d in found.docs.tolist()], rel=1e-12)
        matched += len(found)
    assert matched > 0


STORIES = [
    {"id": "a", "title": "香港经济增长", "body": "中国人民银行宣布降准，香港经济增长加快。", "published": "2023-05-11"},
    {"id": "b", "title": "香港旅游", "body": "香港旅游业复苏，中国人民银行行长出席论坛。", "published": "2024-01-02"},
    {"id": "c", "title": "香港天气", "body": "香港天文台预测香港明日有雨，香港仔尤甚。"},
]


@pytest.fixture
def stories(tmp_path: Path) -> Path:
    data = tmp_path / "stories.jsonl"
    data.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in STORIES), encoding="utf-8")
    build([data], tmp_path / "index")
    return tmp_path / "index"


def hits(index_dir: Path, q: str, **kw: object) -> list[str]:
    with QiaoIndex(index_dir) as ix:
        return [h.id for h in searching.search(ix, q, **kw).hits]


def test_deleted_articles_match_nothing(stories: Path) -> None:
    assert sorted(hits(stories, "香港")) == ["a", "b", "c"]
    assert sorted(hits(stories, '"人民银行"')) == ["a", "b"]
    delete(["a"], stories)
    assert sorted(hits(stories, "香港")) == ["b", "c"]
    assert hits(stories, '"人民银行"') == ["b"]
    assert hits(stories, "香港", date_to="2023-12-31") == []


def test_string_query_counts_each_occurrence(stories: Path) -> None:
    with QiaoIndex(stories) as ix:
        searcher = ix.searcher()
        counts, scores = {}, {}
        for leaf, offset in searcher.leaf_searchers():
            query = StringQuery("香港", {"body": 1.0})
            docs, freqs = query._occurrences(leaf.reader(), "body")
            ids = [searcher.stored_fields(d + offset)["id"] for d in docs.tolist()]
            counts.update(zip(ids, freqs.tolist()))
            scores.update(zip(ids, query.matches(leaf, statistics(searcher, query)).scores.tolist()))
    # 香港 and 香港仔 in c: inside a word counts as much as a word of its own.
    assert counts == {"a": 1, "b": 1, "c": 3}
    assert max(scores, key=scores.get) == "c"


def test_date_sort_puts_articles_without_a_date_last(stories: Path) -> None:
    assert hits(stories, "香港", sort="date") == ["b", "a", "c"]


def test_search_stops_at_its_time_limit(stories: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(searching, "SEARCH_SECONDS", 0.0)
    with pytest.raises(QueryError) as error:
        hits(stories, "香港")
    assert error.value.code == "query_timeout"


def test_document_frequency_counts_a_word_in_any_field_once(tmp_path: Path) -> None:
    """BM25F's idf: "bank" is in the title of one article and the body of another, so it is in
    two of the three articles (the most of any one field would say one)."""
    articles = [
        {"id": "x", "title": "Central bank raises rates", "body": "The decision surprised markets in Asia."},
        {"id": "y", "title": "Markets rally", "body": "Shares rose after the central bank kept rates unchanged."},
        {"id": "z", "title": "Weather", "body": "Rain is expected in Hong Kong tomorrow."},
    ]
    data = tmp_path / "articles.jsonl"
    data.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    build([data], tmp_path / "index")
    fields = RANKING.with_parts(RANKING.fields)
    with QiaoIndex(tmp_path / "index") as ix:
        searcher = ix.searcher()
        query = WordQuery("bank", fields)
        stats = statistics(searcher, query)
        assert (searcher.doc_frequency("title", "bank"), searcher.doc_frequency("body", "bank")) == (1, 1)
        assert stats.doc_frequency(query.searched_in, "bank") == 2
        scores = {}
        for leaf, offset in searcher.leaf_searchers():
            found = query.matches(leaf, stats)
            scores.update(zip((searcher.stored_fields(d + offset)["id"] for d in found.docs.tolist()), found.scores.tolist()))
            expected = by_hand(searcher, leaf, "bank", fields)
            assert found.scores.tolist() == pytest.approx([expected[d] for d in found.docs.tolist()], rel=1e-12)
    assert sorted(scores) == ["x", "y"]
    # At the title's weight of 3, the title match outscores the body's.
    assert scores["x"] > scores["y"] > 0
