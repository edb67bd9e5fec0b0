#!/usr/bin/env python3
"""Qiao's speed beside the obvious build and two fast peers, on the same corpus, in one run.

Usage (from the repository root, after ``pip install -e '.[bench]'``)::

    python bench/run.py --corpora ../shared/corpora --out docs/benchmark.json --md docs/benchmark.md
    python bench/run.py --quick          # small sizes: a smoke run of every step in ~3 minutes

Engines, each fed the same records (title + body) of the same JSONL lines:

- ``qiao``: ``search.index.build`` on the JSONL file (its normal ingestion), queried through
  ``search.querying.search`` (top 10 with highlights and facets), in-process and over HTTP
  (``qiao serve``, 8 concurrent clients, with its result cache and without);
- ``baseline`` (the obvious build): Whoosh with ``jieba.analyse.ChineseAnalyzer`` on title and
  body, the default writer, ``MultifieldParser`` and ``Hit.highlights("body")``;
- ``tantivy`` and ``fts5`` (SQLite FTS5, unicode61): text segmented by Python jieba's
  ``cut_for_search`` and joined by spaces; queries segmented by ``jieba.cut``; top 10 with
  snippets and facet counts.

Every build, query run and cold start runs in its own process (``python bench/run.py _build …``
and so on), so memory is measured per engine; the index of each lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ENGINES = ("qiao", "baseline", "tantivy", "fts5")
LABELS = {
    "qiao": "Qiao",
    "baseline": "baseline (Whoosh + jieba ChineseAnalyzer)",
    "tantivy": "tantivy + Python jieba",
    "fts5": "SQLite FTS5 + Python jieba",
}
SHORT = {"qiao": "Qiao", "baseline": "baseline", "tantivy": "tantivy", "fts5": "FTS5"}
CLIENTS = 8
TOP = 10
HTTP_LABELS = {"http": "cache on", "http_nocache": "cache off: every request searched"}


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


# --- records shared by the peers ------------------------------------------------------------------

_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATE_REUTERS = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})")
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


def record_date(value: object) -> dt.datetime | None:
    """The day of a zh-news (2020-3-30 23:37:00) or Reuters (26-FEB-1987 15:01:01.79) date."""
    text = str(value or "")
    try:
        if m := _DATE_ISO.search(text):
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]))
        if (m := _DATE_REUTERS.search(text)) and m[2].lower() in _MONTHS:
            return dt.datetime(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    except ValueError:
        return None
    return None


def read_records(path: Path, lang: str) -> Iterator[dict[str, object]]:
    """The peers' view of a JSONL line: id, title, body and the fields their filters use."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            r = json.loads(line)
            yield {
                "id": str(r.get("id") or r.get("url") or n),
                "title": r.get("title") or "",
                "body": r.get("body") or r.get("content") or r.get("text") or "",
                "category": r.get("category") or "",
                "source": r.get("source") or "",
                "lang": lang,
                "published": record_date(r.get("published") or r.get("date")),
            }


def text_bytes(path: Path) -> tuple[int, int]:
    """(records, UTF-8 bytes of title + body) of a JSONL file: the input size of every engine."""
    n = size = 0
    for r in read_records(path, ""):
        n += 1
        size += len(str(r["title"]).encode()) + len(str(r["body"]).encode())
    return n, size


def jieba_module():  # noqa: ANN201 - the jieba module, quiet
    """Python jieba, with its loading messages off."""
    import jieba

    jieba.setLogLevel(60)
    return jieba


def segment_for_index(jieba, text: str) -> str:  # noqa: ANN001
    """Search-mode jieba words joined by spaces: what the peers index."""
    return " ".join(w for w in jieba.cut_for_search(text) if not w.isspace())


_WORDLIKE = re.compile(r"\w")


def segment_query(jieba, text: str) -> list[str]:  # noqa: ANN001
    """Default-mode jieba words of query text, lower-cased, punctuation dropped."""
    return [w.lower() for w in jieba.cut(text) if _WORDLIKE.search(w)]


# --- queries ---------------------------------------------------------------------------------------


def load_queries(path: Path) -> list[dict[str, object]]:
    """The fixed query list: corpus, Qiao query text, Qiao options, and a neutral tree for the peers."""
    from search import querying

    option_names = {"lang": "lang", "source": "source", "category": "category",
                    "from": "date_from", "to": "date_to"}
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        corpus, text, *rest = line.split("\t")
        options = dict(kv.split("=", 1) for kv in (rest[0].split() if rest else []))
        tree = querying.parse(text)
        queries.append({
            "n": len(queries) + 1,
            "corpus": corpus,
            "q": text,
            "options": {option_names[k]: v for k, v in options.items()},
            "http": {"q": text, **options},
            "tree": _tree(querying, tree) if tree is not None else None,
            "filters": [[k, v] for k, v in options.items()],
        })
    return queries


def query_spec(text: str) -> dict[str, object]:
    """One query, without options, as the query workers take it."""
    from search import querying

    tree = querying.parse(text)
    return {"n": 0, "q": text, "options": {}, "filters": [], "tree": _tree(querying, tree) if tree else None}


def _tree(querying, node) -> dict[str, object]:  # noqa: ANN001
    """Qiao's parse tree as plain JSON, for the peers' query builders."""
    if isinstance(node, querying.Words):
        return {"t": "words", "text": node.text, "field": node.field}
    if isinstance(node, querying.Phrase):
        return {"t": "phrase", "text": node.text, "field": node.field}
    if isinstance(node, querying.Filter):
        return {"t": "filter", "field": node.field, "value": node.value}
    if isinstance(node, querying.Not):
        return {"t": "not", "node": _tree(querying, node.node)}
    kind = "and" if isinstance(node, querying.All) else "or"
    return {"t": kind, "nodes": [_tree(querying, n) for n in node.nodes]}


def filters_of(query: dict) -> list[tuple[str, str]]:
    """Filters from the options and from field:value in the query text."""
    found = [tuple(f) for f in query["filters"]]

    def walk(node: dict | None) -> None:
        if node is None:
            return
        if node["t"] == "filter":
            found.append((node["field"], node["value"]))
        for child in node.get("nodes", []):
            walk(child)

    walk(query["tree"])
    return found


def whoosh_text(node: dict | None) -> str:
    """The query in Whoosh's default syntax (filters dropped: the baseline has no such fields)."""
    if node is None:
        return ""
    t = node["t"]
    if t == "filter":
        return ""
    if t == "words":
        return f"{node['field']}:({node['text']})" if node["field"] else node["text"]
    if t == "phrase":
        return f'{node["field"] + ":" if node["field"] else ""}"{node["text"]}"'
    if t == "not":
        return f"NOT {whoosh_text(node['node'])}"
    parts = [p for p in (whoosh_text(n) for n in node["nodes"]) if p]
    joined = (" OR " if t == "or" else " ").join(parts)
    return f"({joined})" if t == "or" and len(parts) > 1 else joined


# --- engines: build --------------------------------------------------------------------------------


def build_qiao(input_path: Path, index_dir: Path, lang: str) -> int:
    """Qiao's normal build of a JSONL file."""
    from search.index import build

    return build([input_path], index_dir).indexed


def build_baseline(input_path: Path, index_dir: Path, lang: str) -> int:
    """The obvious build: ChineseAnalyzer on title and body, the default writer."""
    import whoosh.index
    from jieba.analyse import ChineseAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    jieba_module()
    schema = Schema(id=ID(stored=True), title=TEXT(analyzer=ChineseAnalyzer(), stored=True),
                    body=TEXT(analyzer=ChineseAnalyzer(), stored=True))
    index_dir.mkdir(parents=True)
    ix = whoosh.index.create_in(index_dir, schema)
    writer = ix.writer()
    n = 0
    for r in read_records(input_path, lang):
        writer.add_document(id=r["id"], title=r["title"], body=r["body"])
        n += 1
    writer.commit()
    ix.close()
    return n


def _tantivy_analyzer():  # noqa: ANN202
    import tantivy

    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).filter(tantivy.Filter.lowercase()).build()


def _tantivy_schema():  # noqa: ANN202
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True, tokenizer_name="jieba_ws")
    sb.add_text_field("body", stored=True, tokenizer_name="jieba_ws")
    for name in ("lang", "source", "category", "year"):
        sb.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    sb.add_date_field("published", stored=True, indexed=True, fast=True)
    return sb.build()


def build_tantivy(input_path: Path, index_dir: Path, lang: str) -> int:
    """tantivy over Python jieba's search-mode words (whitespace tokenizer, lower-cased)."""
    import tantivy

    jieba = jieba_module()
    index_dir.mkdir(parents=True)
    index = tantivy.Index(_tantivy_schema(), path=str(index_dir))
    index.register_tokenizer("jieba_ws", _tantivy_analyzer())
    writer = index.writer(heap_size=256_000_000)
    n = 0
    for r in read_records(input_path, lang):
        fields = {"id": r["id"], "title": segment_for_index(jieba, r["title"]),
                  "body": segment_for_index(jieba, r["body"]), "lang": lang}
        for name in ("source", "category"):
            if r[name]:
                fields[name] = r[name]
        if r["published"] is not None:
            fields["published"] = r["published"]
            fields["year"] = str(r["published"].year)
        writer.add_document(tantivy.Document(**fields))
        n += 1
    writer.commit()
    writer.wait_merging_threads()
    return n


def build_fts5(input_path: Path, index_dir: Path, lang: str) -> int:
    """SQLite FTS5 (unicode61) over Python jieba's search-mode words, plus a table of filter fields."""
    import sqlite3

    jieba = jieba_module()
    index_dir.mkdir(parents=True)
    con = sqlite3.connect(index_dir / "fts.db")
    con.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='unicode61')")
    con.execute("CREATE TABLE meta(rowid INTEGER PRIMARY KEY, id TEXT, lang TEXT, source TEXT,"
                " category TEXT, published TEXT)")
    n = 0
    with con:
        for r in read_records(input_path, lang):
            n += 1
            con.execute("INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)",
                        (n, segment_for_index(jieba, r["title"]), segment_for_index(jieba, r["body"])))
            published = r["published"].date().isoformat() if r["published"] else None
            con.execute("INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?)",
                        (n, r["id"], lang, r["source"], r["category"], published))
    con.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    con.commit()
    con.close()
    return n


BUILDERS: dict[str, Callable[[Path, Path, str], int]] = {
    "qiao": build_qiao, "baseline": build_baseline, "tantivy": build_tantivy, "fts5": build_fts5,
}


# --- engines: query --------------------------------------------------------------------------------


def searcher_qiao(index_dir: Path) -> Callable[[dict], int]:
    """Qiao's one search function: top 10 with highlights and facets."""
    from search.errors import QueryError
    from search.index import QiaoIndex
    from search.querying import search

    index = QiaoIndex(index_dir)

    def run(query: dict) -> int:
        try:
            return search(index, query["q"], per_page=TOP, **query["options"]).total_hits
        except QueryError as e:  # a timeout: counted by the caller, timed like any answer
            raise AnswerError(e.code) from None

    return run


def searcher_baseline(index_dir: Path) -> Callable[[dict], int]:
    """The obvious build: MultifieldParser, a searcher per query, default highlights of the body."""
    import whoosh.index
    from whoosh.qparser import MultifieldParser

    jieba_module()
    ix = whoosh.index.open_dir(index_dir)
    parser = MultifieldParser(["title", "body"], ix.schema)

    def run(query: dict) -> int:
        with ix.searcher() as searcher:
            results = searcher.search(parser.parse(whoosh_text(query["tree"])), limit=TOP)
            for hit in results:
                _ = (hit["id"], hit["title"], hit.highlights("body"))
            return len(results)

    return run


def searcher_tantivy(index_dir: Path) -> Callable[[dict], int]:
    """tantivy: a boolean query of jieba words, top 10 with snippets, four facet counts."""
    import tantivy
    from tantivy import Occur, Query

    jieba = jieba_module()
    index = tantivy.Index.open(str(index_dir))
    index.register_tokenizer("jieba_ws", _tantivy_analyzer())
    schema = index.schema
    searcher = index.searcher()
    facets = {name: {"terms": {"field": name, "size": 20}} for name in ("lang", "source", "category", "year")}

    def fields(name: str | None) -> tuple[str, ...]:
        return ("title",) if name == "title" else ("title", "body")

    def words(text: str, name: str | None, phrase: bool) -> Query | None:
        tokens = segment_query(jieba, text)
        if not tokens:
            return None
        per_field = []
        for f in fields(name):
            if phrase and len(tokens) > 1:
                per_field.append(Query.phrase_query(schema, f, tokens))
            else:
                per_field.append(Query.boolean_query([
                    (Occur.Must, Query.term_query(schema, f, t)) for t in tokens]))
        return Query.boolean_query([(Occur.Should, q) for q in per_field])

    def build(node: dict) -> Query | None:
        t = node["t"]
        if t in ("words", "phrase"):
            return words(node["text"], node["field"], t == "phrase")
        if t == "filter":
            return None
        if t == "not":
            inner = build(node["node"])
            return None if inner is None else Query.boolean_query(
                [(Occur.Must, Query.all_query()), (Occur.MustNot, inner)])
        occur = Occur.Must if t == "and" else Occur.Should
        parts = []
        for child in node["nodes"]:
            if child["t"] == "not" and t == "and":
                if (inner := build(child["node"])) is not None:
                    parts.append((Occur.MustNot, inner))
            elif (q := build(child)) is not None:
                parts.append((occur, q))
        return Query.boolean_query(parts) if parts else None

    def restrict(query: dict) -> list[Query]:
        out = []
        dates = {}
        for name, value in filters_of(query):
            if name in ("from", "to"):
                day = dt.datetime.fromisoformat(value)
                dates[name] = day if name == "from" else day + dt.timedelta(days=1)
            else:
                out.append(Query.term_query(schema, name, "zh" if value.startswith("zh") else value))
        if dates:
            out.append(Query.range_query(schema, "published", tantivy.FieldType.Date,
                                         dates.get("from", dt.datetime(1900, 1, 1)),
                                         dates.get("to", dt.datetime(2100, 1, 1)), include_upper=False))
        return out

    def run(query: dict) -> int:
        main = build(query["tree"]) if query["tree"] else None
        parts = ([(Occur.Must, main)] if main is not None else []) + [(Occur.Must, q) for q in restrict(query)]
        if not parts:
            return 0
        q = Query.boolean_query(parts)
        result = searcher.search(q, TOP, count=True)
        snippets = tantivy.SnippetGenerator.create(searcher, q, schema, "body")
        for _, address in result.hits:
            doc = searcher.doc(address)
            _ = (doc["id"], doc["title"], snippets.snippet_from_doc(doc).to_html())
        searcher.aggregate(q, facets)
        return result.count

    return run


def searcher_fts5(index_dir: Path) -> Callable[[dict], int]:
    """FTS5: a MATCH expression of jieba words, bm25 top 10 with highlight and snippet, facet counts."""
    import sqlite3

    jieba = jieba_module()
    con = sqlite3.connect(index_dir / "fts.db")

    def words(text: str, name: str | None, phrase: bool) -> str | None:
        tokens = [t.replace('"', '""') for t in segment_query(jieba, text)]
        if not tokens:
            return None
        expr = f'"{" ".join(tokens)}"' if phrase else " AND ".join(f'"{t}"' for t in tokens)
        return f"title : ({expr})" if name == "title" else f"({expr})"

    def build(node: dict) -> str | None:
        t = node["t"]
        if t in ("words", "phrase"):
            return words(node["text"], node["field"], t == "phrase")
        if t == "filter":
            return None
        if t == "not":
            return None  # FTS5's NOT is binary: handled by the "and" around it
        if t == "or":
            parts = [p for p in map(build, node["nodes"]) if p]
            return "(" + " OR ".join(parts) + ")" if parts else None
        positive = [p for n in node["nodes"] if n["t"] != "not" and (p := build(n))]
        negative = [p for n in node["nodes"] if n["t"] == "not" and (p := build(n["node"]))]
        if not positive:
            return None
        expr = "(" + " AND ".join(positive) + ")"
        return expr + "".join(f" NOT {p}" for p in negative)

    def where(query: dict) -> tuple[str, list[str]]:
        sql, args = [], []
        for name, value in filters_of(query):
            if name == "from":
                sql.append("m.published >= ?")
                args.append(value)
            elif name == "to":
                sql.append("m.published <= ?")
                args.append(value + "~")
            else:
                sql.append(f"m.{name} = ?")
                args.append("zh" if name == "lang" and value.startswith("zh") else value)
        return "".join(f" AND {s}" for s in sql), args

    def run(query: dict) -> int:
        match = build(query["tree"]) if query["tree"] else None
        if match is None:
            return 0
        extra, args = where(query)
        con.execute(
            "SELECT m.id, highlight(docs, 0, '<mark>', '</mark>'),"
            " snippet(docs, 1, '<mark>', '</mark>', '…', 32)"
            f" FROM docs, meta m WHERE docs MATCH ? AND m.rowid = docs.rowid{extra}"
            f" ORDER BY rank LIMIT {TOP}", [match, *args]).fetchall()
        groups = con.execute(
            "SELECT m.lang, m.source, m.category, substr(m.published, 1, 4), count(*)"
            f" FROM docs, meta m WHERE docs MATCH ? AND m.rowid = docs.rowid{extra}"
            " GROUP BY 1, 2, 3, 4", [match, *args]).fetchall()
        facets: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
        for *values, count in groups:
            for i, v in enumerate(values):
                facets[i][v] += count
        return sum(row[-1] for row in groups)

    return run


class AnswerError(Exception):
    """A query the engine refused to answer (Qiao's 2 s limit): counted, not fatal."""


SEARCHERS: dict[str, Callable[[Path], Callable[[dict], int]]] = {
    "qiao": searcher_qiao, "baseline": searcher_baseline, "tantivy": searcher_tantivy, "fts5": searcher_fts5,
}


# --- measuring helpers ------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank on a sorted copy, linear between ranks)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def latency_summary(ms: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean of latencies in milliseconds."""
    return {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99),
            "mean_ms": statistics.fmean(ms) if ms else float("nan"), "samples": len(ms)}


def _children_of() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        kids[ppid].append(int(entry))
    return kids


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    kids = _children_of()
    total, todo = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, []))
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
        except OSError:
            pass
    return total


class PeakRss(threading.Thread):
    """Samples a process tree's resident memory every 50 ms; ``peak`` is the largest sum seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop_event.wait(0.05)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def run_worker(args: list[str], prefix: list[str] | None = None, env: dict | None = None) -> dict:
    """Run ``bench/run.py <args>`` in a fresh process; its JSON result plus its memory peaks."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    cmd = [*(prefix or []), sys.executable, str(Path(__file__).resolve()), *args, "--result", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    sampler = PeakRss(proc.pid)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"worker failed ({proc.returncode}): {' '.join(cmd)}")
    result = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    result["peak_rss_mb"] = peak / 2**20
    result["maxrss_mb"] = usage.ru_maxrss / 1024
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # the worker and the processes it waited for
    return result


def dir_size(path: Path) -> int:
    """Bytes of all files under ``path`` (symlinks not followed)."""
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total


def qiao_executable() -> str:
    """The ``qiao`` command beside this Python."""
    candidate = Path(sys.executable).parent / "qiao"
    return str(candidate) if candidate.exists() else shutil.which("qiao") or "qiao"


# --- workers (run in their own process) -------------------------------------------------------------


def worker_build(engine: str, input_path: Path, index_dir: Path, lang: str) -> dict:
    """Build one engine's index, timing input reading, analysis, writing and the commit."""
    started = time.perf_counter()
    n = BUILDERS[engine](input_path, index_dir, lang)
    return {"articles": n, "seconds": time.perf_counter() - started}


def worker_query(engine: str, index_dir: Path, queries_path: Path, rounds: int) -> dict:
    """Answer every query once to warm up, then ``rounds`` more times, timing each."""
    queries = json.loads(queries_path.read_text(encoding="utf-8"))
    started = time.perf_counter()
    run = SEARCHERS[engine](index_dir)
    opened = time.perf_counter() - started
    hits: dict[int, int | str] = {}
    errors: collections.Counter = collections.Counter()
    first_ms = {}

    def answer(q: dict) -> int | str:
        try:
            return run(q)
        except AnswerError as e:
            errors[str(e)] += 1
            return str(e)

    for q in queries:
        t = time.perf_counter()
        hits[q["n"]] = answer(q)
        first_ms[q["n"]] = (time.perf_counter() - t) * 1000
    latencies: dict[int, list[float]] = {q["n"]: [] for q in queries}
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            answer(q)
            latencies[q["n"]].append((time.perf_counter() - t) * 1000)
    return {"open_s": opened, "hits": hits, "first_ms": first_ms, "latencies_ms": latencies,
            "errors": dict(errors)}


def worker_cold(engine: str, index_dir: Path, query_json: str) -> dict:
    """Open the index and answer one query (the peers' cold start; Qiao's is its CLI)."""
    run = SEARCHERS[engine](index_dir)
    return {"hits": run(json.loads(query_json))}


def worker_profile_query(index_dir: Path, queries_path: Path, out: Path) -> dict:
    """cProfile of Qiao's search over the queries (after one warm-up pass)."""
    import cProfile
    import pstats

    from search import querying

    querying.SEARCH_SECONDS = 600  # the profiler slows searches past Qiao's 2 s limit
    queries = json.loads(queries_path.read_text(encoding="utf-8"))
    run = searcher_qiao(index_dir)
    for q in queries:
        run(q)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for _ in range(2):
        for q in queries:
            run(q)
    profile.disable()
    seconds = time.perf_counter() - started
    profile.dump_stats(out)
    return {"seconds": seconds, "queries": 2 * len(queries), "top": top_pstats(pstats.Stats(str(out)))}


def top_pstats(stats, n: int = 15) -> dict[str, list[dict]]:  # noqa: ANN001
    """The top functions of a cProfile run by own time and by cumulative time."""
    total = stats.total_tt
    rows = []
    for (file, line, func), (cc, nc, tt, ct, _) in stats.stats.items():
        rows.append({"function": f"{func} ({short_path(file)}:{line})", "calls": nc,
                     "own_s": tt, "own_pct": 100 * tt / total, "cum_s": ct, "cum_pct": 100 * ct / total})
    by_own = sorted(rows, key=lambda r: -r["own_s"])[:n]
    by_cum = sorted((r for r in rows if "bench/run.py" not in r["function"] and "{" not in r["function"]),
                    key=lambda r: -r["cum_s"])[:n]
    return {"total_s": total, "by_own": by_own, "by_cumulative": by_cum}


def short_path(file: str) -> str:
    """A path from its package on: whoosh/searching.py, search/querying.py."""
    for marker in ("site-packages/", "/lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
    file = file.replace(str(ROOT) + "/", "")
    return re.sub(r"^\.?\d*/", "", file)


# --- py-spy profile of the build ----------------------------------------------------------------

CATEGORIES = (
    ("loading the rjieba dictionary (once per writer process)", ("Segmenter.__init__", "<module> (rjieba")),
    ("segmentation (rjieba)", ("rjieba",)),
    ("Qiao analysis: fold, tokenizers, stemming", ("search/analysis.py", "Stemmer")),
    ("Whoosh token plumbing and posting encoding", ("whoosh/analysis", "whoosh/formats.py", "whoosh/fields.py")),
    ("Whoosh segment writing: sort, postings, stored fields", (
        "whoosh/codec", "whoosh/externalsort.py", "whoosh/writing.py", "whoosh/filedb", "whoosh/columns.py",
        "whoosh/util", "whoosh/system.py")),
    ("reading articles: JSONL, dates, language, hashes", ("search/articles.py", "search/index.py", "json/")),
    ("IPC: pickling documents for the writer processes", ("pickle", "whoosh/multiproc.py", "multiprocessing")),
    ("imports and start-up", ("importlib", "<frozen")),
)


def summarize_pyspy(raw: Path, n: int = 15) -> dict:
    """Own-time and inclusive-time tops, and time by category, from py-spy's raw (collapsed) output."""
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    categories: collections.Counter = collections.Counter()
    processes: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        k = int(count)
        frames = stack.split(";")
        depth = sum(1 for f in frames if f.startswith("process "))
        frames = [_frame(f) for f in frames if not f.startswith("process ")]
        if not frames:
            continue
        total += k
        processes["writer processes" if depth > 1 else "main process"] += k
        own[frames[-1]] += k
        for f in set(frames):
            inclusive[f] += k
        categories[_category(frames)] += k

    def pct(counter: collections.Counter, limit: int | None) -> list[dict]:
        return [{"function": f, "pct": 100 * c / total} for f, c in counter.most_common(limit)]

    skip = ("<module>", "_bootstrap", "Popen", "Process", "run (multiprocessing", "start (multi",
            "worker_build", "main (bench", "build_qiao")
    return {
        "samples": total,
        "by_process": pct(processes, None),
        "by_category": pct(categories, None),
        "by_own": pct(own, n),
        "by_inclusive": [r for r in pct(inclusive, 60) if not any(s in r["function"] for s in skip)][:n],
    }


def _frame(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = short_path(where.rstrip(")"))
    where = re.sub(r":\d+$", "", where)
    return f"{name} ({where})"


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, markers in CATEGORIES:
            if any(m in frame for m in markers):
                return name
    return "other"


# --- the main run -----------------------------------------------------------------------------------


def machine() -> dict[str, object]:
    """What this ran on."""
    cpu = ""
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    versions = {}
    for name in ("whoosh", "jieba", "rjieba", "tantivy"):
        try:
            from importlib.metadata import version

            versions[name] = version({"whoosh": "whoosh-reloaded"}.get(name, name))
        except Exception:  # noqa: BLE001 - a missing package is just not listed
            pass
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    return {
        "cpus": len(os.sched_getaffinity(0)), "cpu": cpu, "memory_gb": round(mem / 2**30, 1),
        "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}",
        "versions": versions, "loadavg_start": os.getloadavg(), "qiao_commit": _git_state(),
    }


def _git_state() -> str:
    """The commit measured, and whether search/ or web/ had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "search", "web"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes in search/ or web/" if dirty else "")


def prepare(corpora: Path, data: Path, sizes: Sizes) -> dict[str, dict]:
    """The datasets: the first lines of each corpus, as the JSONL files every engine reads."""
    plan = {
        f"zh-{_k(sizes.zh_small)}": ("zh-news.jsonl", sizes.zh_small, "zh"),
        f"zh-{_k(sizes.zh_large)}": ("zh-news.jsonl", sizes.zh_large, "zh"),
        f"en-reuters-{_k(sizes.en)}": ("en-reuters.jsonl", sizes.en, "en"),
    }
    datasets = {}
    data.mkdir(parents=True, exist_ok=True)
    for name, (file, limit, lang) in plan.items():
        source = corpora / file
        if not source.is_file():
            raise SystemExit(f"no corpus at {source}; pass --corpora DIR")
        path = data / f"{name}.jsonl"
        with open(source, encoding="utf-8") as f, open(path, "w", encoding="utf-8") as out:
            for n, line in enumerate(f):
                if n >= limit:
                    break
                out.write(line)
        records, size = text_bytes(path)
        if records < limit:  # the whole corpus: name it so
            name = file.removesuffix(".jsonl")
            path = path.rename(data / f"{name}.jsonl")
        datasets[name] = {"path": str(path), "lang": lang, "corpus": file, "records": records, "text_bytes": size}
    return datasets


def _k(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def measure_builds(engines: list[str], datasets: dict, work: Path) -> dict:
    """Build every engine's index of every dataset, one process each."""
    results: dict[str, dict] = {e: {} for e in engines}
    for name, ds in datasets.items():
        for engine in engines:
            index_dir = work / "indexes" / engine / name
            print(f"  build {engine:<8} {name:<16}", end=" ", flush=True)
            r = run_worker(["_build", engine, ds["path"], str(index_dir), ds["lang"]])
            r["index_dir"] = str(index_dir)
            r["index_bytes"] = dir_size(index_dir)
            r["articles_per_s"] = r["articles"] / r["seconds"]
            r["mb_per_s"] = ds["text_bytes"] / 1e6 / r["seconds"]
            r["size_ratio"] = r["index_bytes"] / ds["text_bytes"]
            results[engine][name] = r
            print(f"{r['articles']:>6} articles {r['seconds']:7.1f} s {r['articles_per_s']:7.0f}/s "
                  f"{r['mb_per_s']:5.2f} MB/s  peak {r['peak_rss_mb']:5.0f} MB  "
                  f"index {r['index_bytes'] / 1e6:6.1f} MB ({r['size_ratio']:.2f}x text)", flush=True)
    return results


def measure_queries(engines: list[str], queries: list[dict], targets: dict[str, str],
                    builds: dict, work: Path, rounds: int) -> dict:
    """In-process latency of every query, per engine, each corpus's queries on its index."""
    out: dict[str, dict] = {}
    for engine in engines:
        latencies: list[float] = []
        per_corpus: dict[str, list[float]] = {}
        hits: dict[int, int | str] = {}
        errors: collections.Counter = collections.Counter()
        peak = 0.0
        for corpus, dataset in targets.items():
            subset = [q for q in queries if q["corpus"] == corpus]
            path = work / f"queries-{corpus}.json"
            path.write_text(json.dumps(subset, ensure_ascii=False), encoding="utf-8")
            print(f"  query {engine:<8} {len(subset)} {corpus} queries on {dataset}", end=" ", flush=True)
            r = run_worker(["_query", engine, builds[engine][dataset]["index_dir"], str(path), str(rounds)])
            values = [v for vs in r["latencies_ms"].values() for v in vs]
            latencies += values
            per_corpus[corpus] = values
            hits.update({int(k): v for k, v in r["hits"].items()})
            errors.update(r["errors"])
            peak = max(peak, r["peak_rss_mb"])
            print(f"p50 {percentile(values, 50):7.1f} ms  p95 {percentile(values, 95):7.1f} ms"
                  + (f"  errors {r['errors']}" if r["errors"] else ""), flush=True)
        out[engine] = {**latency_summary(latencies),
                       "by_corpus": {c: latency_summary(v) for c, v in per_corpus.items()},
                       "hits": hits, "errors": dict(errors), "peak_rss_mb": peak}
    return out


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_http(index_dir: str, queries: list[dict], seconds: float, clients: int = CLIENTS,
                 cache: bool = True) -> dict:
    """``qiao serve`` with its defaults (or ``--cache 0``); 8 client threads with keep-alive connections for ``seconds``."""
    from web.server import serve as serve_command

    defaults = {param.name: param.default for param in serve_command.params}
    port = free_port()
    options = [] if cache else ["--cache", "0"]
    cmd = [qiao_executable(), "serve", "--index", index_dir, "--port", str(port), *options]
    started = time.perf_counter()
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = _wait_ready(port, server, timeout=60)
        workers = len(_children_of().get(server.pid, []))
        paths = [f"/api/search?{urllib.parse.urlencode(q['http'])}" for q in queries]
        for path in paths:  # warm-up: every query once
            _get(port, path)
        sampler = PeakRss(server.pid)
        sampler.start()
        deadline = time.perf_counter() + seconds
        latencies: list[list[float]] = [[] for _ in range(clients)]
        errors = [0] * clients
        statuses: collections.Counter = collections.Counter()
        answers: collections.Counter = collections.Counter()  # X-Qiao-Cache: hit, miss or off

        def client(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            k = i * len(paths) // clients
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    conn.request("GET", paths[k % len(paths)])
                    response = conn.getresponse()
                    response.read()
                    latencies[i].append((time.perf_counter() - t) * 1000)  # errors are timed too
                    k += 1
                    answers[response.getheader("X-Qiao-Cache", "off")] += 1
                    if response.status != 200:
                        errors[i] += 1
                        statuses[response.status] += 1
                    continue
                except (OSError, http.client.HTTPException):
                    errors[i] += 1
                    statuses["connection"] += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.close()

        t0 = time.perf_counter()
        client_cpu, server_cpu = _cpu_seconds(os.getpid()), _tree_cpu_seconds(server.pid)
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        client_cpu, server_cpu = _cpu_seconds(os.getpid()) - client_cpu, _tree_cpu_seconds(server.pid) - server_cpu
        peak = sampler.stop()
        done = [v for vs in latencies for v in vs]
        return {**latency_summary(done), "requests": len(done), "errors": sum(errors), "seconds": elapsed,
                "error_statuses": {str(k): v for k, v in statuses.items()},
                "requests_per_s": len(done) / elapsed, "clients": clients,
                "server_workers": workers, "server_threads": defaults["threads"],
                "cache_size": defaults["cache"] if cache else 0, "cache_answers": dict(answers),
                "server_ready_s": ready - started, "server_peak_rss_mb": peak / 2**20,
                "server_cpu_s": server_cpu, "client_cpu_s": client_cpu,
                "queries": len(paths)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used by a process and its children (the server's master and workers)."""
    total = 0.0
    for p in [pid, *_children_of().get(pid, [])]:
        try:
            total += _cpu_seconds(p)
        except OSError:  # a worker that just exited
            pass
    return total


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (all its threads)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rfind(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _wait_ready(port: int, server: subprocess.Popen, timeout: float) -> float:
    """When the server first answers /healthz."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"qiao serve exited with {server.returncode}")
        try:
            if _get(port, "/healthz") in (200, 503):
                return time.perf_counter()
        except OSError:
            time.sleep(0.05)
    raise SystemExit("qiao serve did not answer within 60 s")


def measure_cold(engines: list[str], builds: dict, zh: str, en: str, runs: int) -> dict:
    """Process start to first answered query: median of ``runs`` fresh processes, after one untimed."""
    cases = {"zh": (zh, "香港 经济"), "en": (en, "oil prices")}
    out: dict[str, dict] = {}
    for engine in engines:
        out[engine] = {}
        for case, (dataset, query) in cases.items():
            index_dir = builds[engine][dataset]["index_dir"]
            if engine == "qiao":
                cmd = [qiao_executable(), "search", query, "--index", index_dir, "--json"]
            else:
                spec = json.dumps(query_spec(query), ensure_ascii=False)
                cmd = [sys.executable, str(Path(__file__).resolve()), "_cold", engine, index_dir, spec]
            times = []
            for i in range(runs + 1):
                t = time.perf_counter()
                subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
                if i:
                    times.append(time.perf_counter() - t)
            out[engine][case] = {"query": query, "index": dataset, "median_s": statistics.median(times),
                                 "runs_s": times}
            print(f"  cold  {engine:<8} {case} {query!r:<14} median {statistics.median(times):.2f} s", flush=True)
    return out


def profile_build(dataset: dict, work: Path) -> dict | None:
    """py-spy (all processes) of Qiao's build of a dataset, summarised; None without py-spy."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(pyspy).exists():
        print("  (py-spy not installed: no build profile; pip install -e '.[bench]')")
        return None
    raw = work / "build-profile.txt"
    index_dir = work / "indexes" / "profile"
    r = run_worker(["_build", "qiao", dataset["path"], str(index_dir), dataset["lang"]],
                   prefix=[pyspy, "record", "--subprocesses", "--rate", "100", "--format", "raw",
                           "--output", str(raw), "--"])
    shutil.rmtree(index_dir, ignore_errors=True)
    summary = summarize_pyspy(raw)
    summary.update({"tool": "py-spy record --subprocesses --rate 100", "articles": r["articles"],
                    "seconds": r["seconds"]})
    return summary


def targets_of(results: dict, datasets: dict, zh_large: str) -> list[dict]:
    """The issue's targets, each met or not, with the ratio against the baseline."""
    build = results["build"]
    q = results["query"]
    out = []

    def add(name: str, value: float, goal: float, higher: bool, unit: str) -> None:
        met = value >= goal if higher else value <= goal
        out.append({"target": name, "value": value, "goal": goal, "unit": unit, "met": met,
                    "by": value / goal if goal else float("nan"), "higher_is_better": higher})

    if "baseline" in build and "qiao" in build:
        for name in datasets:
            ratio = build["qiao"][name]["articles_per_s"] / build["baseline"][name]["articles_per_s"]
            add(f"index build {name}: articles/s vs baseline", ratio, 3.5, True, "x")
    if "baseline" in q and "qiao" in q:
        for p in ("p50_ms", "p95_ms"):
            add(f"query {p[:3]}: Qiao / baseline", q["qiao"][p] / q["baseline"][p], 0.2, False, "x")
    for key in HTTP_LABELS:
        if http := results.get(key):
            label = HTTP_LABELS[key]
            add(f"HTTP requests/s, {CLIENTS} clients, {zh_large}, {label}", http["requests_per_s"], 150, True, "req/s")
            add(f"HTTP p95, {CLIENTS} clients, {zh_large}, {label}", http["p95_ms"], 50, False, "ms")
    if cold := results.get("cold_start", {}).get("qiao"):
        for case, c in cold.items():
            add(f"cold start, {case} query ({c['query']})", c["median_s"], 1.5, False, "s")
    if "qiao" in build:
        for name in datasets:
            add(f"index size {name} / input text", build["qiao"][name]["size_ratio"], 4.0, False, "x")
    return out


# --- reporting ----------------------------------------------------------------------------------------


def _f(value: float, digits: int = 0) -> str:
    return "—" if value is None or value != value else f"{value:,.{digits}f}"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = lambda r: "  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def http_label(key: str, run: dict) -> str:
    """How an HTTP run is named in the tables; runs before the result cache had none."""
    return HTTP_LABELS[key] if "cache_size" in run else "no result cache"


def main_table(results: dict) -> tuple[list[str], list[list[str]]]:
    """Engine × metric: the table printed and put first in the Markdown."""
    datasets = list(results["datasets"])
    zh_large = datasets[1]
    header = ["engine", *(f"build {d} art/s" for d in datasets), f"MB/s {zh_large}",
              "query p50 ms", "p95 ms", "p99 ms", "cold start s (zh/en)",
              f"peak build RSS MB {zh_large}", f"index/text {zh_large}"]
    rows = []
    for engine in results["engines"]:
        b = results["build"].get(engine, {})
        q = results["query"].get(engine, {})
        cold = results.get("cold_start", {}).get(engine, {})
        rows.append([
            SHORT[engine],
            *(_f(b[d]["articles_per_s"]) if d in b else "—" for d in datasets),
            _f(b[zh_large]["mb_per_s"], 2) if zh_large in b else "—",
            _f(q.get("p50_ms"), 1), _f(q.get("p95_ms"), 1), _f(q.get("p99_ms"), 1),
            "/".join(_f(cold[c]["median_s"], 2) for c in ("zh", "en") if c in cold) or "—",
            _f(b[zh_large]["peak_rss_mb"]) if zh_large in b else "—",
            _f(b[zh_large]["size_ratio"], 2) + "x" if zh_large in b else "—",
        ])
    for key in HTTP_LABELS:
        if http := results.get(key):
            rows.append([f"Qiao over HTTP, {http['clients']} clients, {http_label(key, http)}",
                         *(["—"] * len(datasets)), "—",
                         _f(http["p50_ms"], 1), _f(http["p95_ms"], 1), _f(http["p99_ms"], 1),
                         f"{http['requests_per_s']:.0f} req/s", _f(http["server_peak_rss_mb"]) + " (server)", "—"])
    return header, rows


def render_markdown(results: dict) -> str:
    """docs/benchmark.md: tables, machine, command, targets, gaps to the peers, profiles."""
    m = results["machine"]
    datasets = results["datasets"]
    names = list(datasets)
    lines = [
        "# Benchmark: Qiao, the obvious build, tantivy and SQLite FTS5",
        "",
        f"Run on {results['date']} with:",
        "",
        f"    {results['command']}",
        "",
        f"Qiao at commit {m.get('qiao_commit', 'unknown')}. "
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gb']} GB RAM, Python {m['python']}, {m['os']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f". Load average at start {', '.join(f'{x:.1f}' for x in m['loadavg_start'])}, at end "
        + ", ".join(f"{x:.1f}" for x in results["loadavg_end"])
        + " (the machine is shared: expect ±15 % between runs).",
        "",
        "Engines: **Qiao** (`search.index.build` on the JSONL file; `search.querying.search`, top 10 with "
        "highlights and facets); **baseline**, the obvious build (Whoosh + `jieba.analyse.ChineseAnalyzer` "
        "on title and body, default writer, `MultifieldParser`, a searcher per query, "
        "`hit.highlights(\"body\")`); **tantivy** and **FTS5** (unicode61) fed Python jieba's "
        "`cut_for_search` words joined by spaces, queried with `jieba.cut` words, top 10 with snippets "
        "and facet counts (lang, source, category, year).",
        "",
        "## Summary",
        "",
        _md_table(*main_table(results)),
        "",
        "Build rates count everything from opening the JSONL file to the committed index (reading, "
        "segmenting, writing); peak RSS is the sum over the build's processes (Qiao writes with 2 "
        "processes), sampled every 50 ms. Cold start is a fresh process answering one query: "
        "`qiao search QUERY --json` for Qiao; open, segment, search and highlight for the others.",
        "",
        "## Index build",
        "",
    ]
    rows = []
    for engine in results["engines"]:
        for name in names:
            b = results["build"].get(engine, {}).get(name)
            if b is None:
                continue
            rows.append([SHORT[engine], name, _f(b["articles"]), _f(b["seconds"], 1), _f(b.get("cpu_s"), 1),
                         _f(b["articles_per_s"]),
                         _f(b["mb_per_s"], 2), _f(b["peak_rss_mb"]), _f(b["index_bytes"] / 1e6, 1),
                         _f(b["size_ratio"], 2) + "x"])
    lines += [_md_table(["engine", "dataset", "articles", "seconds", "CPU s", "articles/s", "MB text/s",
                         "peak RSS MB", "index MB", "index/text"], rows), ""]
    lines += ["Datasets (the first lines of each corpus): " + "; ".join(
        f"{n}: {d['records']:,} records, {d['text_bytes'] / 1e6:.1f} MB of title + body" for n, d in datasets.items())
        + ".", ""]
    lines += ["## Queries", ""]
    q = results["query"]
    rows = []
    for engine in results["engines"]:
        if engine not in q:
            continue
        r = q[engine]
        by = r["by_corpus"]
        rows.append([SHORT[engine], _f(r["p50_ms"], 1), _f(r["p95_ms"], 1), _f(r["p99_ms"], 1), _f(r["mean_ms"], 1),
                     *(f"{_f(by[c]['p50_ms'], 1)} / {_f(by[c]['p95_ms'], 1)}" for c in ("zh", "en") if c in by),
                     _f(r["peak_rss_mb"])])
    corpora = results["query_targets"]
    lines += [_md_table(["engine", "p50 ms", "p95 ms", "p99 ms", "mean ms",
                         *(f"{c} queries on {d}: p50 / p95" for c, d in corpora.items()), "peak RSS MB"], rows), ""]
    lines += [f"{results['queries']['count']} queries from `bench/queries.tsv` "
              f"({', '.join(f'{n} {c}' for c, n in results['queries']['by_corpus'].items())}): words, "
              "multi-word, quoted phrases, OR, exclusion, title:, and filters (category, lang, date range). "
              f"Each engine answers each query once to warm up, then {results['config']['rounds']} more times; "
              "the percentiles are over those answers. The baseline has no filter fields, so it gets the "
              "query text alone.", ""]
    runs = {key: results[key] for key in HTTP_LABELS if key in results}
    if runs:
        http = next(iter(runs.values()))
        server = (f"gunicorn: {http['server_workers']} worker processes × {http['server_threads']} threads"
                  if "server_workers" in http else f"waitress: one process, {http['server_threads']} threads")
        both = (f", once with its result cache (the default, {http['cache_size']:,} results per worker) and once "
                "with `--cache 0`, so that every request is searched" if len(runs) > 1 else "")
        lines += ["## Qiao over HTTP", "",
                  f"`qiao serve` ({server}) on the {names[1]} index{both}; {http['clients']} client threads with "
                  f"keep-alive connections, each cycling through the {http['queries']} zh queries for "
                  f"{http['seconds']:.0f} s, after every query was asked once. The clients run on the same 2 cores: "
                  + "; ".join(f"{'with' if r.get('cache_size') else 'without'} the cache they used "
                              f"{r['client_cpu_s']:.1f} CPU s and the server {r['server_cpu_s']:.1f}"
                              for r in runs.values())
                  + f", of the {m['cpus'] * http['seconds']:.0f} the machine had.",
                  "",
                  _md_table(["run", "requests", "errors", "requests/s", "p50 ms", "p95 ms", "p99 ms",
                             "answers hit / miss / off", "server peak RSS MB", "server ready s"],
                            [[http_label(k, r), _f(r["requests"]), _f(r["errors"]), _f(r["requests_per_s"], 1),
                              _f(r["p50_ms"], 1), _f(r["p95_ms"], 1), _f(r["p99_ms"], 1),
                              " / ".join(_f(r.get("cache_answers", {}).get(a, 0)) for a in ("hit", "miss", "off")),
                              _f(r["server_peak_rss_mb"]), _f(r["server_ready_s"], 2)] for k, r in runs.items()]), ""]
    lines += ["## Targets (issue 5)", ""]
    rows = []
    for t in results["targets"]:
        goal = f"{'≥' if t['higher_is_better'] else '≤'} {t['goal']:g}{'' if t['unit'] == 'x' else ' '}{t['unit']}"
        value = f"{t['value']:.2f}{'' if t['unit'] == 'x' else ' '}{t['unit']}"
        if t["met"]:
            verdict = "met"
        elif t["higher_is_better"]:
            verdict = f"**not met**: {t['goal'] / t['value']:.2f}× short" if t["value"] else "**not met**"
        else:
            verdict = f"**not met**: {t['value'] / t['goal']:.2f}× over"
        rows.append([t["target"], goal, value, verdict])
    lines += [_md_table(["target", "goal", "measured", "verdict"], rows), ""]
    gaps = peer_gaps(results)
    if gaps:
        lines += ["## Where Qiao is slower than tantivy or FTS5", "", *[f"- {g}" for g in gaps], ""]
    lines += render_profiles(results)
    return "\n".join(lines).rstrip() + "\n"


def peer_gaps(results: dict) -> list[str]:
    """One line for each metric where a peer beats Qiao, saying by how much."""
    out = []
    build, q = results["build"], results["query"]
    for peer in ("tantivy", "fts5"):
        if peer not in build or "qiao" not in build:
            continue
        for name in results["datasets"]:
            mine, theirs = build["qiao"][name]["articles_per_s"], build[peer][name]["articles_per_s"]
            if theirs > mine:
                out.append(f"build {name}: {SHORT[peer]} {theirs:,.0f} articles/s, Qiao {mine:,.0f} "
                           f"({theirs / mine:.2f}× faster)")
            mine, theirs = build["qiao"][name]["index_bytes"], build[peer][name]["index_bytes"]
            if theirs < mine:
                out.append(f"index size {name}: {SHORT[peer]} {theirs / 1e6:,.1f} MB, Qiao {mine / 1e6:,.1f} MB "
                           f"({mine / theirs:.2f}× larger)")
        if peer in q and "qiao" in q:
            for p in ("p50_ms", "p95_ms", "p99_ms"):
                mine, theirs = q["qiao"][p], q[peer][p]
                if theirs < mine:
                    out.append(f"query {p[:3]}: {SHORT[peer]} {theirs:.1f} ms, Qiao {mine:.1f} ms "
                               f"({mine / theirs:.1f}× slower)")
        cold = results.get("cold_start", {})
        if peer in cold and "qiao" in cold:
            for case in cold["qiao"]:
                mine, theirs = cold["qiao"][case]["median_s"], cold[peer][case]["median_s"]
                if theirs < mine:
                    out.append(f"cold start ({case}): {SHORT[peer]} {theirs:.2f} s, Qiao {mine:.2f} s "
                               f"({mine / theirs:.2f}× slower)")
    return out


def render_profiles(results: dict) -> list[str]:
    """The profile sections: where Qiao's build and query time goes."""
    lines: list[str] = []
    prof = results.get("profiles", {})
    if b := prof.get("build"):
        lines += ["## Profile: Qiao's build", "",
                  f"`{b['tool']}` of `search.index.build` on {b['dataset']} ({b['articles']:,} articles, "
                  f"{b['seconds']:.1f} s under the profiler), {b['samples']:,} samples over all processes.", "",
                  "Samples by process: " + ", ".join(f"{r['function']} {r['pct']:.0f} %" for r in b["by_process"])
                  + ".", "",
                  _md_table(["where the time goes (innermost recognised frame)", "% of samples"],
                            [[r["function"], f"{r['pct']:.1f}"] for r in b["by_category"]]), "",
                  _md_table(["function (own time)", "%"], [[f"`{r['function']}`", f"{r['pct']:.1f}"] for r in b["by_own"]]),
                  "",
                  _md_table(["function (inclusive)", "%"],
                            [[f"`{r['function']}`", f"{r['pct']:.1f}"] for r in b["by_inclusive"]]), ""]
    if qp := prof.get("query"):
        lines += ["## Profile: Qiao's query path", "",
                  f"cProfile of `search.querying.search` over the zh queries on {qp['dataset']}, "
                  f"{qp['queries']} searches in {qp['seconds']:.1f} s (cProfile slows Python code about 2×).", "",
                  _md_table(["function (own time)", "calls", "own s", "%"],
                            [[f"`{r['function']}`", _f(r["calls"]), _f(r["own_s"], 2), f"{r['own_pct']:.1f}"]
                             for r in qp["top"]["by_own"]]), "",
                  _md_table(["function (cumulative)", "calls", "cum s", "%"],
                            [[f"`{r['function']}`", _f(r["calls"]), _f(r["cum_s"], 2), f"{r['cum_pct']:.1f}"]
                             for r in qp["top"]["by_cumulative"]]), ""]
    if notes := results.get("notes"):
        lines += ["## Notes", "", notes.strip(), ""]
    return lines


# --- command line -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("_"):
        return internal(argv)
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
    if args.render:
        results = json.loads(args.render.read_text(encoding="utf-8"))
        if args.notes and args.notes.is_file():
            results["notes"] = args.notes.read_text(encoding="utf-8")
        print(_text_table(*main_table(results)))
        if args.md:
            args.md.write_text(render_markdown(results), encoding="utf-8")
        return 0
    engines = [e for e in args.engines.split(",") if e]
    unknown = set(engines) - set(ENGINES)
    if unknown or "qiao" not in engines:
        p.error(f"--engines must include qiao and only {', '.join(ENGINES)}")
    sizes = QUICK if args.quick else FULL
    work = args.workdir or Path(tempfile.mkdtemp(prefix="qiao-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    command = "python bench/run.py " + " ".join(argv)
    try:
        return run_all(args, engines, sizes, work, command)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def run_all(args: argparse.Namespace, engines: list[str], sizes: Sizes, work: Path, command: str) -> int:
    started = time.perf_counter()
    results: dict = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "command": command,
                     "machine": machine(), "engines": engines, "config": {**sizes.__dict__, "clients": CLIENTS}}
    print(f"datasets -> {work}", flush=True)
    datasets = prepare(args.corpora, work / "data", sizes)
    results["datasets"] = datasets
    names = list(datasets)
    zh_large, en = names[1], names[2]
    queries = load_queries(args.queries)
    query_targets = {"zh": zh_large, "en": en}
    results["query_targets"] = query_targets
    results["queries"] = {"count": len(queries),
                          "by_corpus": dict(collections.Counter(q["corpus"] for q in queries))}
    partial = work / "partial.json"

    def save() -> None:  # what was measured so far, in case a later step fails
        partial.write_text(json.dumps(results, ensure_ascii=False, default=str), encoding="utf-8")

    print("builds", flush=True)
    results["build"] = measure_builds(engines, datasets, work)
    save()
    print("queries in-process", flush=True)
    results["query"] = measure_queries(engines, queries, query_targets, results["build"], work, sizes.rounds)
    save()
    print("HTTP", flush=True)
    zh_queries = [q for q in queries if q["corpus"] == "zh"]
    for key, cache in (("http", True), ("http_nocache", False)):
        results[key] = measure_http(results["build"]["qiao"][zh_large]["index_dir"], zh_queries, sizes.http_seconds,
                                    cache=cache)
        h = results[key]
        print(f"  {HTTP_LABELS[key]}: {h['requests']} requests, {h['errors']} errors, {h['requests_per_s']:.1f} req/s, "
              f"p50 {h['p50_ms']:.1f} ms p95 {h['p95_ms']:.1f} ms p99 {h['p99_ms']:.1f} ms", flush=True)
        save()
    print("cold start", flush=True)
    results["cold_start"] = measure_cold(engines, results["build"], zh_large, en, sizes.cold_runs)
    save()
    if not args.no_profile:
        print("profiles", flush=True)
        results["profiles"] = {}
        build_profile = profile_build(datasets[names[0]], work)
        if build_profile:
            results["profiles"]["build"] = {**build_profile, "dataset": names[0]}
        path = work / "queries-zh.json"
        r = run_worker(["_profile_query", results["build"]["qiao"][zh_large]["index_dir"], str(path),
                        str(work / "query.prof")])
        results["profiles"]["query"] = {**r, "dataset": zh_large}
    results["targets"] = targets_of(results, datasets, zh_large)
    results["loadavg_end"] = os.getloadavg()
    results["total_seconds"] = time.perf_counter() - started
    if args.notes and args.notes.is_file():
        results["notes"] = args.notes.read_text(encoding="utf-8")
    for ds in results["datasets"].values():
        ds["path"] = Path(ds["path"]).name
    for per_engine in results["build"].values():
        for b in per_engine.values():
            b.pop("index_dir", None)
    print()
    print(_text_table(*main_table(results)))
    print()
    for t in results["targets"]:
        print(f"  {'MET    ' if t['met'] else 'NOT MET'} {t['target']}: {t['value']:.2f} {t['unit']} "
              f"(goal {'>=' if t['higher_is_better'] else '<='} {t['goal']:g})")
    for g in peer_gaps(results):
        print(f"  slower: {g}")
    print(f"\ntotal {results['total_seconds'] / 60:.1f} min")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    if args.md:
        args.md.parent.mkdir(parents=True, exist_ok=True)
        args.md.write_text(render_markdown(results), encoding="utf-8")
    return 0


def internal(argv: list[str]) -> int:
    """The sub-commands that run in their own process: _build, _query, _cold, _profile_query."""
    command, *rest = argv
    result_path = None
    if "--result" in rest:
        i = rest.index("--result")
        result_path = Path(rest[i + 1])
        rest = rest[:i] + rest[i + 2:]
    if command == "_build":
        engine, input_path, index_dir, lang = rest
        result = worker_build(engine, Path(input_path), Path(index_dir), lang)
    elif command == "_query":
        engine, index_dir, queries_path, rounds = rest
        result = worker_query(engine, Path(index_dir), Path(queries_path), int(rounds))
    elif command == "_cold":
        engine, index_dir, query = rest
        result = worker_cold(engine, Path(index_dir), query)
    elif command == "_profile_query":
        index_dir, queries_path, out = rest
        result = worker_profile_query(Path(index_dir), Path(queries_path), Path(out))
    else:
        raise SystemExit(f"unknown internal command {command}")
    if result_path is not None:
        result_path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
