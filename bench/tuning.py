#!/usr/bin/env python3
"""Choose Qiao's ranking defaults by leave-one-collection-out, so that they hold on collections
they were not chosen on.

Usage (from the repository root, with ``pip install -e '.[eval]'``):

    python bench/tuning.py --relevance ../shared/relevance --out docs/relevance.md --json docs/tuning.json

Every ranking in a small grid (``GRID``: each knob at a few values, ``search.ranking.Ranking``)
runs every query of the five English collections (CISI, MED, Cranfield, LISA, ADI, read as
bench/relevance.py reads them) through ``search()``; a ranking's score on a collection is its
MAP@100 relative to the BM25 reference (bm25s, its defaults, on the same tokens), so that each
collection weighs the same. Then, for each collection in turn, the ranking with the best mean
relative score on the *other four* is chosen and scored on the held-out one. The shipped
defaults are the ranking chosen by the most folds (ties: the best mean over the folds that chose
them). A knob stays only if the folds gain by it: the same protocol run with the knob held at
its "off" value gives the held-out mean without it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from relevance import (
    BM25, DEPTH, Collection, adi, build_qiao, cisi, cran, evaluate, lisa, med, plain, run_bm25, write_markdown,
)
from search.errors import QueryError
from search.index import QiaoIndex
from search.query.search import search
from search.ranking import RANKING, Ranking

MEASURE = "AP@100"
READERS: dict[str, Callable[[Path], Collection]] = {
    "cisi": cisi, "med": med, "cran": cran, "lisa": lisa, "adi": adi,
}
# Each knob at a few values; the first is "off" where the knob can be off (see OFF).
GRID: dict[str, tuple[object, ...]] = {
    "bm25": ((1.2, 0.75), (2.0, 0.9)),  # English k1, b
    "title_weight": (1.0, 2.0, 3.0),
    "feedback": ((0, 0, 0.0), (3, 10, 0.3), (10, 20, 1.0)),  # articles, words, weight
    "proximity": ((0.0, "all"), (0.5, "next")),  # weight, pairs
}
OFF = {"title_weight": 1.0, "feedback": (0, 0, 0.0), "proximity": (0.0, "all")}
MARK_START, MARK_END = "<!-- tuning:start -->", "<!-- tuning:end -->"


def ranking_of(setting: dict[str, object]) -> Ranking:
    """The Ranking of one point of the grid."""
    k1, b = setting["bm25"]  # type: ignore[misc]
    docs, words, weight = setting["feedback"]  # type: ignore[misc]
    proximity, pairs = setting["proximity"]  # type: ignore[misc]
    return replace(RANKING, latin_k1=k1, latin_b=b, title_weight=setting["title_weight"],
                   feedback_docs=docs, feedback_words=words, feedback_weight=weight,
                   proximity_weight=proximity, proximity_pairs=pairs)


def settings(grid: dict[str, tuple[object, ...]]) -> list[dict[str, object]]:
    """Every point of a grid."""
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def key(setting: dict[str, object]) -> str:
    """A setting as a short, stable string."""
    return json.dumps(setting, separators=(",", ":"))


def run(collection: Collection, index_dir: Path, ranking: Ranking) -> dict[str, list[str]]:
    """Each query's top ids from Qiao's search with ``ranking``."""
    found: dict[str, list[str]] = {}
    with QiaoIndex(index_dir) as ix:
        for qid, q in collection.queries.items():
            try:
                # collapse off, as bench/relevance.py: judgments are per document
                found[qid] = [h.id for h in search(ix, plain(q), per_page=DEPTH, ranking=ranking, collapse=False).hits]
            except QueryError:
                found[qid] = []
    return found


@dataclass
class Fold:
    """One held-out collection: the setting chosen without it, and how that setting does on it."""

    held_out: str
    chosen: str
    held_out_score: float  # MAP@100
    reference: float  # BM25's MAP@100

    @property
    def gain(self) -> float:
        return self.held_out_score / self.reference - 1


def folds(scores: dict[str, dict[str, float]], reference: dict[str, float], candidates: Iterable[str]) -> list[Fold]:
    """Leave-one-collection-out over ``candidates`` (setting keys): choose on four, score on the fifth."""
    candidates = list(candidates)
    out = []
    for held in reference:
        others = [c for c in reference if c != held]

        def on_others(k: str) -> float:
            return sum(scores[k][c] / reference[c] - 1 for c in others) / len(others)

        best = max(candidates, key=lambda k: (on_others(k), k))
        out.append(Fold(held, best, scores[best][held], reference[held]))
    return out


def shipped(chosen: list[Fold], scores: dict[str, dict[str, float]], reference: dict[str, float]) -> str:
    """The setting chosen by the most folds; ties go to the best mean relative score on all five."""
    votes = Counter(f.chosen for f in chosen)

    def mean(k: str) -> float:
        return sum(scores[k][c] / reference[c] - 1 for c in reference) / len(reference)

    return max(votes, key=lambda k: (votes[k], mean(k), k))


def markdown(scores: dict[str, dict[str, float]], reference: dict[str, float], command: str, seconds: float) -> str:
    """The tuning section of docs/relevance.md."""
    all_keys = [k for k in scores if all(c in scores[k] for c in reference)]  # scored on every collection
    chosen = folds(scores, reference, all_keys)
    default = shipped(chosen, scores, reference)
    names = {"cisi": "CISI", "med": "MED", "cran": "Cranfield", "lisa": "LISA", "adi": "ADI"}
    scored = f"{len(all_keys)} rankings" if len(all_keys) == len(scores) else (
        f"{len(all_keys)} of the grid's {len(scores)} rankings (those scored on all five collections)")
    lines = [MARK_START, "", f"{scored} ({', '.join(f'{k}: {len(v)} values' for k, v in GRID.items())}); "
             "MAP@100 on the held-out collection of each fold, beside BM25:", "",
             "| held out | chosen on the other four | Qiao | BM25 | change |", "|---|---|---:|---:|---:|"]
    for f in chosen:
        lines.append(f"| {names[f.held_out]} | `{f.chosen}` | {f.held_out_score:.4f} | {f.reference:.4f} | {f.gain:+.1%} |")
    lines += ["", f"Mean held-out change: {sum(f.gain for f in chosen) / len(chosen):+.2%}.", "",
              f"Shipped (chosen by the most folds): `{default}`:", "",
              "| collection | Qiao | BM25 | change |", "|---|---:|---:|---:|"]
    for c, ref in reference.items():
        lines.append(f"| {names[c]} | {scores[default][c]:.4f} | {ref:.4f} | {scores[default][c] / ref - 1:+.1%} |")
    gains = [scores[default][c] / reference[c] - 1 for c in reference]
    lines += [f"| mean of 5 | | | {sum(gains) / len(gains):+.2%} |", "",
              "Each knob, held at its \"off\" value and the rest chosen by the same folds:", "",
              "| without | mean held-out change | with it (all knobs) |", "|---|---:|---:|"]
    with_all = sum(f.gain for f in chosen) / len(chosen)
    for knob, off in OFF.items():
        subset = [k for k in all_keys if json.loads(k)[knob] == json.loads(json.dumps(off))]
        without = folds(scores, reference, subset)
        lines.append(f"| {knob} | {sum(f.gain for f in without) / len(without):+.2%} | {with_all:+.2%} |")
    lines += ["", "Made by:", "", f"    {command}", "", f"in {seconds:.0f} s.", "", MARK_END]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Score the grid on every collection, then write the folds."""
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--relevance", type=Path, required=True, help="folder with cisi/, med/, cran/, lisa/ and adi/")
    ap.add_argument("--out", type=Path, help="Markdown file to write the tuning section of")
    ap.add_argument("--json", type=Path, help="JSON file for every score")
    ap.add_argument("--only", nargs="+", choices=list(READERS), help="score only these collections")
    ap.add_argument("--merge", nargs="+", type=Path, help="no scoring: the folds of these --json files' scores")
    ap.add_argument("--settings", type=int, nargs="+", metavar="N",
                    help="score only these settings of the grid (numbers from 0, in this order), to share the work")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    grid = settings(GRID)
    scored = [grid[n] for n in args.settings] if args.settings else grid
    scores: dict[str, dict[str, float]] = {key(s): {} for s in grid}
    reference: dict[str, float] = {}
    for path in args.merge or ():
        data = json.loads(path.read_text(encoding="utf-8"))
        reference.update(data["reference"])
        for k, by_collection in data["scores"].items():
            scores[k].update(by_collection)
    with tempfile.TemporaryDirectory(prefix="qiao-tuning-") as tmp:
        for name, reader in READERS.items():
            if args.merge or (args.only and name not in args.only):
                continue
            collection = reader(args.relevance / name)
            index_dir = build_qiao(collection, Path(tmp))
            reference[name] = evaluate(collection, run_bm25(collection))[MEASURE]
            for setting in scored:
                scores[key(setting)][name] = evaluate(collection, run(collection, index_dir, ranking_of(setting)))[MEASURE]
                print(f"{name:>5} {key(setting)} {scores[key(setting)][name]:.4f} ({BM25} {reference[name]:.4f})",
                      file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    command = "python bench/tuning.py " + " ".join(argv)
    reference = {c: reference[c] for c in READERS if c in reference}  # in the collections' order
    if args.json:
        args.json.write_text(json.dumps({"reference": reference, "scores": scores, "grid": {k: list(v) for k, v in GRID.items()},
                                         "defaults": asdict(RANKING)}, indent=2) + "\n", encoding="utf-8")
    if len(reference) < 3:  # a part of the collections, to --merge later: no folds yet
        return 0
    section = markdown(scores, reference, command, seconds)
    if args.out:
        write_markdown(args.out, section, MARK_START, MARK_END)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
