"""Does sort=relevance_recent hurt finding known items? Both sorts on the zh-news known-item sets.

    .venv/bin/python bench/recency.py --zh-corpus ../shared/corpora/zh-news.jsonl [--weights 0.05 0.1 0.2]

The two Chinese sets of bench/relevance.py (known items from keywords; known items asked as
people type), over the same 10,000 zh-news articles indexed once, searched with sort=relevance
(the baseline, in the same run) and sort=relevance_recent at the shipped recency weight and, to
show how much room it leaves, at larger ones (``Ranking.recency_weight``). The English
collections of bench/relevance.py have no dates: relevance_recent orders them as relevance does.

Also counted: the queries of each set that hold a date in words (search.query.dates), which
filter instead of matching.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from relevance import (
    DEPTH,
    Collection,
    Run,
    build_qiao,
    evaluate,
    plain,
    zh_known_items,
    zh_natural_queries,
)

from search.errors import QueryError
from search.index import QiaoIndex
from search.query.search import search
from search.ranking import RANKING, Ranking

MEASURES = ("Success@1", "Success@10", "RR@10")


def run(collection: Collection, index: QiaoIndex, sort: str, ranking: Ranking) -> tuple[Run, int]:
    """Each query's top ids, and how many queries were read with a date filter."""
    found: Run = {}
    dated = 0
    for qid, q in collection.queries.items():
        try:
            result = search(index, plain(q), per_page=DEPTH, sort=sort, ranking=ranking)
        except QueryError:
            found[qid] = []
            continue
        found[qid] = [h.id for h in result.hits]
        dated += result.dates is not None
    return found, dated


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zh-corpus", type=Path, required=True, help="zh-news JSONL file")
    ap.add_argument("--weights", type=float, nargs="*", default=[0.1, 0.2],
                    help="recency weights to try beside the shipped one")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    sets = [zh_known_items(args.zh_corpus), zh_natural_queries(args.zh_corpus)]
    with tempfile.TemporaryDirectory(prefix="qiao-recency-") as tmp:
        index_dir = build_qiao(sets[0], Path(tmp))
        with QiaoIndex(index_dir) as index:
            print(f"today {date.today()}, {len(sets[0].docs)} articles indexed")
            header = f"{'set':<26}{'sort':<34}" + "".join(f"{m:>12}" for m in MEASURES) + f"{'dated':>7}"
            print(header)
            for collection in sets:
                rows = [("relevance (baseline)", "relevance", RANKING),
                        (f"relevance_recent w={RANKING.recency_weight:g}", "relevance_recent", RANKING)]
                rows += [(f"relevance_recent w={w:g}", "relevance_recent", replace(RANKING, recency_weight=w))
                         for w in args.weights]
                for label, sort, ranking in rows:
                    found, dated = run(collection, index, sort, ranking)
                    scores = evaluate(replace(collection, measures=MEASURES), found)
                    print(f"{collection.name:<26}{label:<34}"
                          + "".join(f"{scores[m]:>12.4f}" for m in MEASURES) + f"{dated:>7}")
    print(f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
