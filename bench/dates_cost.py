"""What dates in words and the new sorts cost a search: its time with and without them.

    .venv/bin/python bench/dates_cost.py [--index DIR] [--repeat N]

Without --index, the seeds are indexed into a temporary folder first. Two tables, each with its
baseline in the same run, each query searched once before timing, then ``--repeat`` times, the
median kept:

- dates in words: the search of a query with the date reading on, against the same search
  with it replaced by one that finds no date (for a query without a date: what reading costs
  every search; with one: the reading, the index's date span and the filter, against searching
  the date as words);
- sorting: relevance_recent and date_asc against relevance and date, the same query;
- the reading alone: ``read_dates`` of each query against ``parse`` of it (the query parser's
  time, as a scale), the median of 1,001 runs, in microseconds.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from unittest import mock

# bench/measure.py, beside this script
from measure import median_ms, on_index

from search.index import QiaoIndex
from search.query import search as search_module
from search.query.dates import read_dates
from search.query.syntax import parse

ROOT = Path(__file__).resolve().parents[1]
DATED = ("香港 经济", "Hong Kong economy", "香港 2023年10月", "重庆 去年", "上周 台风", "May 2023 Hong Kong",
         "economy last week")
SORTED = ("香港", "中国", "Hong Kong protest", "election", "economy")


def report(index_dir: Path, repeat: int) -> None:
    """Print both tables."""
    with QiaoIndex(index_dir) as index:
        print(f"{'query':<22}{'hits':>6}  {'dates':<24}{'without ms':>11}{'with ms':>9}{'added':>8}")
        for q in DATED:
            result = search_module.search(index, q)
            with mock.patch.object(search_module, "read_dates", lambda *args: None):
                baseline = median_ms(lambda q=q: search_module.search(index, q), repeat)
            with_it = median_ms(lambda q=q: search_module.search(index, q), repeat)
            dates = f"{result.dates.start} – {result.dates.end}" if result.dates else "-"
            print(f"{q:<22}{result.total_hits:>6}  {dates:<24}{baseline:>11.1f}{with_it:>9.1f}"
                  f"{with_it - baseline:>8.1f}")
        print()
        print(f"{'query':<22}{'relevance':>10}{'relevance_recent':>17}{'date':>8}{'date_asc':>9}  (ms)")
        for q in SORTED:
            times = [median_ms(lambda q=q, s=sort: search_module.search(index, q, sort=s), repeat)
                     for sort in ("relevance", "relevance_recent", "date", "date_asc")]
            print(f"{q:<22}{times[0]:>10.1f}{times[1]:>17.1f}{times[2]:>8.1f}{times[3]:>9.1f}")
        print()
        span = search_module._days(index.searcher())
        print(f"{'query':<22}{'parse µs':>10}{'read_dates µs':>15}")
        for q in DATED:
            parsing = median_ms(lambda q=q: parse(q), 1001) * 1000
            reading = median_ms(lambda q=q: read_dates(q, date.today(), lambda: span), 1001) * 1000
            print(f"{q:<22}{parsing:>10.1f}{reading:>15.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="an index folder (default: the seeds, indexed now)")
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    on_index(args.index, [ROOT / "seeds"], lambda index_dir: report(index_dir, args.repeat))


if __name__ == "__main__":
    main()
