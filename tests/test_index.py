"""Index life cycle: atomic builds, add/update by id, delete, locking, version checks, stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search import generations, writing
from search.articles import Article
from search.errors import BuildRefused, IndexBusy, IndexMismatch, IndexNotFound
from search.index import (
    Dropped,
    QiaoIndex,
    add,
    add_articles,
    build,
    current_generation,
    delete,
    stats,
    verify,
    write_lock,
)
from search.query.search import search

from .conftest import write_jsonl

SEED_ARTICLE = Path(__file__).resolve().parents[1] / "seeds" / "chongqing-hong-kong-2023-05-11.txt"
STORY = {
    "id": "wire-1",
    "title": "香港与重庆签署合作备忘录",
    "body": "香港特区行政长官李家超率团访问重庆，双方签署多份合作备忘录。",
    "published": "2023-05-11",
    "source": "测试通讯社",
}


@pytest.fixture
def small_index(tmp_path: Path) -> Path:
    """An index of the seed article alone."""
    index_dir = tmp_path / "index"
    build([SEED_ARTICLE], index_dir)
    return index_dir


def count(index_dir: Path) -> int:
    with QiaoIndex(index_dir) as ix:
        return ix.searcher().doc_count()


def test_build_reports_what_it_indexed(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "news.jsonl", [STORY, {**STORY, "id": "wire-2"}])
    summary = build([data, SEED_ARTICLE], tmp_path / "index")
    assert (summary.indexed, summary.skipped) == (3, ())
    assert count(tmp_path / "index") == 3


def test_build_counts_exact_copies_apart_from_conflicting_ids(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "news.jsonl", [STORY, STORY, {**STORY, "title": "second"}])
    summary = build([data], tmp_path / "index")
    assert (summary.indexed, summary.duplicates) == (1, 1)
    assert [s.reason for s in summary.skipped] == ["another article has this id; the first was kept"]
    with QiaoIndex(tmp_path / "index") as ix:
        assert ix.searcher().document(id="wire-1")["title"] == STORY["title"]


def test_rebuild_swaps_generations_and_keeps_only_the_previous_one(small_index: Path, tmp_path: Path) -> None:
    first = current_generation(small_index)
    build([write_jsonl(tmp_path / "n.jsonl", [STORY])], small_index)
    second = current_generation(small_index)
    build([write_jsonl(tmp_path / "n.jsonl", [STORY])], small_index)
    third = current_generation(small_index)
    assert sorted(p.name for p in small_index.glob("gen-*")) == sorted([second.name, third.name])
    assert first not in (second, third)
    assert count(small_index) == 1


def test_failed_build_leaves_the_live_index_untouched(small_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = current_generation(small_index)

    def broken(paths: object) -> object:
        yield from writing.iter_articles([SEED_ARTICLE])
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(writing, "iter_articles", broken)
    with pytest.raises(RuntimeError):
        build([SEED_ARTICLE], small_index)
    assert current_generation(small_index) == live
    assert [p.name for p in small_index.glob("gen-*")] == [live.name]
    assert count(small_index) == 1


def test_open_searcher_sees_a_rebuild_without_reopening(small_index: Path, tmp_path: Path) -> None:
    with QiaoIndex(small_index) as ix:
        assert search(ix, "李家超").total_hits == 0
        build([write_jsonl(tmp_path / "n.jsonl", [STORY])], small_index)
        assert [h.id for h in search(ix, "李家超").hits] == ["wire-1"]


def test_add_twice_changes_nothing_the_second_time(small_index: Path, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "n.jsonl", [STORY])
    assert add([data], small_index).counts() == {"added": 1}
    assert add([data], small_index).counts() == {"unchanged": 1}
    assert count(small_index) == 2


def test_add_updates_an_article_with_the_same_id(small_index: Path, tmp_path: Path) -> None:
    add([write_jsonl(tmp_path / "a.jsonl", [STORY])], small_index)
    changed = {**STORY, "title": "重庆香港合作新篇章"}
    assert add([write_jsonl(tmp_path / "b.jsonl", [changed])], small_index).counts() == {"updated": 1}
    with QiaoIndex(small_index) as ix:
        assert ix.searcher().document(id="wire-1")["title"] == "重庆香港合作新篇章"
        assert ix.searcher().doc_count() == 2


def test_add_reports_bad_input_as_rejected(small_index: Path, tmp_path: Path) -> None:
    data = tmp_path / "n.jsonl"
    data.write_text(json.dumps(STORY, ensure_ascii=False) + "\n{broken\n", encoding="utf-8")
    summary = add([data], small_index)
    assert summary.counts() == {"added": 1, "rejected": 1}
    assert summary.skipped[0].line == 2


def test_delete_removes_by_id_and_reports_unknown_ids(small_index: Path) -> None:
    summary = delete(["chongqing-hong-kong-2023-05-11.txt", "nope"], small_index)
    assert [(o.id, o.status) for o in summary.outcomes] == [
        ("chongqing-hong-kong-2023-05-11.txt", "deleted"), ("nope", "not_found"),
    ]
    assert count(small_index) == 0


def test_second_writer_waits_then_fails_clearly(small_index: Path, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "n.jsonl", [STORY])
    with write_lock(small_index):
        with pytest.raises(IndexBusy, match="another qiao process is writing"):
            add([data], small_index, lock_timeout=0.3)
    assert add([data], small_index).counts() == {"added": 1}


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="build one with: qiao index build"):
        QiaoIndex(tmp_path / "nothing")


def test_index_of_another_analyzer_version_is_refused(small_index: Path) -> None:
    meta_path = current_generation(small_index) / generations.META
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "analyzer_version": "0"}))
    with pytest.raises(IndexMismatch, match="built with analyzer version 0"):
        QiaoIndex(small_index)


def test_changed_user_dictionary_is_noticed(small_index: Path) -> None:
    with QiaoIndex(small_index) as ix:
        assert not ix.dictionary_changed()
        (small_index / "userdict.txt").write_text("李家超 100 nr\n", encoding="utf-8")
        assert ix.dictionary_changed()


def test_user_dictionary_is_used_by_the_build(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / "userdict.txt").write_text("李家超 100 nr\n", encoding="utf-8")
    build([write_jsonl(tmp_path / "n.jsonl", [STORY])], index_dir)
    with QiaoIndex(index_dir) as ix:
        assert not ix.dictionary_changed()
        assert ix.searcher().document_number(id="wire-1") is not None
        assert search(ix, "李家超").searched_as == ("李家超",)


def test_user_dictionary_given_from_outside_is_kept_in_the_index(tmp_path: Path) -> None:
    words = tmp_path / "names.txt"
    words.write_text("# people\n李家超 100 nr\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    build([write_jsonl(tmp_path / "n.jsonl", [STORY])], index_dir, userdict=words)
    assert (index_dir / "userdict.txt").read_text(encoding="utf-8") == "# people\n李家超 100 nr\n"
    assert verify(index_dir).problems == ()
    with QiaoIndex(index_dir) as ix:
        assert (stats(ix)["dictionary_changed"], search(ix, "李家超").searched_as) == (False, ("李家超",))


def test_user_dictionary_given_from_outside_keeps_a_different_one_aside(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / "userdict.txt").write_text("袁家军 100 nr\n", encoding="utf-8")
    words = tmp_path / "names.txt"
    words.write_text("李家超 100 nr\n", encoding="utf-8")
    build([write_jsonl(tmp_path / "n.jsonl", [STORY])], index_dir, userdict=words)
    assert (index_dir / "userdict.txt").read_text(encoding="utf-8") == "李家超 100 nr\n"
    assert (index_dir / "userdict.txt.previous").read_text(encoding="utf-8") == "袁家军 100 nr\n"


def test_rebuild_refuses_to_drop_articles_added_since_the_last_build(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "news.jsonl", [STORY])
    index_dir = tmp_path / "index"
    build([data], index_dir)
    add_articles([Article(id="posted-1", title="澳门新闻", body="澳门特区政府公布新措施。")], index_dir)
    with pytest.raises(BuildRefused) as refused:
        build([data], index_dir)
    assert refused.value.message == (
        f"1 articles added to {index_dir} since its last build (by add, watch or the API) are not in these "
        "inputs, e.g. posted-1; the index is unchanged. Add their files to the build, or run it again with "
        "--drop-added to drop them."
    )
    assert count(index_dir) == 2
    assert [g.name for g in index_dir.glob("gen-*")] == [current_generation(index_dir).name]


def test_rebuild_with_drop_added_drops_them_and_says_so(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "news.jsonl", [STORY])
    index_dir = tmp_path / "index"
    build([data], index_dir)
    add_articles([Article(id="posted-1", title="澳门新闻", body="澳门特区政府公布新措施。")], index_dir)
    summary = build([data], index_dir, drop_added=True)
    assert (summary.indexed, summary.dropped, count(index_dir)) == (1, Dropped(added=("posted-1",)), 1)


def test_rebuild_reports_articles_whose_input_is_gone(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([write_jsonl(tmp_path / "news.jsonl", [STORY, {**STORY, "id": "wire-2"}])], index_dir)
    summary = build([write_jsonl(tmp_path / "news.jsonl", [STORY])], index_dir)
    assert (summary.dropped, count(index_dir)) == (Dropped(built=("wire-2",)), 1)


def test_an_article_rebuilt_from_its_input_is_not_dropped(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "news.jsonl", [STORY])
    index_dir = tmp_path / "index"
    build([SEED_ARTICLE], index_dir)
    add([data], index_dir)
    summary = build([SEED_ARTICLE, data], index_dir)
    assert (summary.dropped, count(index_dir)) == (Dropped(), 2)


@pytest.mark.parametrize("inside", [".", "index", "sub/index"])
def test_build_refuses_an_index_inside_an_input_folder(tmp_path: Path, inside: str) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    write_jsonl(folder / "news.jsonl", [STORY])
    with pytest.raises(BuildRefused, match=r"is inside the input folder .*; choose an --index outside"):
        build([folder], folder / inside)
    assert sorted(p.name for p in folder.rglob("*")) == ["news.jsonl"]


def test_an_index_among_the_input_is_skipped_never_read(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    write_jsonl(folder / "news.jsonl", [STORY])
    old_index = folder / "old-index"
    build([SEED_ARTICLE], old_index, userdict=write_jsonl(tmp_path / "words.txt", []))
    summary = build([folder], tmp_path / "index")
    assert summary.indexed == 1
    assert [(s.path, s.reason) for s in summary.skipped] == [(str(old_index), "a Qiao index, not articles")]
    summary = build([current_generation(old_index)], tmp_path / "index")
    assert [(s.path, s.reason) for s in summary.skipped] == [
        (str(current_generation(old_index)), "a Qiao index, not articles"),
    ]


def test_stats_counts_by_language_and_source(seeds_index_dir: Path) -> None:
    with QiaoIndex(seeds_index_dir) as ix:
        data = stats(ix)
    assert data["documents"] == 846
    assert data["by_lang"] == {"en": 446, "zh-Hans": 300, "zh-Hant": 100}
    assert data["by_source"]["蘋果日報"] == 100
    assert data["segmenter"] == "rjieba"


def test_the_same_id_twice_in_one_add_keeps_one_article_the_last(small_index: Path, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "n.jsonl", [STORY, {**STORY, "title": "第二版"}])
    assert [o.status for o in add([data], small_index).outcomes] == ["added", "updated"]
    with QiaoIndex(small_index) as ix:
        assert [h.title for h in search(ix, "李家超", xlang=False).hits] == ["第二版"]


def test_many_small_adds_merge_their_segments(small_index: Path, tmp_path: Path) -> None:
    # Each add commits a segment; Whoosh merges the small ones, copying every posting, including
    # those kept in the term dictionary (words of one article) of frequency-only fields.
    lines = (SEED_ARTICLE.parent / "zh-news.jsonl").read_text(encoding="utf-8").splitlines()[:120]
    for n in range(12):
        batch = tmp_path / f"batch-{n}.jsonl"
        batch.write_text("\n".join(lines[n * 10 : n * 10 + 10]) + "\n", encoding="utf-8")
        assert add([batch], small_index).counts() == {"added": 10}
    with QiaoIndex(small_index) as ix:
        assert ix.searcher().doc_count() == 121
        assert len(ix.searcher().reader().leaf_readers()) < 12
        first = json.loads(lines[0])
        assert first["title"] in [h.title for h in search(ix, first["title"]).hits]


def test_an_index_opens_from_a_path_given_as_a_string(small_index: Path) -> None:
    with QiaoIndex(str(small_index)) as ix:
        assert (ix.index_dir, [h.id for h in search(ix, "Chongqing").hits]) == (small_index, [SEED_ARTICLE.name])
