"""What the author and tags facets add to a search: its time with the four facets of before
(lang, source, category, year) and with all six.

    .venv/bin/python bench/facet_cost.py [--corpus ../shared/corpora/en-reuters.jsonl] [--index DIR] [--repeat N]

Without --index, the corpus (Reuters: 19,043 reports, 10,377 of them tagged) is indexed into a
temporary folder first. The baseline is the same search with the facet fields cut back to the
four; each query is searched once before timing (lexicons, columns and tag postings warm), then
``--repeat`` times, the median kept. Then the facet counting step alone, on all the documents, a
tenth and a hundredth of them.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from unittest import mock

import numpy as np

# bench/measure.py, beside this script
from measure import median_ms, on_index

from search import shard_search
from search.index import QiaoIndex
from search.query.search import search

ROOT = Path(__file__).resolve().parents[1]
BEFORE = ("lang", "source", "category", "year")
QUERIES = ("oil prices", "trade", "tags:trade", "bank rate", "coffee export quota", "Japan", "the", "xyzzyqq")


def report(index_dir: Path, repeat: int) -> None:
    """Print, per query, its hits, its distinct tags and its median time with four facets and with six."""
    print(f"{'query':<22}{'hits':>7}{'tags':>6}{'4 facets ms':>13}{'6 facets ms':>13}{'added ms':>10}")
    added = []
    with QiaoIndex(index_dir) as index:
        for q in QUERIES:
            result = search(index, q)
            with mock.patch.object(shard_search, "FACET_FIELDS", BEFORE):
                baseline = median_ms(lambda q=q: search(index, q), repeat)
            six = median_ms(lambda q=q: search(index, q), repeat)
            added.append(six - baseline)
            print(f"{q:<22}{result.total_hits:>7}{len(result.facets['tags']):>6}"
                  f"{baseline:>13.1f}{six:>13.1f}{six - baseline:>10.1f}")
    print(f"median added: {statistics.median(added):.1f} ms")
    counting(index_dir, repeat)


def counting(index_dir: Path, repeat: int) -> None:
    """Print the time of the facet counting step alone, for every document, every tenth and every
    hundredth: four facets, then six (less noisy than whole searches on a busy machine)."""
    print(f"{'matched documents':<22}{'4 facets ms':>13}{'6 facets ms':>13}{'added ms':>10}")
    with QiaoIndex(index_dir) as index:
        searcher = index.searcher()
        everything = np.arange(searcher.doc_count_all())
        for step in (1, 10, 100):
            docs = everything[::step]
            with mock.patch.object(shard_search, "FACET_FIELDS", BEFORE):
                four = median_ms(lambda docs=docs: shard_search.facets_of(searcher, docs), repeat)
            six = median_ms(lambda docs=docs: shard_search.facets_of(searcher, docs), repeat)
            print(f"{len(docs):<22}{four:>13.2f}{six:>13.2f}{six - four:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora" / "en-reuters.jsonl")
    parser.add_argument("--index", type=Path, help="an index folder (default: the corpus, indexed now)")
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    if not args.index and not args.corpus.is_file():
        parser.error(f"no corpus at {args.corpus}: give --corpus FILE or --index DIR")
    on_index(args.index, [args.corpus], lambda index_dir: report(index_dir, args.repeat))


if __name__ == "__main__":
    main()
