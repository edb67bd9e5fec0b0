#!/usr/bin/env python3
"""What cross-language search costs: the benchmark's queries with ``xlang`` off and on, one process.

Usage (from the repository root):

    python bench/xlang_cost.py INDEX [INDEX…] [--rounds 5]

Each query of bench/queries.tsv (all of them, whatever corpus they were written for) is searched
in each index as ``search.query.search.search`` runs it for the API (10 hits, highlights,
facets), with ``xlang`` off (the monolingual search, as before the bridge) and on, the two
interleaved query by query so that a busy machine slows both alike. A warm-up round loads the
dictionaries first (once per process; a server loads them at its first query). Printed: per
index, the median over rounds of the time of all queries, off and on, and their ratio; then
the slowest queries by their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

# bench/queries.py, beside this script, imported as bench/run.py imports it
from queries import load_queries

from search.errors import QueryError
from search.index import QiaoIndex
from search.query.search import search

HERE = Path(__file__).parent


def timed(index: QiaoIndex, query: dict[str, object], xlang: bool) -> float:
    """Seconds one search takes (a refused one counts its time too)."""
    started = time.perf_counter()
    try:
        search(index, str(query["q"]), xlang=xlang, **query["options"])  # type: ignore[arg-type]
    except QueryError:
        pass
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("indexes", nargs="+", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--queries", type=Path, default=HERE / "queries.tsv")
    args = ap.parse_args(argv)
    queries = load_queries(args.queries)
    for index_dir in args.indexes:
        with QiaoIndex(index_dir) as index:
            for q in queries:  # warm-up: dictionaries, segment caches
                timed(index, q, True)
                timed(index, q, False)
            rounds: dict[bool, list[float]] = {False: [], True: []}
            each: dict[tuple[int, bool], list[float]] = {}
            for _ in range(args.rounds):
                totals = {False: 0.0, True: 0.0}
                for q in queries:
                    for xlang in (False, True):
                        t = timed(index, q, xlang)
                        totals[xlang] += t
                        each.setdefault((int(q["n"]), xlang), []).append(t)  # type: ignore[call-overload]
                for xlang, total in totals.items():
                    rounds[xlang].append(total)
            off, on = statistics.median(rounds[False]), statistics.median(rounds[True])
            print(f"{index_dir}: {len(queries)} queries, median of {args.rounds} rounds: "
                  f"xlang off {off * 1000:.0f} ms, on {on * 1000:.0f} ms, ratio {on / off:.2f}")
            ratios = sorted(
                ((statistics.median(each[(int(q["n"]), True)]) / statistics.median(each[(int(q["n"]), False)]), q["q"])
                 for q in queries), reverse=True)
            print("  slowest by ratio: " + ", ".join(f"{text} {r:.2f}" for r, text in ratios[:5]))


if __name__ == "__main__":
    main()
