"""Proximity: query words next to each other, or close and in order, rank above the same words
scattered through an article (issue 11). Each pair of articles has the same words, as often and
as long, so BM25F alone ties them; a tie goes to the article indexed first, the farther one."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as wq

from search.index import QiaoIndex, build
from search.matching import WordQuery
from search.proximity import proximity, query_words
from search.query import search as searching
from search.query.statistics import statistics
from search.ranking import RANKING

WITHOUT = replace(RANKING, proximity_weight=0.0)
FILLER = "alpha beta gamma delta epsilon zeta eta theta iota kappa"


def index_of(tmp_path: Path, articles: list[dict[str, str]]) -> Path:
    """An index of ``articles``, built from a JSONL file in ``tmp_path``."""
    data = tmp_path / "articles.jsonl"
    data.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    build([data], tmp_path / "index")
    return tmp_path / "index"


def ranked(index_dir: Path, q: str, **kw: object) -> list[tuple[str, float]]:
    """(id, score) of each hit of ``q``, best first, every article listed: the articles of a test share
    most of their text, near-duplicates a search would collapse into one story (search.stories)."""
    with QiaoIndex(index_dir) as ix:
        return [(h.id, h.score) for h in searching.search(ix, q, **{"collapse": False, **kw}).hits]


def ids(index_dir: Path, q: str, **kw: object) -> list[str]:
    return [i for i, _ in ranked(index_dir, q, **kw)]


@pytest.fixture
def english(tmp_path: Path) -> Path:
    return index_of(tmp_path, [
        {"id": "apart", "title": "Rates", "body": f"central {FILLER} bank"},
        {"id": "next", "title": "Rates", "body": f"central bank {FILLER}"},
        {"id": "other", "title": "Rates", "body": f"central {FILLER} fund"},
    ])


def test_adjacent_words_rank_above_the_same_words_far_apart(english: Path) -> None:
    # "other" has one of the words: it comes after those with both.
    assert ids(english, "central bank") == ["next", "apart", "other"]


def test_chinese_words_next_to_each_other_rank_first(tmp_path: Path) -> None:
    index_dir = index_of(tmp_path, [
        {"id": "apart", "title": "报告", "body": "经济，市场，信心，企业，投资，消费，出口，增长"},
        {"id": "next", "title": "报告", "body": "经济，增长，市场，信心，企业，投资，消费，出口"},
    ])
    assert ids(index_dir, "经济 增长") == ["next", "apart"]
    assert ids(index_dir, "经济增长") == ["next", "apart"]


def test_closer_words_in_query_order_rank_higher(tmp_path: Path) -> None:
    words = FILLER.split()
    index_dir = index_of(tmp_path, [
        {"id": f"gap{gap}", "title": "Rates",
         "body": " ".join(["central", *words[:gap - 1], "bank", *words[gap - 1:]])}
        for gap in (9, 4, 2, 1)
    ])
    assert ids(index_dir, "central bank") == ["gap1", "gap2", "gap4", "gap9"]


def test_stop_words_between_query_words_keep_them_adjacent(tmp_path: Path) -> None:
    index_dir = index_of(tmp_path, [
        {"id": "apart", "title": "Banks", "body": f"bank {FILLER} china"},
        {"id": "next", "title": "Banks", "body": f"bank of china {FILLER}"},
    ])
    assert ids(index_dir, "bank china") == ["next", "apart"]


def test_a_single_word_query_scores_as_before(english: Path) -> None:
    with_proximity = ranked(english, "central")
    assert ranked(english, "central", ranking=WITHOUT) == with_proximity
    assert [i for i, _ in with_proximity] == ["apart", "next", "other"]


def test_proximity_is_zero_for_one_word_and_for_words_far_apart(english: Path) -> None:
    with QiaoIndex(english) as ix:
        searcher = ix.searcher()
        (leaf, _), = searcher.leaf_searchers()
        docs = np.arange(3, dtype=np.int64)
        central, bank = WordQuery("central", RANKING.fields), WordQuery("bank", RANKING.fields)
        stats = statistics(searcher, wq.Or([central, bank]))
        assert proximity(leaf, [central], docs, stats).tolist() == [0.0, 0.0, 0.0]
        bonus = proximity(leaf, [central, bank], docs, stats).tolist()
    assert bonus[0] == 0.0 and bonus[1] > 0.0 and bonus[2] == 0.0


def test_date_sort_is_not_reordered_by_proximity(english: Path) -> None:
    by_date = ranked(english, "central bank", sort="date")
    assert ranked(english, "central bank", sort="date", ranking=WITHOUT) == by_date
    assert [i for i, _ in by_date] == ["apart", "next"]


def test_proximity_reads_the_words_searched_for_not_those_excluded_or_added_by_feedback() -> None:
    def word(text: str) -> WordQuery:
        return WordQuery(text, RANKING.fields)

    query = wq.AndMaybe(
        wq.And([word("central"), wq.Or([word("bank"), word("central")]), wq.Not(word("fund"))]),
        wq.Or([word("rates")]),
    )
    assert [w.text for w in query_words(query)] == ["central", "bank"]


def test_a_question_is_not_rescored_by_proximity(english: Path) -> None:
    question = "central bank alpha beta gamma"  # five words: ranked by any of them, then feedback
    assert ranked(english, question) == ranked(english, question, ranking=WITHOUT)
