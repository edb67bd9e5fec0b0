"""Shards: routing by id, a build of S shards, writes to the owning shard, search over shards.

The seeds split into 4 shards give the results of the one-piece index: the same ids, scores
(to 1e-9), totals, facet counts and fallbacks. Ties are the one freedom: hits of equal score
(or date) come in document-number order, and the numbers of a sharded index differ.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import whoosh.index
from click.testing import CliRunner

from search import shard_build
from search.cli import main
from search.errors import QiaoError
from search.generations import current_generation
from search.index import QiaoIndex, add_articles, build, delete, stats, verify
from search.query.search import search
from search.shards import Manifest, is_sharded, shard_dirs, shard_of
from search.stories import Story
from search.writing import content_hash, to_document

from .conftest import SEEDS, SMALL

SHARDS = 4
IDS = [f"article-{n}" for n in range(200)] + ["重庆与香港", "en-bbc/tech/047.txt", ""]
# Queries of every kind a search takes: words, Chinese words, filters, dates, date order,
# an OR fallback, a question (five words or more: ranked with feedback), pages, exclusions,
# oldest first, relevance with recency, dates in words.
QUERIES = [
    {"q": "香港"},
    {"q": "Hong Kong protest"},
    {"q": "economy", "lang": "en"},
    {"q": "香港 经济", "sort": "date"},
    {"q": "", "source": "新浪"},
    {"q": "", "lang": "en", "sort": "date"},
    {"q": "中国 xyzzyq"},
    {"q": "quarterly dividend"},
    {"q": "what did the government say about the economy this year"},
    {"q": "how are hospitals and doctors coping with the virus outbreak"},
    {"q": "中国", "page": 2, "per_page": 10},
    {"q": "economy", "date_from": "2020", "date_to": "2023"},
    {"q": "trade -china", "lang": "en"},
    {"q": '"Hong Kong"'},
    {"q": "title:香港"},
    {"q": "重庆"},
    {"q": "election", "sort": "date"},
    {"q": "Hong Kong cooperation"},  # translated: synonym sets, their document frequencies summed over shards
    {"q": "香港 合作 OR 网络"},
    {"q": "Brazil", "xlang": False},
    {"q": "election", "sort": "date_asc"},
    {"q": "", "lang": "zh", "sort": "date_asc"},
    {"q": "香港", "sort": "relevance_recent"},
    {"q": "Hong Kong protest", "sort": "relevance_recent"},
    {"q": "中国", "sort": "relevance_recent", "page": 3, "per_page": 10},
    {"q": "香港 2023年10月"},
    {"q": "economy last year", "sort": "relevance_recent"},
]


def test_routing_is_blake2b_of_the_id_modulo_the_shards() -> None:
    import hashlib

    for article_id in IDS:
        digest = hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest()
        assert shard_of(article_id, SHARDS) == int.from_bytes(digest, "big") % SHARDS
        assert shard_of(article_id, 1) == 0
    assert {shard_of(i, SHARDS) for i in IDS} == set(range(SHARDS))


@pytest.mark.system
def test_routing_is_the_same_in_another_process() -> None:
    code = "import sys; from search.shards import shard_of; print([shard_of(i, 4) for i in sys.argv[1:]])"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, *IDS], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == str([shard_of(i, SHARDS) for i in IDS])


# The tests over the seeds in 4 shards are in the system tier: building the seeds a second time
# costs about 14 s of CPU, a quarter of the fast tier's budget.
@pytest.fixture(scope="module")
def sharded_seeds_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds built into 4 shards."""
    index_dir = tmp_path_factory.mktemp("sharded-seeds")
    build([SEEDS], index_dir, shards=SHARDS)
    return index_dir


@pytest.mark.system
def test_a_sharded_build_has_a_manifest_and_every_article_in_its_shard(sharded_seeds_dir: Path) -> None:
    gen_dir = current_generation(sharded_seeds_dir)
    manifest = Manifest.read(gen_dir)
    assert len(manifest.shards) == SHARDS and manifest.routing == "blake2b-64(id) mod S"
    for shard, folder in enumerate(shard_dirs(gen_dir)):
        ix = whoosh.index.open_dir(folder)
        with ix.searcher() as searcher:
            ids = [fields["id"] for fields in searcher.all_stored_fields()]
        assert len(ids) == manifest.shards[shard].articles
        assert all(shard_of(i, SHARDS) == shard for i in ids)
    assert verify(sharded_seeds_dir).ok


@pytest.mark.system
def test_sharded_stats_count_every_shard(sharded_seeds_dir: Path, seeds: QiaoIndex) -> None:
    with QiaoIndex(sharded_seeds_dir) as sharded:
        got, want = stats(sharded), stats(seeds)
    for key in ("documents", "by_lang", "by_source"):
        assert got[key] == want[key]


@pytest.mark.system
@pytest.mark.parametrize("options", QUERIES, ids=lambda o: " ".join(f"{k}={v}" for k, v in o.items()))
def test_four_shards_answer_as_one_index(sharded_seeds_dir: Path, seeds: QiaoIndex, options: dict) -> None:
    per_page = options.get("per_page", 100)
    with QiaoIndex(sharded_seeds_dir) as sharded:
        got = search(sharded, **{**options, "per_page": per_page})
    want = search(seeds, **{**options, "per_page": per_page})
    assert (got.total_hits, got.fallback, got.facets) == (want.total_hits, want.fallback, want.facets)
    assert [h.score for h in got.hits] == pytest.approx([h.score for h in want.hits], abs=1e-9)
    by_date = options.get("sort") in ("date", "date_asc", "relevance_recent") or not options["q"]
    assert _by_ties(got.hits, by_date) == _by_ties(want.hits, by_date)


def _by_ties(hits: tuple, by_date: bool) -> list[object]:
    """The ids of hits, those of equal score (and date, in date order) as a set; the last group,
    which the page may cut, as its size."""
    groups: list[tuple[tuple[float, str | None], set[str]]] = []
    for hit in hits:
        key = (round(hit.score, 9), hit.published if by_date else None)
        if groups and groups[-1][0] == key:
            groups[-1][1].add(hit.id)
        else:
            groups.append((key, {hit.id}))
    return [ids for _, ids in groups[:-1]] + [len(ids) for _, ids in groups[-1:]]


@pytest.fixture
def sharded_small_dir(tmp_path: Path) -> Path:
    """An index of 4 shards holding the SMALL articles, added after an empty build."""
    index_dir = tmp_path / "sharded"
    build([], index_dir, shards=SHARDS)
    add_articles(SMALL, index_dir)
    return index_dir


@pytest.mark.parametrize("options", [
    {"q": "Hong Kong"}, {"q": "香港"}, {"q": "", "lang": "en", "sort": "date"}, {"q": "重庆 Macau"},
    {"q": "Hong Kong", "sort": "relevance_recent"}, {"q": "", "lang": "en", "sort": "date_asc"},
], ids=str)
def test_shards_some_of_them_empty_answer_as_one_index(
    sharded_small_dir: Path, small_index_dir: Path, options: dict,
) -> None:
    with QiaoIndex(sharded_small_dir) as sharded, QiaoIndex(small_index_dir) as one:
        got, want = search(sharded, **options), search(one, **options)
    assert [h.id for h in got.hits] == [h.id for h in want.hits]
    assert [h.score for h in got.hits] == pytest.approx([h.score for h in want.hits], abs=1e-9)
    assert (got.total_hits, got.fallback, got.facets) == (want.total_hits, want.fallback, want.facets)


def _shard_ids(index_dir: Path) -> list[set[str]]:
    """The ids in each shard of the live generation."""
    found = []
    for folder in shard_dirs(current_generation(index_dir)):
        ix = whoosh.index.open_dir(folder)
        with ix.searcher() as searcher:
            found.append({fields["id"] for fields in searcher.all_stored_fields()})
        ix.close()
    return found


def test_adds_and_deletes_land_in_the_owning_shard(sharded_small_dir: Path) -> None:
    ids = [article.id for article in SMALL]
    for shard, found in enumerate(_shard_ids(sharded_small_dir)):
        assert found == {i for i in ids if shard_of(i, SHARDS) == shard}
    again = add_articles([SMALL[0], replace(SMALL[1], title="Markets fall")], sharded_small_dir)
    assert [(o.id, o.status) for o in again.outcomes] == [("cq-hk", "unchanged"), ("hk-en", "updated")]
    gone = delete(["evil", "no-such-id"], sharded_small_dir)
    assert [(o.id, o.status) for o in gone.outcomes] == [("evil", "deleted"), ("no-such-id", "not_found")]
    assert set().union(*_shard_ids(sharded_small_dir)) == {"cq-hk", "hk-en"}
    with QiaoIndex(sharded_small_dir) as ix:
        hits = search(ix, "markets").hits
        assert [(h.id, h.title) for h in hits] == [("hk-en", "Markets fall")]


def _fail_in_shard_two(folder: Path, *args: object) -> object:
    """A shard task that fails for shard-02 (run in the build's worker processes)."""
    if folder.name == "shard-02":
        raise RuntimeError("shard task failed")
    return BUILD_SHARD(folder, *args)


BUILD_SHARD = shard_build.build_shard


@pytest.mark.parametrize("before", [1, SHARDS])
def test_a_build_failing_in_one_shard_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: int,
) -> None:
    index_dir = tmp_path / "index"
    build([], index_dir, shards=before)
    add_articles(SMALL, index_dir)
    live = current_generation(index_dir)
    monkeypatch.setattr(shard_build, "build_shard", _fail_in_shard_two)
    with pytest.raises(RuntimeError, match="shard task failed"):
        build([SEEDS / "chongqing-hong-kong-2023-05-11.txt"], index_dir, shards=SHARDS, drop_added=True)
    assert current_generation(index_dir) == live
    assert sorted(p.name for p in index_dir.glob("gen-*")) == [live.name]
    assert is_sharded(live) == (before > 1)
    with QiaoIndex(index_dir) as ix:
        assert search(ix, "Hong Kong", xlang=False).total_hits == 2


def test_a_sharded_rebuild_refuses_to_drop_added_articles(sharded_small_dir: Path) -> None:
    with pytest.raises(QiaoError, match="added to"):
        build([SEEDS / "chongqing-hong-kong-2023-05-11.txt"], sharded_small_dir, shards=SHARDS)


def test_the_cli_takes_the_shard_count_from_qiao_shards(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    runner = CliRunner()
    built = runner.invoke(main, ["index", "build", str(SEEDS / "chongqing-hong-kong-2023-05-11.txt"),
                                 "--index", str(index_dir)], env={"QIAO_SHARDS": "3"})
    assert built.exit_code == 0, built.output
    assert len(Manifest.read(current_generation(index_dir)).shards) == 3
    found = runner.invoke(main, ["search", "Chongqing", "--index", str(index_dir), "--json"])
    assert found.exit_code == 0 and '"total_hits": 1' in found.output
    one = runner.invoke(main, ["index", "build", str(SEEDS / "chongqing-hong-kong-2023-05-11.txt"),
                               "--index", str(index_dir), "--shards", "1"], env={"QIAO_SHARDS": "3"})
    assert one.exit_code == 0 and not is_sharded(current_generation(index_dir))


@pytest.fixture
def tech_in_shards(tmp_path: Path) -> Path:
    """The BBC's technology articles of the seeds built into 4 shards."""
    index_dir = tmp_path / "index"
    build([SEEDS / "en-bbc" / "tech"], index_dir, shards=SHARDS)
    return index_dir


def test_verify_finds_a_shard_whose_files_are_not_its_builds(tech_in_shards: Path) -> None:
    gen_dir = current_generation(tech_in_shards)
    assert [len(s.checksum) for s in Manifest.read(gen_dir).shards] == [64] * SHARDS
    assert verify(tech_in_shards).problems == ()
    (gen_dir / "shard-01" / "stray.seg").write_bytes(b"not the build's")
    assert verify(tech_in_shards).problems == (
        "the files of shard-01 are not those its build wrote (checksum); rebuild the index",
    )


def test_verify_finds_an_article_in_a_shard_it_does_not_route_to(tech_in_shards: Path) -> None:
    article = replace(SMALL[0], id="stray")
    wrong = (shard_of("stray", SHARDS) + 1) % SHARDS
    ix = whoosh.index.open_dir(shard_dirs(current_generation(tech_in_shards))[wrong])
    with ix.writer() as writer:
        writer.add_document(**to_document(article, content_hash(article), "add", Story(article.id)))
    ix.close()
    assert f"1 articles of shard-0{wrong} belong in another shard, e.g. 'stray'" in verify(tech_in_shards).problems


def test_a_ray_build_to_a_cluster_nobody_runs_is_a_clear_error(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    built = CliRunner().invoke(main, ["index", "build", str(SEEDS / "chongqing-hong-kong-2023-05-11.txt"),
                                      "--index", str(index_dir), "--shards", "2", "--ray", "127.0.0.1:18299"])
    assert built.exit_code == 2
    assert built.output == ("error: cannot reach the Ray cluster at 127.0.0.1:18299: Connection refused; "
                            "start it with ray start --head --port 18299, or use --ray local\n")
    assert not list(index_dir.glob("gen-*"))
