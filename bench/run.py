"""Qiao's speed beside the obvious build and two fast peers, on the same corpus, in one run.

Usage (from the repository root, after ``pip install -e '.[bench]'``)::

    python bench/run.py --corpora ../shared/corpora --out docs/benchmark.json --md docs/benchmark.md
    python bench/run.py --quick          # small sizes: a smoke run of every step in ~3 minutes

Engines, each fed the same records (title + body) of the same JSONL lines:

- ``qiao``: ``search.index.build`` on the JSONL file (its normal ingestion), queried through
  ``search.query.search.search`` (top 10 with highlights and facets), in-process and over HTTP
  (``qiao serve``, 8 concurrent clients, with its result cache and without);
- ``baseline`` (the obvious build): Whoosh with ``jieba.analyse.ChineseAnalyzer`` on title and
  body, the default writer, ``MultifieldParser`` and ``Hit.highlights("body")``;
- ``tantivy`` and ``fts5`` (SQLite FTS5, unicode61): text segmented by Python jieba's
  ``cut_for_search`` and joined by spaces; queries segmented by ``jieba.cut``; top 10 with
  snippets and facet counts.

Every build, query run and cold start runs in its own process (``python bench/run.py _build …``
and so on), so memory is measured per engine; the index of each lives in a temporary folder.

The parts, one concern each: ``corpus.py`` (the datasets), ``queries.py`` (queries.tsv),
``engines/`` (each engine's build and search), ``workers.py`` (the worker processes and the steps
that start them), ``measure.py`` (latency, memory and CPU), ``http_measure.py`` (Qiao over HTTP),
``profiling.py`` (py-spy and cProfile), ``machine.py`` and ``report.py`` (the summary and the
Markdown); this file parses the command line and runs the steps in order.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from corpus import prepare
from engines import ENGINES
from http_measure import CLIENTS, measure_http
from machine import machine
from measure import HERE, ROOT, run_worker
from profiling import profile_build
from queries import load_queries
from report import (
    HTTP_LABELS,
    main_table,
    print_summary,
    render_markdown,
    targets_of,
    text_table,
)
from workers import internal, measure_builds, measure_cold, measure_queries


@dataclass(frozen=True)
class Sizes:
    """How much of each corpus to index, and how long to measure."""

    zh_small: int
    zh_large: int
    en: int
    rounds: int
    http_seconds: float
    cold_runs: int


FULL = Sizes(zh_small=5_000, zh_large=20_000, en=20_000, rounds=4, http_seconds=25.0, cold_runs=5)
QUICK = Sizes(zh_small=500, zh_large=1_000, en=1_000, rounds=1, http_seconds=5.0, cold_runs=3)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line of a run (or of --render)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora",
                   help="folder with zh-news.jsonl and en-reuters.jsonl (default: ../shared/corpora)")
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    p.add_argument("--md", type=Path, help="write the Markdown report here")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every step")
    p.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of " + ",".join(ENGINES))
    p.add_argument("--queries", type=Path, default=HERE / "queries.tsv")
    p.add_argument("--workdir", type=Path, help="keep data and indexes here (default: a temporary folder)")
    p.add_argument("--no-profile", action="store_true", help="skip the py-spy and cProfile runs")
    p.add_argument("--notes", type=Path, help="a Markdown file appended to the report as Notes")
    p.add_argument("--render", type=Path, metavar="JSON",
                   help="measure nothing: write --md from the results of an earlier run")
    args = p.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    if set(args.engines) - set(ENGINES) or "qiao" not in args.engines:
        p.error(f"--engines must include qiao and only {', '.join(ENGINES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """A run (or a sub-command of the worker processes, whose names start with _)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("_"):
        return internal(argv)
    args = parse_args(argv)
    if args.render:
        return render(args)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="qiao-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = run_all(args, QUICK if args.quick else FULL, work, "python bench/run.py " + " ".join(argv))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print_summary(results)
    write(args, results)
    return 0


def render(args: argparse.Namespace) -> int:
    """--render: the report of an earlier run's JSON, measuring nothing."""
    results = json.loads(args.render.read_text(encoding="utf-8"))
    if args.notes and args.notes.is_file():
        results["notes"] = args.notes.read_text(encoding="utf-8")
    print(text_table(*main_table(results)))
    if args.md:
        args.md.write_text(render_markdown(results), encoding="utf-8")
    return 0


def run_all(args: argparse.Namespace, sizes: Sizes, work: Path, command: str) -> dict:
    """Every step, its results saved to ``work/partial.json`` after each in case a later one fails."""
    started = time.perf_counter()
    results: dict = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "command": command,
                     "machine": machine(), "engines": args.engines, "config": {**sizes.__dict__, "clients": CLIENTS}}
    print(f"datasets -> {work}", flush=True)
    datasets = results["datasets"] = prepare(args.corpora, work / "data", sizes.zh_small, sizes.zh_large, sizes.en)
    _, zh_large, en = datasets
    queries = load_queries(args.queries)
    results["query_targets"] = {"zh": zh_large, "en": en}
    results["queries"] = {"count": len(queries),
                          "by_corpus": dict(collections.Counter(q["corpus"] for q in queries))}
    save = lambda: (work / "partial.json").write_text(
        json.dumps(results, ensure_ascii=False, default=str), encoding="utf-8")
    print("builds", flush=True)
    results["build"] = measure_builds(args.engines, datasets, work)
    save()
    print("queries in-process", flush=True)
    results["query"] = measure_queries(args.engines, queries, results["query_targets"], results["build"], work,
                                       sizes.rounds)
    save()
    measure_http_runs(results, [q for q in queries if q["corpus"] == "zh"], sizes.http_seconds, save)
    print("cold start", flush=True)
    results["cold_start"] = measure_cold(args.engines, results["build"], zh_large, en, sizes.cold_runs)
    save()
    if not args.no_profile:
        print("profiles", flush=True)
        results["profiles"] = profiles(results, work)
    results["targets"] = targets_of(results, datasets, zh_large)
    results["loadavg_end"] = os.getloadavg()
    results["total_seconds"] = time.perf_counter() - started
    if args.notes and args.notes.is_file():
        results["notes"] = args.notes.read_text(encoding="utf-8")
    return portable(results)


def measure_http_runs(results: dict, zh_queries: list[dict], seconds: float, save) -> None:
    """Qiao over HTTP on the large zh index, with its result cache and without."""
    print("HTTP", flush=True)
    index_dir = results["build"]["qiao"][results["query_targets"]["zh"]]["index_dir"]
    for key, cache in (("http", True), ("http_nocache", False)):
        h = results[key] = measure_http(index_dir, zh_queries, seconds, cache=cache)
        print(f"  {HTTP_LABELS[key]}: {h['requests']} requests, {h['errors']} errors, {h['requests_per_s']:.1f} req/s, "
              f"p50 {h['p50_ms']:.1f} ms p95 {h['p95_ms']:.1f} ms p99 {h['p99_ms']:.1f} ms", flush=True)
        save()


def profiles(results: dict, work: Path) -> dict:
    """py-spy of Qiao's build of the small zh dataset, cProfile of its zh queries on the large one."""
    out = {}
    small, large = list(results["datasets"])[:2]
    if build_profile := profile_build(results["datasets"][small], work):
        out["build"] = {**build_profile, "dataset": small}
    r = run_worker(["_profile_query", results["build"]["qiao"][large]["index_dir"], str(work / "queries-zh.json"),
                    str(work / "query.prof")])
    out["query"] = {**r, "dataset": large}
    return out


def portable(results: dict) -> dict:
    """The results without the paths of this run's temporary files."""
    for ds in results["datasets"].values():
        ds["path"] = Path(ds["path"]).name
    for per_engine in results["build"].values():
        for b in per_engine.values():
            b.pop("index_dir", None)
    return results


def write(args: argparse.Namespace, results: dict) -> None:
    """The results as JSON (--out) and as the Markdown report (--md)."""
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    if args.md:
        args.md.parent.mkdir(parents=True, exist_ok=True)
        args.md.write_text(render_markdown(results), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
