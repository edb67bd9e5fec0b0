"""What "did you mean" adds to a search that finds nothing: the search's time with and without it.

    .venv/bin/python bench/suggest_cost.py [--index DIR] [--repeat N]

Without --index, the seeds are indexed into a temporary folder first. The baseline is the same
search with the suggestion step replaced by one that suggests nothing; each query is searched
once before timing (lexicons and stored fields warm), then ``--repeat`` times, the median kept.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from unittest import mock

# bench/measure.py, beside this script
from measure import median_ms, on_index

from search.index import QiaoIndex
from search.query import search as search_module

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ("cooperatoin", "goverment", "tecnology", "Hong Kong goverment", "xyzzyqq", "government", "相港", "重青", "香港")


def report(index_dir: Path, repeat: int) -> None:
    """Print, per query, its hits, its suggestion and its median time without and with it."""
    print(f"{'query':<22}{'hits':>6}  {'suggestion':<24}{'baseline ms':>12}{'with ms':>9}{'added':>8}")
    with QiaoIndex(index_dir) as index:
        for q in QUERIES:
            result = search_module.search(index, q)
            with mock.patch.object(search_module, "suggest", lambda *args: None):
                baseline = median_ms(lambda q=q: search_module.search(index, q), repeat)
            with_it = median_ms(lambda q=q: search_module.search(index, q), repeat)
            print(f"{q:<22}{result.total_hits:>6}  {result.suggestion or '-':<24}"
                  f"{baseline:>12.1f}{with_it:>9.1f}{with_it - baseline:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="an index folder (default: the seeds, indexed now)")
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    on_index(args.index, [ROOT / "seeds"], lambda index_dir: report(index_dir, args.repeat))


if __name__ == "__main__":
    main()
