"""The worker processes, and the steps of the main run that start them.

Every index build, query run and cold start runs in its own process (``python bench/run.py _build
...``), so memory is measured per engine: ``internal`` is what such a process runs, ``measure_*``
start them from the main run.
"""

from __future__ import annotations

import collections
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from measure import (
    ROOT,
    RUN_SCRIPT,
    dir_size,
    latency_summary,
    percentile,
    qiao_executable,
    run_worker,
)

COLD_QUERIES = {"zh": "香港 经济", "en": "oil prices"}


# --- in the worker process ------------------------------------------------------------------------


def worker_build(engine: str, input_path: Path, index_dir: Path, lang: str) -> dict:
    """Build one engine's index, timing input reading, analysis, writing and the commit."""
    from engines import BUILDERS

    started = time.perf_counter()
    n = BUILDERS[engine](input_path, index_dir, lang)
    return {"articles": n, "seconds": time.perf_counter() - started}


def worker_query(engine: str, index_dir: Path, queries_path: Path, rounds: int) -> dict:
    """Answer every query once to warm up, then ``rounds`` more times, timing each."""
    from engines import SEARCHERS, AnswerError

    queries = json.loads(queries_path.read_text(encoding="utf-8"))
    started = time.perf_counter()
    run = SEARCHERS[engine](index_dir)
    opened = time.perf_counter() - started
    errors: collections.Counter = collections.Counter()

    def answer(q: dict) -> tuple[int | str, float]:
        t = time.perf_counter()
        try:
            hits = run(q)
        except AnswerError as e:
            errors[str(e)] += 1
            hits = str(e)
        return hits, (time.perf_counter() - t) * 1000

    first = {q["n"]: answer(q) for q in queries}
    latencies: dict[int, list[float]] = {q["n"]: [] for q in queries}
    for _ in range(rounds):
        for q in queries:
            latencies[q["n"]].append(answer(q)[1])
    return {"open_s": opened, "hits": {n: hits for n, (hits, _) in first.items()},
            "first_ms": {n: ms for n, (_, ms) in first.items()}, "latencies_ms": latencies,
            "errors": dict(errors)}


def worker_cold(engine: str, index_dir: Path, query_json: str) -> dict:
    """Open the index and answer one query (the peers' cold start; Qiao's is its CLI)."""
    from engines import SEARCHERS

    run = SEARCHERS[engine](index_dir)
    return {"hits": run(json.loads(query_json))}


def worker_profile_query(index_dir: Path, queries_path: Path, out: Path) -> dict:
    """cProfile of Qiao's search over the queries."""
    from profiling import profile_queries

    return profile_queries(index_dir, queries_path, out)


WORKERS = {  # sub-command: (what it runs, how its arguments are read)
    "_build": (worker_build, (str, Path, Path, str)),
    "_query": (worker_query, (str, Path, Path, int)),
    "_cold": (worker_cold, (str, Path, str)),
    "_profile_query": (worker_profile_query, (Path, Path, Path)),
}


def internal(argv: list[str]) -> int:
    """The sub-commands that run in their own process: _build, _query, _cold, _profile_query."""
    command, *rest = argv
    result_path = None
    if "--result" in rest:
        i = rest.index("--result")
        result_path = Path(rest[i + 1])
        rest = rest[:i] + rest[i + 2:]
    if command not in WORKERS:
        raise SystemExit(f"unknown internal command {command}")
    work, types = WORKERS[command]
    result = work(*(kind(arg) for kind, arg in zip(types, rest, strict=True)))
    if result_path is not None:
        result_path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


# --- in the main run --------------------------------------------------------------------------------


def measure_builds(engines: list[str], datasets: dict, work: Path) -> dict:
    """Build every engine's index of every dataset, one process each."""
    results: dict[str, dict] = {e: {} for e in engines}
    for name, ds in datasets.items():
        for engine in engines:
            index_dir = work / "indexes" / engine / name
            print(f"  build {engine:<8} {name:<16}", end=" ", flush=True)
            r = run_worker(["_build", engine, ds["path"], str(index_dir), ds["lang"]])
            r["index_dir"] = str(index_dir)
            r["index_bytes"] = dir_size(index_dir)
            r["articles_per_s"] = r["articles"] / r["seconds"]
            r["mb_per_s"] = ds["text_bytes"] / 1e6 / r["seconds"]
            r["size_ratio"] = r["index_bytes"] / ds["text_bytes"]
            results[engine][name] = r
            print(f"{r['articles']:>6} articles {r['seconds']:7.1f} s {r['articles_per_s']:7.0f}/s "
                  f"{r['mb_per_s']:5.2f} MB/s  peak {r['peak_rss_mb']:5.0f} MB  "
                  f"index {r['index_bytes'] / 1e6:6.1f} MB ({r['size_ratio']:.2f}x text)", flush=True)
    return results


def measure_queries(engines: list[str], queries: list[dict], targets: dict[str, str],
                    builds: dict, work: Path, rounds: int) -> dict:
    """In-process latency of every query, per engine, each corpus's queries on its index."""
    subsets = {corpus: [q for q in queries if q["corpus"] == corpus] for corpus in targets}
    for corpus, subset in subsets.items():
        (work / f"queries-{corpus}.json").write_text(json.dumps(subset, ensure_ascii=False), encoding="utf-8")
    out: dict[str, dict] = {}
    for engine in engines:
        runs = {}
        for corpus, dataset in targets.items():
            print(f"  query {engine:<8} {len(subsets[corpus])} {corpus} queries on {dataset}", end=" ", flush=True)
            runs[corpus] = run_worker(["_query", engine, builds[engine][dataset]["index_dir"],
                                       str(work / f"queries-{corpus}.json"), str(rounds)])
            values = _latencies(runs[corpus])
            print(f"p50 {percentile(values, 50):7.1f} ms  p95 {percentile(values, 95):7.1f} ms"
                  + (f"  errors {runs[corpus]['errors']}" if runs[corpus]["errors"] else ""), flush=True)
        out[engine] = _query_summary(runs)
    return out


def _latencies(run: dict) -> list[float]:
    """Every timed answer of a query worker, in milliseconds."""
    return [v for vs in run["latencies_ms"].values() for v in vs]


def _query_summary(runs: dict[str, dict]) -> dict:
    """One engine's query runs (one per corpus) summed up: latencies overall and by corpus, hits, errors."""
    errors: collections.Counter = collections.Counter()
    for r in runs.values():
        errors.update(r["errors"])
    return {**latency_summary([v for r in runs.values() for v in _latencies(r)]),
            "by_corpus": {c: latency_summary(_latencies(r)) for c, r in runs.items()},
            "hits": {int(k): v for r in runs.values() for k, v in r["hits"].items()},
            "errors": dict(errors), "peak_rss_mb": max((r["peak_rss_mb"] for r in runs.values()), default=0.0)}


def measure_cold(engines: list[str], builds: dict, zh: str, en: str, runs: int) -> dict:
    """Process start to first answered query: median of ``runs`` fresh processes, after one untimed."""
    from queries import query_spec

    datasets = {"zh": zh, "en": en}
    out: dict[str, dict] = {}
    for engine in engines:
        out[engine] = {}
        for case, query in COLD_QUERIES.items():
            index_dir = builds[engine][datasets[case]]["index_dir"]
            if engine == "qiao":
                cmd = [qiao_executable(), "search", query, "--index", index_dir, "--json"]
            else:
                spec = json.dumps(query_spec(query), ensure_ascii=False)
                cmd = [sys.executable, str(RUN_SCRIPT), "_cold", engine, index_dir, spec]
            times = _cold_times(cmd, runs)
            out[engine][case] = {"query": query, "index": datasets[case], "median_s": statistics.median(times),
                                 "runs_s": times}
            print(f"  cold  {engine:<8} {case} {query!r:<14} median {statistics.median(times):.2f} s", flush=True)
    return out


def _cold_times(cmd: list[str], runs: int) -> list[float]:
    """Seconds of ``runs`` runs of a command, after one untimed."""
    times = []
    for i in range(runs + 1):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        if i:
            times.append(time.perf_counter() - t)
    return times
