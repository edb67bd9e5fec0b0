"""One story once: near-duplicates found when indexed (search.stories), collapsed in results."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient

from search import open_index, search
from search.cli import main as qiao
from search.index import QiaoIndex, add, build, delete
from search.options import SORTS
from search.stories import THRESHOLD, signature, story_text
from web import create_app
from web.server import close

from .conftest import SEEDS, record_ids, wire_copies, write_jsonl

QUERY = "尼泊尔 地震勘探"


def _stories(index_dir: Path) -> dict[str, str]:
    """Every article's story, by id."""
    with open_index(index_dir) as ix:
        searcher = ix.searcher()
        fields = [searcher.stored_fields(d) for d in range(searcher.doc_count_all())]
    return {f["id"]: f["story"] for f in fields}


def test_a_wire_copy_is_as_similar_as_a_story_and_another_article_is_not() -> None:
    original, sina, sohu = (signature(story_text(r["title"], r["body"])) for r in wire_copies())
    other = json.loads((SEEDS / "zh-news.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert original.jaccard(sina) >= THRESHOLD and original.jaccard(sohu) >= THRESHOLD
    assert original.jaccard(signature(story_text(other["title"], other["body"]))) < 0.1


def test_three_copies_of_one_report_come_back_as_one_hit_with_two_similar(stories: QiaoIndex) -> None:
    first, sina, sohu = record_ids(wire_copies())
    result = search(stories, QUERY)
    hits = [h for h in result.hits if h.id in (first, sina, sohu)]
    assert len(hits) == 1
    others = {first, sina, sohu} - {hits[0].id}
    assert hits[0].similar.count == 2
    assert set(hits[0].similar.ids) == others
    sources = {first: "中国新闻网", sina: "新浪", sohu: "搜狐新闻"}
    assert set(hits[0].similar.sources) == {sources[i] for i in others}


def test_collapse_off_lists_all_three_copies(stories: QiaoIndex) -> None:
    result = search(stories, QUERY, collapse=False)
    assert set(record_ids(wire_copies())) <= {h.id for h in result.hits}
    assert all(h.similar is None for h in result.hits)
    assert result.total_hits == result.total_articles


def test_total_hits_counts_stories_and_total_articles_the_articles(stories: QiaoIndex) -> None:
    collapsed, every = search(stories, QUERY), search(stories, QUERY, collapse=False)
    assert (collapsed.total_hits, collapsed.total_articles) == (every.total_hits - 2, every.total_hits)
    assert collapsed.facets == every.facets  # facets count articles either way


def test_pages_of_stories_hold_each_story_once(stories: QiaoIndex) -> None:
    whole = search(stories, "中国 技术", per_page=100)
    pages = [search(stories, "中国 技术", per_page=7, page=n) for n in range(1, -(-whole.total_hits // 7) + 1)]
    paged = [h.id for page in pages for h in page.hits if not h.partial]  # then articles with some of the words
    assert paged == [h.id for h in whole.hits if not h.partial]
    assert len(paged) == whole.total_hits < whole.total_articles
    assert all(page.total_pages == -(-whole.total_hits // 7) for page in pages)


def test_the_seeds_have_no_two_articles_of_one_story(seeds_index_dir: Path) -> None:
    found = _stories(seeds_index_dir)
    assert len(found) == 846
    assert all(story == article for article, story in found.items())


def test_added_copies_join_the_story_of_the_indexed_report(tmp_path: Path) -> None:
    original, *copies = wire_copies()
    build([write_jsonl(tmp_path / "original.jsonl", [original])], tmp_path / "index")
    summary = add([write_jsonl(tmp_path / "copies.jsonl", copies)], tmp_path / "index")
    assert summary.counts() == {"added": 2}
    first, sina, sohu = record_ids(wire_copies())
    assert _stories(tmp_path / "index") == {first: first, sina: first, sohu: first}


def test_copies_added_together_join_one_story(tmp_path: Path) -> None:
    build([], tmp_path / "index")
    add([write_jsonl(tmp_path / "copies.jsonl", wire_copies())], tmp_path / "index")
    first, sina, sohu = record_ids(wire_copies())
    assert _stories(tmp_path / "index") == {first: first, sina: first, sohu: first}


def test_a_story_stays_collapsed_when_its_first_report_is_deleted(tmp_path: Path) -> None:
    build([write_jsonl(tmp_path / "copies.jsonl", wire_copies())], tmp_path / "index")
    first, sina, sohu = record_ids(wire_copies())
    delete([first], tmp_path / "index")
    with open_index(tmp_path / "index") as ix:
        result = search(ix, QUERY)
    assert (result.total_hits, result.total_articles) == (1, 2)
    assert result.hits[0].similar.ids == tuple({sina, sohu} - {result.hits[0].id})


def test_stories_do_not_depend_on_shards(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    write_jsonl(folder / "copies.jsonl", wire_copies()[1:])
    (folder / "zh-news.jsonl").write_text((SEEDS / "zh-news.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    build([folder], tmp_path / "one")
    build([folder], tmp_path / "four", shards=4)
    assert _stories(tmp_path / "four") == _stories(tmp_path / "one")
    with open_index(tmp_path / "one") as one, open_index(tmp_path / "four") as four:
        for q in (QUERY, "新冠肺炎", "香港"):
            a, b = search(one, q, per_page=50), search(four, q, per_page=50)
            assert (a.total_hits, a.total_articles) == (b.total_hits, b.total_articles)
            # Which copy stands for a story may differ: copies tie, and ties follow document numbers.
            assert {frozenset((h.id, *h.similar.ids)) for h in a.hits} == {frozenset((h.id, *h.similar.ids)) for h in b.hits}


def test_copies_added_to_a_sharded_index_join_the_story_in_another_shard(tmp_path: Path) -> None:
    original, *copies = wire_copies()
    build([write_jsonl(tmp_path / "original.jsonl", [original])], tmp_path / "index", shards=4)
    add([write_jsonl(tmp_path / "copies.jsonl", copies)], tmp_path / "index")
    first, sina, sohu = record_ids(wire_copies())
    assert _stories(tmp_path / "index") == {first: first, sina: first, sohu: first}


def test_api_collapses_unless_collapse_is_off(story_index_dir: Path) -> None:
    app = create_app({"INDEX_DIR": story_index_dir, "TESTING": True})
    try:
        client: FlaskClient = app.test_client()
        collapsed = client.get("/api/search", query_string={"q": QUERY}).get_json()
        every = client.get("/api/search", query_string={"q": QUERY, "collapse": "off"}).get_json()
        bad = client.get("/api/search", query_string={"q": QUERY, "collapse": "maybe"})
    finally:
        close(app)
    first, sina, sohu = record_ids(wire_copies())
    story = [h for h in collapsed["hits"] if h["id"] in (first, sina, sohu)]
    assert [h["similar"]["count"] for h in story] == [2]
    assert collapsed["collapsed"] is True and every["collapsed"] is False
    assert {first, sina, sohu} <= {h["id"] for h in every["hits"]}
    assert all(h["similar"] is None for h in every["hits"])
    assert (bad.status_code, bad.get_json()["error"]["message"]) == (400, "collapse must be on or off, not 'maybe'")


def test_page_shows_similar_reports_with_their_sources(story_index_dir: Path) -> None:
    app = create_app({"INDEX_DIR": story_index_dir, "TESTING": True})
    try:
        page = app.test_client().get("/", query_string={"q": QUERY, "hl": "en"}).get_data(as_text=True)
        every = app.test_client().get("/", query_string={"q": QUERY, "hl": "en", "collapse": "off"}).get_data(as_text=True)
    finally:
        close(app)
    assert page.count('<details class="similar"') == 1
    assert "2 similar reports: " in page
    assert "Show every article" in page and 'href="/?q=' in page
    assert '<details class="similar"' not in every
    assert "Show one result per story" in every


def test_a_first_report_updated_to_other_text_leaves_its_copies_one_story(tmp_path: Path) -> None:
    build([write_jsonl(tmp_path / "copies.jsonl", wire_copies())], tmp_path / "index")
    original = wire_copies()[0]
    other = json.loads((SEEDS / "zh-news.jsonl").read_text(encoding="utf-8").splitlines()[0])
    changed = {**original, "title": other["title"], "body": other["body"]}
    assert add([write_jsonl(tmp_path / "changed.jsonl", [changed])], tmp_path / "index").counts() == {"updated": 1}
    first, sina, sohu = record_ids(wire_copies())
    found = _stories(tmp_path / "index")
    assert (found[sina], found[sohu]) == (first, first)
    assert found[first].startswith(f"{first}@")
    with open_index(tmp_path / "index") as ix:
        result = search(ix, QUERY)
    assert (result.total_hits, result.total_articles, result.hits[0].similar.count) == (1, 2, 1)


def test_cli_says_how_many_articles_the_stories_hold_and_lists_the_similar(story_index_dir: Path) -> None:
    first, sina, sohu = record_ids(wire_copies())
    out = CliRunner().invoke(qiao, ["search", QUERY, "--index", str(story_index_dir), "--limit", "1"]).stdout.splitlines()
    every = CliRunner().invoke(qiao, ["search", QUERY, "--index", str(story_index_dir), "--no-collapse"]).stdout
    assert out[0].startswith("1 story from 3 articles (--no-collapse lists each) in ")
    similar = next(line for line in out if "similar reports" in line)
    assert similar.startswith("   + 2 similar reports (") and set(similar.split(": ")[1].split()) == {first, sina, sohu} - {
        next(line for line in out if "id=" in line).rsplit("id=", 1)[1]}
    assert every.startswith("3 results in ") and "similar reports" not in every


def test_every_sort_collapses_the_copies(stories: QiaoIndex) -> None:
    copies = set(record_ids(wire_copies()))
    for sort in SORTS:
        hits = [h for h in search(stories, QUERY, sort=sort, per_page=50).hits if h.id in copies]
        assert [(h.similar.count, {h.id, *h.similar.ids}) for h in hits] == [(2, copies)], sort
