#!/usr/bin/env python3
"""Every answer of the benchmark's queries, written down, so that two versions of the code (or
two layouts of one index) can be compared answer by answer.

Usage (from the repository root, with the project installed):

    python bench/snapshot.py --corpora ../shared/corpora --out /tmp/after.json [--compare /tmp/before.json]

It indexes the first ``--docs`` records of zh-news.jsonl and of en-reuters.jsonl (as
bench/run.py does, but in one process, so that equal scores come in the same order every time) and runs each query of bench/queries.tsv three ways: by relevance, by date,
and by relevance on page 2. For each it keeps the ids and scores of the hits, the total, the
facets, the fallback, "searched as" and the highlights. ``--compare`` prints every difference
with an earlier snapshot and exits 1 if the ids, scores (to 1e-9), totals, facets or fallbacks
differ; a highlight that differs is printed but does not fail.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

from queries import load_queries

HERE = Path(__file__).resolve().parent
VARIANTS = ({}, {"sort": "date"}, {"page": 2})
EXACT = ("ids", "total", "facets", "fallback", "searched_as", "error")


def first_records(source: Path, target: Path, n: int) -> Path:
    """The first ``n`` lines of a JSONL file, as a file Qiao indexes."""
    with open(source, encoding="utf-8") as f, open(target, "w", encoding="utf-8") as out:
        out.writelines(itertools.islice(f, n))
    return target


def answer(search, index, q: str, options: dict[str, object]) -> dict[str, object]:
    """One answer, as plain data."""
    from search.errors import QueryError

    try:
        r = search(index, q, per_page=10, **options)
    except QueryError as e:
        return {"error": e.code}
    return {
        "ids": [h.id for h in r.hits],
        "scores": [h.score for h in r.hits],
        "total": r.total_hits,
        "facets": r.facets,
        "fallback": r.fallback,
        "searched_as": list(r.searched_as),
        "highlights": [h.highlights for h in r.hits],
    }


def snapshot(corpora: Path, queries: Path, docs: int, work: Path) -> list[dict[str, object]]:
    """Index the two corpora and answer every query and variant."""
    import search.writing
    from search.index import QiaoIndex, build

    search.writing.BUILD_PROCS = 1  # one segment in input order: the same documents numbers every time

    try:
        from search import search
    except ImportError:  # before the library's API was stated in search/__init__.py
        from search.query.search import search
    sources = {"zh": corpora / "zh-news.jsonl", "en": corpora / "en-reuters.jsonl"}
    indexes = {}
    for name, source in sources.items():
        data = first_records(source, work / f"{name}.jsonl", docs)
        build([data], work / f"{name}-index")
        indexes[name] = QiaoIndex(work / f"{name}-index")
    out = []
    for query in load_queries(queries):
        corpus, q, options = query["corpus"], query["q"], query["options"]
        for variant in VARIANTS:
            out.append({"corpus": corpus, "q": q, "options": {**options, **variant},
                        **answer(search, indexes[corpus], q, {**options, **variant})})
    return out


def compare(before: list[dict], after: list[dict]) -> int:
    """Print the differences; 1 if any but highlights."""
    failed = 0
    highlights = 0
    for a, b in zip(before, after, strict=True):
        label = f"{a['corpus']} {a['q']!r} {a['options']}"
        for key in EXACT:
            if a.get(key) != b.get(key):
                failed += 1
                print(f"DIFFERS {label}: {key}: {a.get(key)!r} -> {b.get(key)!r}")
        if any(abs(x - y) > 1e-9 for x, y in zip(a.get("scores", []), b.get("scores", []))):
            failed += 1
            print(f"DIFFERS {label}: scores {a['scores']} -> {b['scores']}")
        if a.get("highlights") != b.get("highlights"):
            highlights += 1
            print(f"highlights {label}: {a.get('highlights')} -> {b.get('highlights')}")
    print(f"{len(before)} answers; {failed} differences in ids, scores, totals, facets or fallbacks; "
          f"{highlights} answers with other highlights")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpora", type=Path, required=True, help="the folder of zh-news.jsonl and en-reuters.jsonl")
    p.add_argument("--queries", type=Path, default=HERE / "queries.tsv")
    p.add_argument("--docs", type=int, default=3000, help="records of each corpus indexed (default 3000)")
    p.add_argument("--out", type=Path, required=True, help="write the snapshot (JSON) here")
    p.add_argument("--compare", type=Path, help="an earlier snapshot to compare with")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qiao-snapshot-") as work:
        answers = snapshot(args.corpora, args.queries, args.docs, Path(work))
    args.out.write_text(json.dumps(answers, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(answers)} answers written to {args.out}")
    if args.compare:
        return compare(json.loads(args.compare.read_text(encoding="utf-8")), answers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
