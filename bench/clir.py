#!/usr/bin/env python3
"""Measure cross-language search on a known-item set: success@10 and MRR@10 per direction.

Usage (from the repository root):

    python bench/clir.py ../shared/clir [--out docs/clir.md]

The folder holds ``corpus.jsonl`` (articles in Chinese and English) and ``queries.json``
(``qid``, ``query``, ``answer``, ``query_lang``): each query is a human translation of one
sentence of its answer, an article in the other language. The corpus is indexed by
``search.index.build``; every query goes through ``search.query.search.search`` as plain words
(``plain``: no character is read as query syntax, the case kept), 10 hits, the whole corpus
searched.

Rows: monolingual Qiao (``xlang`` off); the bridge with each weight of translated words, with
and without feedback words for translated questions; then the chosen setting with each source
of translations left out in turn (glossary, dictionary, names, regional variants). The setting
is chosen on one half of the queries (those at even places of each direction in the file) and
reported on the other half too, so a number it is judged by did not choose it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from search.errors import QueryError
from search.index import QiaoIndex, build
from search.query.search import search
from search.ranking import RANKING, Ranking

DEPTH = 10
WEIGHTS = (0.3, 0.5, 0.7, 0.8, 0.9)  # below 1: a translation is less sure than the word typed
SOURCES = ("glossary", "dictionary", "names", "variants")
DIRECTIONS = (("en", "English → Chinese"), ("zh", "Chinese → English"))
_NOT_WORD = re.compile(r"[^\w\s]|_")
_OPERATOR = re.compile(r"\b(OR|AND|NOT)\b")


def plain(query: str) -> str:
    """The query as plain words, in its own case: punctuation out, operators in lower case, so that
    nothing in it is query syntax.

    >>> plain('The WHO said: "Hong Kong -- OR Macau?"')
    'The WHO said Hong Kong or Macau'
    """
    return " ".join(_OPERATOR.sub(lambda m: m[0].lower(), _NOT_WORD.sub(" ", query)).split())


def load_queries(folder: Path) -> list[dict[str, str]]:
    """The queries of the set, in file order."""
    return json.loads((folder / "queries.json").read_text(encoding="utf-8"))


def halves(queries: Sequence[dict[str, str]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The queries at even and at odd places of each direction, in file order."""
    pick, report = [], []
    for lang, _ in DIRECTIONS:
        mine = [q for q in queries if q["query_lang"] == lang]
        pick += mine[0::2]
        report += mine[1::2]
    return pick, report


def ranks(index: QiaoIndex, queries: Sequence[dict[str, str]], ranking: Ranking, xlang: bool) -> dict[str, int | None]:
    """The rank (1-based, within DEPTH) of each query's answer; None when it is not there."""
    found: dict[str, int | None] = {}
    for q in queries:
        try:
            hits = search(index, plain(q["query"]), per_page=DEPTH, xlang=xlang, ranking=ranking).hits
        except QueryError as e:  # past the time limit on a busy machine: a miss, and said
            print(f"{q['qid']}: {e}", file=sys.stderr)
            hits = ()
        ids = [h.id for h in hits]
        found[q["qid"]] = ids.index(q["answer"]) + 1 if q["answer"] in ids else None
    return found


def scores(found: dict[str, int | None], queries: Sequence[dict[str, str]]) -> dict[str, tuple[float, float, int]]:
    """(success@10, MRR@10, queries) of each direction."""
    out = {}
    for lang, _ in DIRECTIONS:
        mine = [found[q["qid"]] for q in queries if q["query_lang"] == lang]
        if not mine:
            continue
        success = sum(r is not None for r in mine) / len(mine)
        mrr = sum(1 / r for r in mine if r is not None) / len(mine)
        out[lang] = (success, mrr, len(mine))
    return out


def measure(
    folder: Path, index_dir: Path, log: Callable[[str], None], *,
    weights: Sequence[float] = WEIGHTS, feedbacks: Sequence[bool] = (True, False),
) -> dict[str, object]:
    """Every row of the table, as numbers: the settings of each weight and feedback choice."""
    queries = load_queries(folder)
    pick, report = halves(queries)
    index = QiaoIndex(index_dir)
    rows: dict[str, dict[str, int | None]] = {}

    def run(name: str, ranking: Ranking, xlang: bool = True) -> None:
        started = time.perf_counter()
        rows[name] = ranks(index, queries, ranking, xlang)
        log(f"{name}: {scores(rows[name], queries)} ({time.perf_counter() - started:.0f} s)")

    run("monolingual (xlang off)", RANKING, xlang=False)
    settings = {}
    for feedback in feedbacks:
        for weight in weights:
            name = f"bridge, weight {weight:g}" + ("" if feedback else ", no feedback")
            settings[name] = replace(RANKING, translation_weight=weight, translated_feedback=feedback)
            run(name, settings[name])
    by_pick = {name: _mean_mrr(scores(rows[name], pick)) for name in settings}
    chosen = max(settings, key=lambda name: by_pick[name])
    for source in SOURCES:
        kept = tuple(s for s in SOURCES if s != source)
        run(f"bridge without {source}", replace(settings[chosen], translation_sources=kept))
    index.close()
    table = {name: {"all": scores(found, queries), "pick": scores(found, pick), "report": scores(found, report)}
             for name, found in rows.items()}
    return {"queries": len(queries), "pick": len(pick), "report": len(report), "chosen": chosen,
            "chosen_weight": settings[chosen].translation_weight,
            "chosen_feedback": settings[chosen].translated_feedback, "pick_mrr": by_pick, "rows": table}


def _mean_mrr(by_lang: dict[str, tuple[float, float, int]]) -> float:
    """The mean MRR@10 of the two directions."""
    return sum(mrr for _, mrr, _ in by_lang.values()) / max(len(by_lang), 1)


def markdown(result: dict[str, object], command: str, seconds: float) -> str:
    """The results as a Markdown section."""
    rows: dict[str, dict[str, dict[str, tuple[float, float, int]]]] = result["rows"]  # type: ignore[assignment]
    chosen = result["chosen"]
    lines = [
        (f"Measured by `{command}` in {seconds:.0f} s: {result['queries']} queries, each a human translation "
         "of one sentence of its answer, an article in the other language; the whole corpus (both "
         "languages) searched, 10 hits."),
        "",
        (f"The weight of translated words, and whether a translated question is ranked again with feedback "
         f"words, were chosen on half of the queries ({result['pick']}, those at even places of each direction): "
         f"{chosen}, the best mean MRR@10 of the two directions there "
         f"({', '.join(f'{w}: {m:.3f}' for w, m in result['pick_mrr'].items())}). "  # type: ignore[union-attr]
         f"The columns \"held out\" are the other {result['report']} queries, which did not choose it; the "
         "rows \"without\" leave one source of translations out of the chosen setting."),
        "",
        "| system | en→zh success@10 | en→zh MRR@10 | zh→en success@10 | zh→en MRR@10 | held out: en→zh success@10 | zh→en success@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, by in rows.items():
        mark = " (chosen)" if name == chosen else ""
        every, held = by["all"], by["report"]
        lines.append(
            f"| {name}{mark} | {every['en'][0]:.3f} | {every['en'][1]:.3f} | {every['zh'][0]:.3f} | {every['zh'][1]:.3f} "
            f"| {held['en'][0]:.3f} | {held['zh'][0]:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clir", type=Path, help="the folder with corpus.jsonl and queries.json")
    ap.add_argument("--index", type=Path, help="index folder to build (default: a temporary one)")
    ap.add_argument("--out", type=Path, help="Markdown file to write the table to")
    ap.add_argument("--json", type=Path, help="JSON file to write every number to")
    ap.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS),
                    help="weights of translated words to try (default: %(default)s)")
    ap.add_argument("--feedback", choices=("both", "off"), default="both",
                    help="try translated questions with and without feedback words, or only without")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qiao-clir-") as tmp:
        index_dir = args.index or Path(tmp) / "index"
        build([args.clir / "corpus.jsonl"], index_dir)
        feedbacks = (True, False) if args.feedback == "both" else (False,)
        result = measure(args.clir, index_dir, lambda line: print(line, file=sys.stderr, flush=True),
                         weights=args.weights, feedbacks=feedbacks)
    command = "python bench/clir.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = markdown(result, command, time.perf_counter() - started)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
