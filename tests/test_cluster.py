"""Qiao on Ray: a sharded build by Ray tasks and searches through Ray shard actors, on a real
cluster of two nodes on this machine (``ray_cluster``), against the in-process build and search.

Every test here starts Ray processes, so all are in the system tier.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import pytest
import whoosh.index
from markupsafe import escape

from search.errors import QueryError, ShardUnavailable
from search.generations import current_generation
from search.index import QiaoIndex, add_articles, build, stats, verify
from search.options import SearchOptions
from search.query.search import get_article, search
from search.shards import Manifest, shard_dirs, shard_of
from web import create_app

from .conftest import (
    SEEDS,
    SMALL,
    qiao_command,
    qiao_serve,
    record_ids,
    wire_copies,
    write_jsonl,
)
from .test_shards import QUERIES, SHARDS
from .test_stories import QUERY

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def in_process_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds in 4 shards, built by local processes."""
    index_dir = tmp_path_factory.mktemp("in-process")
    build([SEEDS], index_dir, shards=SHARDS)
    return index_dir


@pytest.fixture(scope="module")
def ray_built_dir(tmp_path_factory: pytest.TempPathFactory, ray_cluster: str) -> Path:
    """The seeds in 4 shards, built on the Ray cluster by ``qiao index build --ray``."""
    index_dir = tmp_path_factory.mktemp("ray-built") / "index"
    done = subprocess.run([*qiao_command(), "index", "build", str(SEEDS), "--index", str(index_dir),
                           "--shards", str(SHARDS), "--ray", ray_cluster],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("indexed 846 articles"), done.stdout
    return index_dir


@pytest.fixture(scope="module")
def actors(ray_built_dir: Path, ray_cluster: str):
    """Two copies of each shard of the Ray-built index as Ray actors; this process coordinates."""
    from search.cluster import ClusterIndex, stop_actors

    index = ClusterIndex(ray_built_dir, ray_cluster, replicas=2)
    index.wait_ready(120)
    yield index
    stop_actors(ray_built_dir)


def _shard_contents(index_dir: Path) -> list[list[tuple[str, str, str]]]:
    """Each shard's (id, content hash, story) in document order."""
    found = []
    for folder in shard_dirs(current_generation(index_dir)):
        ix = whoosh.index.open_dir(folder)
        with ix.searcher() as searcher:
            found.append([(f["id"], f["content_hash"], f["story"]) for f in searcher.all_stored_fields()])
        ix.close()
    return found


def test_a_ray_build_equals_the_in_process_build(ray_built_dir: Path, in_process_dir: Path) -> None:
    assert _shard_contents(ray_built_dir) == _shard_contents(in_process_dir)
    got, want = (Manifest.read(current_generation(d)) for d in (ray_built_dir, in_process_dir))
    assert [(s.name, s.articles) for s in got.shards] == [(s.name, s.articles) for s in want.shards]
    assert all(len(s.checksum) == 64 for s in got.shards)
    assert verify(ray_built_dir).problems == ()


def _comparable(result: dict) -> dict:
    """A search's JSON without its time and its did-you-mean (not served through actors yet)."""
    return {k: v for k, v in result.items() if k not in ("processing_time_ms", "suggestion")}


def _assert_same(got: dict, want: dict) -> None:
    """Two searches' JSON alike: the same hits in the same order, scores to 1e-9, the rest equal."""
    assert [h["score"] for h in got["hits"]] == pytest.approx([h["score"] for h in want["hits"]], abs=1e-9)
    strip = [{**h, "score": None} for h in got["hits"]], [{**h, "score": None} for h in want["hits"]]
    assert strip[0] == strip[1]
    assert {**_comparable(got), "hits": None} == {**_comparable(want), "hits": None}


@pytest.mark.parametrize("options", QUERIES, ids=lambda o: " ".join(f"{k}={v}" for k, v in o.items()))
def test_searches_through_shard_actors_equal_in_process(actors, in_process_dir: Path, options: dict) -> None:
    asked = SearchOptions(**{"per_page": 50, "xlang": False, **options})  # actors do not bridge languages yet
    with QiaoIndex(in_process_dir) as local:
        want = search(local, asked).to_dict()
    _assert_same(search(actors, asked).to_dict(), want)


def test_through_shard_actors_a_query_is_searched_as_typed(actors, in_process_dir: Path) -> None:
    """The bridge needs the shards' lexicons, which no round asks the actors for yet: through Ray
    a search is monolingual, as with xlang off in process, and lists no translations."""
    with QiaoIndex(in_process_dir) as local:
        bridged = search(local, SearchOptions(q="Chongqing", per_page=50)).to_dict()
        typed = search(local, SearchOptions(q="Chongqing", per_page=50, xlang=False)).to_dict()
    got = search(actors, SearchOptions(q="Chongqing", per_page=50)).to_dict()
    assert bridged["translations"] and bridged["total_hits"] > typed["total_hits"]
    _assert_same(got, typed)
    assert got["translations"] == []


def test_a_story_in_three_shards_collapses_through_shard_actors_as_in_process(tmp_path: Path, ray_cluster: str) -> None:
    from search.cluster import ClusterIndex, stop_actors

    copies = record_ids(wire_copies())
    assert sorted(shard_of(i, SHARDS) for i in copies) == [1, 2, 3]
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SEEDS / "zh-news.jsonl", folder / "zh-news.jsonl")
    write_jsonl(folder / "copies.jsonl", wire_copies()[1:])
    build([folder], tmp_path / "local", shards=SHARDS)
    build([folder], tmp_path / "ray", shards=SHARDS, cluster=ray_cluster)
    assert _shard_contents(tmp_path / "ray") == _shard_contents(tmp_path / "local")
    index = ClusterIndex(tmp_path / "ray", ray_cluster, replicas=1)
    index.wait_ready(120)
    try:
        got = search(index, QUERY, per_page=50)
        story = [h for h in got.hits if h.id in copies]
        assert [(h.similar.count, {h.id, *h.similar.ids}) for h in story] == [(2, set(copies))]
        assert got.total_articles == got.total_hits + 2
        with QiaoIndex(tmp_path / "local") as local:
            for options in ({}, {"sort": "date"}, {"collapse": False}):
                asked = SearchOptions(q=QUERY, per_page=50, xlang=False, **options)
                _assert_same(search(index, asked).to_dict(), search(local, asked).to_dict())
    finally:
        stop_actors(tmp_path / "ray")


@pytest.mark.parametrize("options", QUERIES[:4], ids=lambda o: " ".join(f"{k}={v}" for k, v in o.items()))
def test_one_shard_of_several_segments_through_an_actor_equals_in_process(
    seeds_index_dir: Path, seeds: QiaoIndex, ray_cluster: str, options: dict,
) -> None:
    from search.cluster import ClusterIndex, stop_actors

    assert len(seeds.searcher().leaf_searchers()) > 1  # the build's writer processes made a segment each
    index = ClusterIndex(seeds_index_dir, ray_cluster, replicas=1)
    index.wait_ready(120)
    try:
        _assert_same(search(index, **options).to_dict(), search(seeds, xlang=False, **options).to_dict())
    finally:
        stop_actors(seeds_index_dir)


def test_articles_and_stats_through_shard_actors(actors, in_process_dir: Path) -> None:
    with QiaoIndex(in_process_dir) as local:
        want_article = get_article(local, "en-bbc/business/004.txt", q="economy")
        want_stats = stats(local)
    assert get_article(actors, "en-bbc/business/004.txt", q="economy") == want_article
    got_stats = stats(actors)
    for key in ("documents", "by_lang", "by_source"):
        assert got_stats[key] == want_stats[key]


def test_a_killed_replica_is_replaced_while_searches_answer(actors, in_process_dir: Path) -> None:
    import ray

    with QiaoIndex(in_process_dir) as local:
        want = search(local, "香港 经济", xlang=False).to_dict()
    victim = actors.actors[1][0]
    pid = ray.get(victim.pid.remote(), timeout=30)
    os.kill(pid, signal.SIGKILL)
    for _ in range(4):  # every copy in turn is asked first: the dead one's calls go to the other
        _assert_same(search(actors, "香港 经济").to_dict(), want)
    deadline = time.monotonic() + 60
    while True:  # Ray restarts the killed copy: the same actor, a new process
        try:
            restarted = ray.get(victim.pid.remote(), timeout=5)
            break
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError, ray.exceptions.GetTimeoutError):
            assert time.monotonic() < deadline, "the killed shard actor was not restarted within 60 s"
            time.sleep(0.5)
    assert restarted != pid
    assert ray.get(victim.doc_count.remote(), timeout=30) == ray.get(actors.actors[1][1].doc_count.remote(), timeout=30)
    _assert_same(search(actors, "香港 经济").to_dict(), want)


@pytest.fixture
def lone_copies(ray_built_dir: Path, tmp_path: Path, ray_cluster: str):
    """A copy of the Ray-built index served by one actor a shard; its actors ended at the end."""
    from search.cluster import ClusterIndex, stop_actors

    index_dir = tmp_path / "index"
    shutil.copytree(ray_built_dir, index_dir, symlinks=True)
    index = ClusterIndex(index_dir, ray_cluster, replicas=1)
    index.wait_ready(120)
    yield index
    stop_actors(index_dir)


def test_a_shard_with_no_copy_alive_fails_the_search_with_a_clear_error(lone_copies, ray_cluster: str) -> None:
    import ray

    app = create_app({"INDEX_DIR": lone_copies.index_dir, "RAY_ADDRESS": ray_cluster, "REPLICAS": 1})
    client = app.test_client()  # its coordinator finds the same actors by their names
    assert client.get("/api/search?q=香港").get_json()["total_hits"] == search(lone_copies, "香港").total_hits > 0
    ray.kill(lone_copies.actors[2][0], no_restart=True)
    with pytest.raises(ShardUnavailable, match=r"no copy of shard-02 answers \(1 tried\)"):
        search(lone_copies, "香港")
    answer = client.get("/api/search?q=经济")  # not 香港, whose answer the app keeps
    assert answer.status_code == 503
    assert answer.get_json() == {"ok": False, "status": 503, "error": {
        "code": "shard_unavailable", "message": "no copy of shard-02 answers (1 tried)"}}


def test_an_added_article_is_found_through_the_shard_actors(lone_copies) -> None:
    article = replace(SMALL[1], id="added-through-ray", title="Zyzzogeton markets rally")
    before = lone_copies.state()
    assert search(lone_copies, "zyzzogeton").total_hits == 0
    assert [o.status for o in add_articles([article], lone_copies.index_dir).outcomes] == ["added"]
    assert lone_copies.state() != before  # a cache keyed by it misses
    assert [h.id for h in search(lone_copies, "zyzzogeton").hits] == ["added-through-ray"]


def test_what_ray_does_not_serve_yet_is_a_clear_error(lone_copies, ray_cluster: str) -> None:
    client = create_app({"INDEX_DIR": lone_copies.index_dir, "RAY_ADDRESS": ray_cluster, "REPLICAS": 1}).test_client()
    for url in ("/api/suggest?q=香", "/api/articles/en-bbc/business/004.txt/related"):
        answer = client.get(url)
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (501, "not_served_by_ray")
    page = client.get("/articles/en-bbc/business/004.txt")  # the article, without its related ones
    title = get_article(lone_copies, "en-bbc/business/004.txt")["title"]
    assert page.status_code == 200 and str(escape(title)) in page.get_data(as_text=True)


def test_a_search_over_its_budget_fails_with_a_clear_error(lone_copies) -> None:
    lone_copies.seconds = 0.0  # no shard can answer within it
    with pytest.raises(QueryError, match="shard-00, shard-01, shard-02, shard-03 did not answer in time") as raised:
        search(lone_copies, "香港")
    assert raised.value.code == "query_timeout"


def test_a_killed_ray_build_leaves_the_old_index_live(in_process_dir: Path, tmp_path: Path, ray_cluster: str) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(in_process_dir, index_dir, symlinks=True)
    live = current_generation(index_dir)
    builder = subprocess.Popen([*qiao_command(), "index", "build", str(SEEDS), "--index", str(index_dir),
                                "--shards", str(SHARDS), "--ray", ray_cluster],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not any((gen / "shard-00").exists() for gen in index_dir.glob("gen-*") if gen != live):
            assert builder.poll() is None and time.monotonic() < deadline, "no shard task started"
            time.sleep(0.1)
    finally:
        builder.kill()
        builder.wait(timeout=30)
    assert current_generation(index_dir) == live
    with QiaoIndex(index_dir) as ix:
        assert search(ix, "香港").total_hits == search_total(in_process_dir, "香港")


def search_total(index_dir: Path, q: str) -> int:
    """The total hits of ``q`` in the index ``index_dir``."""
    with QiaoIndex(index_dir) as ix:
        return search(ix, q).total_hits


def test_qiao_serve_on_ray_answers_as_in_process(
    ray_built_dir: Path, in_process_dir: Path, tmp_path: Path, ray_cluster: str,
) -> None:
    import ray

    from search.cluster import NAMESPACE

    index_dir = tmp_path / "index"  # a copy: its actors are the server's own, not the module's
    shutil.copytree(ray_built_dir, index_dir, symlinks=True)
    with qiao_serve(index_dir, "--ray", ray_cluster, "--replicas", "2", "--workers", "1") as (_, url):
        for options in ({"q": "Hong Kong protest"}, {"q": "香港 经济", "sort": "date"}, {"q": "", "source": "新浪"}):
            with urllib.request.urlopen(f"{url}/api/search?{urlencode(options)}", timeout=30) as answer:
                got = json.load(answer)
            with QiaoIndex(in_process_dir) as local:
                _assert_same(got, search(local, xlang=False, **options).to_dict())
    prefix = f"{index_dir.resolve()}:"
    left = [a for a in ray.util.list_named_actors(all_namespaces=True)
            if a["namespace"] == NAMESPACE and a["name"].startswith(prefix)]
    assert left == []  # the server ended its shard actors when it stopped
