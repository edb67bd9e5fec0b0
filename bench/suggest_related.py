"""Suggestions while typing and related articles: their latency, beside a baseline each in the same run.

    .venv/bin/python bench/suggest_related.py --index DIR [--titles 300] [--articles 100] [--seed 1]
    .venv/bin/python bench/suggest_related.py --corpus ../shared/corpora/zh-news.jsonl   # indexed now

Suggest: the keystrokes of typing the first four characters of ``--titles`` random titles
(香, 香港, 香港海, 香港海关; English titles a letter at a time up to eight), each answered by
``complete``, and again through the web app's GET /api/suggest (Flask's test client: routing
and JSON, no network). The first call makes the prefix tables of this
state of the index (reported apart, as "cold"); the others are timed. The baseline answers the
same keystrokes' words without the tables, as Whoosh's API gives them: the words of the body
field starting with the last word typed (``expand_prefix``), sorted by document frequency.

Related: ``related`` for ``--articles`` random articles (GET /api/articles/<id>/related without
HTTP), once each after one untimed call (the segment caches warm); the baseline is Whoosh's own
``Searcher.more_like`` (key terms of the stored body by Bo1, then an OR search of five of them,
the top 5 kept): fewer words and no highlighting, and no copies left out.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from measure import latency_summary

from search.analysis import HAN, fold
from search.index import QiaoIndex, build
from search.query.complete import complete
from search.query.related import related
from web import create_app
from web.server import close

_LAST = re.compile(rf"(?:[{HAN}]+|[a-z][a-z0-9]*)$")


def keystrokes(titles: Iterable[str]) -> list[str]:
    """What the box holds after each keystroke of typing the start of each title."""
    typed = []
    for title in titles:
        text = title.strip()
        n = 4 if re.match(f"[{HAN}]", text) else 8
        typed.extend(text[:i] for i in range(1, min(n, len(text)) + 1) if text[:i].strip())
    return typed


def timed(calls: Iterable[Callable[[], object]]) -> list[float]:
    """Each call's wall time in milliseconds."""
    ms = []
    for call in calls:
        started = time.perf_counter()
        call()
        ms.append((time.perf_counter() - started) * 1000)
    return ms


def whoosh_prefix_words(index: QiaoIndex, text: str, limit: int = 8) -> list[str]:
    """The baseline: the body words starting with the last word typed, by document frequency."""
    last = _LAST.search(fold(text).text)
    if last is None:
        return []
    reader = index.searcher().reader()
    found = [(reader.doc_frequency("body", w), w) for w in reader.expand_prefix("body", last.group())]
    return [w for _, w in sorted(found, reverse=True)[:limit]]


def whoosh_more_like(index: QiaoIndex, article_id: str) -> list[str]:
    """The baseline: Whoosh's own MoreLikeThis on the stored body, top 5."""
    searcher = index.searcher()
    docnum = searcher.document_number(id=article_id)
    return [hit["id"] for hit in searcher.more_like(docnum, "body", top=5)]


def row(name: str, ms: list[float]) -> str:
    """One line of the table: p50, p95, p99, mean and count."""
    s = latency_summary(ms)
    return f"{name:<44}{s['p50_ms']:>9.2f}{s['p95_ms']:>9.2f}{s['p99_ms']:>9.2f}{s['mean_ms']:>9.2f}{s['samples']:>7}"


def report(index_dir: Path, n_titles: int, n_articles: int, seed: int) -> None:
    """Print the latency table of suggest and related, each beside its baseline."""
    rng = random.Random(seed)
    with QiaoIndex(index_dir) as index:
        searcher = index.searcher()
        stored = [(f["id"], str(f.get("title", ""))) for f in searcher.all_stored_fields()]
        typed = keystrokes(title for _, title in rng.sample(stored, min(n_titles, len(stored))))
        ids = [i for i, _ in rng.sample(stored, min(n_articles, len(stored)))]
        print(f"index {index_dir}: {searcher.doc_count()} articles, {len(searcher.leaf_searchers())} segment(s)")
        cold = timed([lambda: complete(index, typed[0])])[0]
        print(f"suggest, cold (the prefix tables of this state of the index made): {cold:.0f} ms")
        print(f"{'':<44}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'n':>7}")
        print(row("suggest (complete)", timed(lambda t=t: complete(index, t) for t in typed)))
        app = create_app({"INDEX_DIR": index_dir})
        client = app.test_client()
        client.get("/api/suggest", query_string={"q": typed[0]})
        print(row("suggest through GET /api/suggest (in process)",
                  timed(lambda t=t: client.get("/api/suggest", query_string={"q": t}) for t in typed)))
        close(app)
        print(row("baseline: Whoosh expand_prefix + doc freq", timed(lambda t=t: whoosh_prefix_words(index, t) for t in typed)))
        related(index, ids[0])
        whoosh_more_like(index, ids[0])
        print(row("related (MoreLikeThis through search())", timed(lambda i=i: related(index, i) for i in ids)))
        print(row("baseline: Whoosh Searcher.more_like", timed(lambda i=i: whoosh_more_like(index, i) for i in ids)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--index", type=Path, help="an index folder")
    source.add_argument("--corpus", type=Path, help="articles to index into a temporary folder first")
    parser.add_argument("--titles", type=int, default=300, help="titles whose first keystrokes are suggested for")
    parser.add_argument("--articles", type=int, default=100, help="articles whose related ones are found")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.index:
        report(args.index, args.titles, args.articles, args.seed)
        return
    with tempfile.TemporaryDirectory() as tmp:
        build([args.corpus], Path(tmp))
        report(Path(tmp), args.titles, args.articles, args.seed)


if __name__ == "__main__":
    main()
