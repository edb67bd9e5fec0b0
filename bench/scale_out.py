#!/usr/bin/env python3
"""What sharding and Ray cost and give, measured in one run with its baselines (docs/scale-out.md).

Usage (from the repository root, with the project installed with the extra ``cluster``):

    python bench/scale_out.py ../shared/corpora/zh-news.jsonl --limit 5000 [--rounds 3] [--out FILE.json]

With ``--limit N`` the first N lines of the corpus are indexed. It measures, each as its own
``qiao index build`` process: a build of 1 shard and of 4 shards by local processes (wall
time, and CPU time of the build and its worker processes), and builds of 4 shards on Ray:
``--ray local`` (a Ray started and stopped by the build, as the README's command) and on a
running Ray head (started here, ``ray start --head``). The CPU of a Ray build's workers is not
counted: they are not the build's children, and Ray reaps them without adding up their time.
``--no-ray`` measures the local builds and the in-process latency only. Then query latency: the benchmark's queries (bench/queries.tsv, with their filters;
``--rounds`` times each after one warm-up round, top 10 with highlights and facets) through
``search()`` on 1 shard and on 4 shards in this process, and on 1 and 4 shards served by Ray
actors (one copy each, this process the coordinator), with the resident memory of an actor.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from queries import load_queries

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
RAY_PORT = 18260  # the head this benchmark starts (a port of this project's range)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="index the first N lines only (0: all)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the numbers as JSON here")
    parser.add_argument("--no-ray", action="store_true", help="only the local builds and in-process latency")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    with tempfile.TemporaryDirectory(prefix="qiao-scale-") as tmp:
        work = Path(tmp)
        corpus = _slice(args.corpus, args.limit, work) if args.limit else args.corpus
        report: dict[str, object] = {"corpus": str(args.corpus), "limit": args.limit, "cpus": os.cpu_count(),
                                     "loadavg_start": os.getloadavg()}
        builds = {}
        builds["S=1, local processes"] = _build(corpus, work / "s1", "--shards", "1")
        builds["S=4, local processes"] = _build(corpus, work / "s4", "--shards", "4")
        if args.no_ray:
            _print_builds(builds)
            report.update(builds=builds, latency=_latencies(work, None, args.rounds), loadavg_end=os.getloadavg())
            print(f"load average at start {report['loadavg_start']}, at end {report['loadavg_end']}")
            if args.out:
                args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
            return
        builds["S=4, Ray local (start included)"] = _build(corpus, work / "ray-local", "--shards", "4", "--ray", "local")
        head = _start_head()
        try:
            address = f"127.0.0.1:{RAY_PORT}"
            builds["S=4, running Ray head"] = _build(corpus, work / "ray-head", "--shards", "4", "--ray", address)
            report["builds"] = builds
            _print_builds(builds)
            report["latency"] = _latencies(work, address, args.rounds)
        finally:
            _stop(head)
        report["loadavg_end"] = os.getloadavg()
        print(f"load average at start {report['loadavg_start']}, at end {report['loadavg_end']}")
        if args.out:
            args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


def _slice(corpus: Path, limit: int, work: Path) -> Path:
    """The first ``limit`` lines of ``corpus``, as a file of the same name in ``work``."""
    target = work / corpus.name
    with open(corpus, encoding="utf-8") as source, open(target, "w", encoding="utf-8") as out:
        for n, line in enumerate(source):
            if n == limit:
                break
            out.write(line)
    return target


def _build(corpus: Path, index: Path, *options: str) -> dict[str, float]:
    """Run one ``qiao index build``: its wall time, the CPU time of it and the processes it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "qiao"), "index", "build", str(corpus), "--index", str(index), *options],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"build {options} failed: {done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    size = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "summary": done.stdout.strip(), "bytes": size}


def _print_builds(builds: dict[str, dict]) -> None:
    print("| build | wall s | CPU s | index MB |")
    print("|---|---|---|---|")
    for name, b in builds.items():
        if "Ray" in name:  # Ray reaps its workers without adding their time to anyone's
            cpu = f"{b['cpu_s']} (the driver; Ray's workers not counted)"
        else:
            cpu = b["cpu_s"]
        print(f"| {name} | {b['wall_s']} | {cpu} | {b['bytes'] / 1e6:.0f} |")


def _start_head() -> subprocess.Popen:
    """A Ray head on this machine (two CPUs), once it listens."""
    head = subprocess.Popen([str(BIN / "ray"), "start", "--head", "--block", f"--port={RAY_PORT}",
                             "--node-ip-address=127.0.0.1", "--include-dashboard=false", "--disable-usage-stats",
                             "--min-worker-port=20000", "--max-worker-port=20999"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", RAY_PORT), timeout=1):
                return head
        except OSError:
            if time.monotonic() > deadline:
                _stop(head)
                raise SystemExit("the Ray head did not start within 60 s") from None
            time.sleep(0.5)


def _stop(head: subprocess.Popen) -> None:
    """Stop the Ray head and everything it started."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(head.pid, sig)
        except ProcessLookupError:
            pass
        try:
            head.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def _latencies(work: Path, address: str | None, rounds: int) -> dict[str, dict]:
    """Query latency of the benchmark's queries on each layout, in this process and (with a Ray
    ``address``) through Ray actors."""
    from search.index import QiaoIndex

    queries = load_queries(HERE / "queries.tsv")
    found = {}
    for name, index_dir in (("S=1 in process", work / "s1"), ("S=4 in process", work / "s4")):
        with QiaoIndex(index_dir) as index:
            found[name] = _timed(index, queries, rounds)
    if address is not None:
        found.update(_ray_latencies(work, address, queries, rounds))
    _print_latencies(found)
    return found


def _ray_latencies(work: Path, address: str, queries: list[dict], rounds: int) -> dict[str, dict]:
    """Query latency through Ray actors, one copy of each shard, and an actor's resident memory."""
    import ray

    from search.cluster import ClusterIndex, connect, stop_actors

    found = {}
    connect(address)
    for name, index_dir in (("S=1 Ray actors", work / "s1"), ("S=4 Ray actors", work / "s4")):
        index = ClusterIndex(index_dir, address, replicas=1)
        index.wait_ready(120)
        found[name] = _timed(index, queries, rounds)
        pids = ray.get([copies[0].pid.remote() for copies in index.actors])
        found[name]["actor_rss_mb"] = [_rss_mb(pid) for pid in pids]
        stop_actors(index_dir)
    return found


def _print_latencies(found: dict[str, dict]) -> None:
    print("| layout | searches | median ms | p90 ms | p99 ms | mean ms | errors | actor RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for name, f in found.items():
        rss = ", ".join(str(r) for r in f.get("actor_rss_mb", [])) or "-"
        print(f"| {name} | {f['searches']} | {f['median']} | {f['p90']} | {f['p99']} | {f['mean']} | {f['errors']} | {rss} |")
    for name, f in found.items():
        if f["first_error"]:
            print(f"{name}: first error: {f['first_error']}")


def _timed(index: object, queries: list[dict], rounds: int) -> dict[str, float]:
    """Each query ``rounds`` times after a warm-up round: the latencies' median, p90, p99 and mean in ms."""
    from search.errors import QiaoError
    from search.query.search import search

    times, errors, first_error = [], 0, ""
    for round_ in range(rounds + 1):
        for query in queries:
            started = time.perf_counter()
            try:
                search(index, query["q"], **query["options"])
            except QiaoError as e:
                errors += round_ > 0
                first_error = first_error or f"{query['q']}: {e.code}: {e.message}"
            if round_:
                times.append((time.perf_counter() - started) * 1000)
    cut = statistics.quantiles(times, n=100)
    return {"searches": len(times), "median": round(statistics.median(times), 1), "p90": round(cut[89], 1),
            "p99": round(cut[98], 1), "mean": round(statistics.fmean(times), 1), "errors": errors,
            "first_error": first_error}


def _rss_mb(pid: int) -> int:
    """The resident memory of process ``pid`` in MB."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    return round(kb / 1024)


if __name__ == "__main__":
    main()
