#!/usr/bin/env python3
"""Measure Qiao's ranking on judged test collections, beside a BM25 reference and the obvious build.

Usage (from the repository root, with ``pip install -e '.[eval]'``):

    python bench/relevance.py --relevance ../shared/relevance \\
        --zh-corpus ../shared/corpora/zh-news.jsonl --out docs/relevance.md --json docs/relevance.json

English: CISI, MED, Cranfield, LISA and ADI in their original formats. Chinese: a known-item set made
from the first articles of a zh-news JSONL corpus (see ``zh_known_items``).

Each collection's documents are written as Qiao JSONL records and indexed by ``search.index.build``
(the normal ingestion); each query goes through ``search.query.search.search`` (the one query path)
as plain words: lower-cased, every character but letters, digits and Chinese characters turned
into a space, so that no question is read as query syntax. Scores come from ir_measures
(pytrec_eval), averaged over every judged query: a query that finds nothing counts as 0.

The references run on the same documents and the same plain queries:

- ``BM25 reference``: bm25s (its defaults: Lucene BM25, k1 = 1.5, b = 0.75) over the tokens of
  Qiao's own word analyzer for title + body (index mode) and the query (query mode);
- ``BM25 (rank_bm25)``: rank_bm25's BM25Okapi (k1 = 1.5, b = 0.75, its floor for negative IDF)
  over the same tokens, so that the reference is not one library's quirk;
- ``obvious build``: Whoosh with ``jieba.analyse.ChineseAnalyzer`` on title and body and Whoosh's
  ``MultifieldParser``: its default (every word must match) and with ``OrGroup``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from search.analysis import HAN, WordAnalyzer
from search.errors import QueryError
from search.index import QiaoIndex, build
from search.options import MAX_PER_PAGE, MAX_QUERY_CHARS
from search.query.search import search

DEPTH = MAX_PER_PAGE  # ranks retrieved per query, for every system
ENGLISH_MEASURES = ("AP@100", "nDCG@10", "P@10", "R@100")
KNOWN_ITEM_MEASURES = ("RR@10", "Success@1")
NATURAL_MEASURES = ("Success@10", "RR@10")
LABELS = {"AP@100": "MAP@100", "RR@10": "MRR@10", "Success@1": "success@1", "Success@10": "success@10"}
QIAO, BM25, RANK_BM25 = "Qiao", "BM25 reference", "BM25 (rank_bm25)"
OBVIOUS_AND, OBVIOUS_OR = "obvious build", "obvious build, OR"
SYSTEMS = (QIAO, BM25, RANK_BM25, OBVIOUS_AND, OBVIOUS_OR)

ZH_ARTICLES = 10_000
ZH_TARGETS = 500
ZH_SEED = 6
ZH_MIN_BODY_CHARS = 200
ZH_KEYWORDS = 20  # query words are drawn from the article's top TF-IDF words (jieba's IDF table)
ZH_TRADITIONAL_EVERY = 3  # every third query is converted to Traditional script

MARK_START, MARK_END = "<!-- results:start -->", "<!-- results:end -->"

Run = dict[str, list[str]]  # query id -> document ids, best first


@dataclass(frozen=True)
class Doc:
    """One document of a test collection, with any extra Qiao record fields (url, published…)."""

    id: str
    title: str
    body: str
    extra: Mapping[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, str]:
        """The document as a Qiao JSONL record."""
        return {"id": self.id, "title": self.title, "body": self.body, **self.extra}


@dataclass(frozen=True)
class Collection:
    """Documents, queries and relevance judgments (query id -> document id -> grade)."""

    name: str
    docs: tuple[Doc, ...]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    measures: tuple[str, ...] = ENGLISH_MEASURES

    @property
    def judged(self) -> list[str]:
        """The queries with at least one relevant document: the ones every score averages over."""
        return [q for q in self.queries if any(g > 0 for g in self.qrels.get(q, {}).values())]


# --- reading the collections --------------------------------------------------------------------

_MARKER = re.compile(r"\.([A-Z])(?:\s+(\S.*))?")


def read_smart(path: Path) -> list[tuple[str, dict[str, str]]]:
    """(id, {field letter: text}) of each record of a SMART file: ``.I id``, then ``.T``, ``.W``… fields.

    Lines of a field are joined with spaces: the files wrap text at a fixed width.
    """
    records: list[tuple[str, dict[str, str]]] = []
    current: str | None = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        m = _MARKER.fullmatch(line)
        if m and m.group(1) == "I":
            records.append((m.group(2), {}))
            current = None
        elif m and m.group(2) is None and records:
            current = m.group(1)
            records[-1][1].setdefault(current, "")
        elif current is not None and line:
            fields = records[-1][1]
            fields[current] = f"{fields[current]} {line}".strip()
    return records


def _docs(path: Path) -> tuple[Doc, ...]:
    """A SMART document file's title (.T) and text (.W); .A, .B and .X are not searched.

    Records with neither (Cranfield's 471 and 995) are left out: there is nothing to index.
    """
    docs = (Doc(i, f.get("T", ""), f.get("W", "")) for i, f in read_smart(path))
    return tuple(d for d in docs if d.title or d.body)


def _qrels(lines: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """Judgments from (query id, document id, grade) triples."""
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for qid, did, grade in lines:
        qrels[qid][did] = grade
    return dict(qrels)


def _columns(path: Path) -> list[list[str]]:
    """The whitespace-separated columns of each non-empty line."""
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cisi(folder: Path) -> Collection:
    """CISI: 1,460 library-science abstracts, 112 queries (76 judged); CISI.REL lists relevant pairs."""
    queries = {i: f.get("W", "") for i, f in read_smart(folder / "CISI.QRY")}
    qrels = _qrels((c[0], c[1], 1) for c in _columns(folder / "CISI.REL"))
    return Collection("CISI", _docs(folder / "CISI.ALL"), queries, qrels)


def med(folder: Path) -> Collection:
    """MED (Medlars): 1,033 medical abstracts without titles, 30 queries; MED.REL is in TREC format."""
    queries = {i: f.get("W", "") for i, f in read_smart(folder / "MED.QRY")}
    qrels = _qrels((c[0], c[2], int(c[3])) for c in _columns(folder / "MED.REL"))
    return Collection("MED", _docs(folder / "MED.ALL"), queries, qrels)


def cran(folder: Path) -> Collection:
    """Cranfield: 1,400 aeronautics abstracts, 225 queries.

    cran.qry numbers its queries 001…365 with gaps, cran.qrels 1…225: queries are renumbered by
    position. Grades are read as ir_datasets reads them (4 best … 1 least; -1, "of no interest",
    is not relevant). The readme beside the file gives Cleverdon's scale the other way round;
    only nDCG depends on the order.
    """
    queries = {str(n): f.get("W", "") for n, (_, f) in enumerate(read_smart(folder / "cran.qry"), 1)}
    qrels = _qrels((c[0], c[1], max(0, int(c[2]))) for c in _columns(folder / "cran.qrels"))
    return Collection("Cranfield", _docs(folder / "cran.all.1400"), queries, qrels)


def adi(folder: Path) -> Collection:
    """ADI: 82 documentation abstracts, 35 queries; SMART files like CISI's."""
    queries = {i: f.get("W", "") for i, f in read_smart(folder / "ADI.QRY")}
    qrels = _qrels((c[0], c[1], 1) for c in _columns(folder / "ADI.REL"))
    return Collection("ADI", _docs(folder / "ADI.ALL"), queries, qrels)


_LISA_DOCUMENT = re.compile(r"^Document\s+(\d+)\s*$", re.MULTILINE)


def lisa(folder: Path) -> Collection:
    """LISA: library-science abstracts of 1982, 35 natural-language queries (33 judged).

    The LISA* files are read in order as one text of records: ``Document N``, the title, a blank
    line, the abstract, a line of asterisks. There are 6,003 headers: LISA1.501 has no 1993-1997
    and repeats 1998-2001 word for word (2001 once more at the start of LISA2.001); the first of
    each is kept, so 5,999 documents. A query is a number, its text and a closing ``#``. The
    judgments give each query ``k Relevant Refs:`` and its documents, ended by -1; query 21's
    list has a stray ``1 Relevant Refs:`` line inside it (its 16 documents are all kept).
    """
    text = "".join(p.read_text(encoding="latin-1") for p in sorted(folder.glob("LISA[0-9]*")))
    text = text.replace("\r\n", "\n")
    parts = _LISA_DOCUMENT.split(text)[1:]  # number, record, number, record…
    docs: dict[str, Doc] = {}
    for number, record in zip(parts[::2], parts[1::2]):
        record = record.split("\n*****", 1)[0].strip("\n")
        title, _, abstract = record.partition("\n\n")
        docs.setdefault(number, Doc(number, " ".join(title.split()), " ".join(abstract.split())))
    queries_text = (folder / "LISA.QUE").read_text(encoding="latin-1").replace("\r\n", "\n")
    queries = {}
    for block in queries_text.split("#"):
        number, _, query = block.strip().partition("\n")
        if number.strip().isdigit():
            queries[number.strip()] = " ".join(query.split())
    qrels: dict[str, dict[str, int]] = {}
    judgments = (folder / "LISA.REL").read_text(encoding="latin-1")
    for number, block in re.findall(r"Query\s+(\d+)(.*?)-1", judgments, re.DOTALL):
        qrels[number] = {d: 1 for d in re.sub(r"\d+\s+Relevant\s+Refs:", " ", block).split()}
    return Collection("LISA", tuple(docs.values()), queries, qrels)


_HAN_WORD = re.compile(f"[{HAN}]{{2,}}")


def zh_known_items(
    corpus: Path, *, articles: int = ZH_ARTICLES, targets: int = ZH_TARGETS, seed: int = ZH_SEED,
) -> Collection:
    """A known-item set from the first ``articles`` distinct-URL records of a zh-news JSONL file.

    For ``targets`` articles sampled with a fixed seed (among those with a title no other article
    has, a story no other article has — a wire story republished under another title has two
    right answers — and a body of 200 characters or more), a query of 2 to 4 words drawn at random from the
    article's 20 best TF-IDF words (jieba's keyword extractor), in random order, joined with
    spaces (glued together, reordered words would make strings no one writes, which jieba may
    cut across the seams); every third query is converted to Traditional script (OpenCC s2t).
    The target is the one relevant document.
    """
    import opencc

    docs = _zh_documents(corpus, articles)
    rng = random.Random(seed)
    extractor = _tfidf()
    to_traditional = opencc.OpenCC("s2t").convert
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for n, doc in enumerate(rng.sample(_zh_targets(docs), targets), 1):
        words = _keywords(extractor, doc)
        picked = rng.sample(words, min(rng.choice((2, 3, 4)), len(words)))
        query = " ".join(picked)
        if n % ZH_TRADITIONAL_EVERY == 0:
            query = to_traditional(query)
        queries[str(n)] = query
        qrels[str(n)] = {doc.id: 1}
    return Collection("zh-news known items", tuple(docs), queries, qrels, KNOWN_ITEM_MEASURES)


ZH_NATURAL_SEED = 11
ZH_SENTENCE_CHARS = (12, 40)  # a typed sentence: long enough to say something, short enough to type
ZH_QUESTIONS = ("{}{}是怎么回事", "{}{}有什么新进展", "关于{}{}的最新消息", "{}和{}有什么关系")


def zh_natural_queries(
    corpus: Path, *, articles: int = ZH_ARTICLES, targets: int = ZH_TARGETS, seed: int = ZH_NATURAL_SEED,
) -> Collection:
    """Known items asked for as people type, without spaces, from the same articles as ``zh_known_items``.

    For each target article (drawn as there, with another seed), one query of each kind, in turn:

    - ``sentence``: a sentence of its body of 12 to 40 characters, punctuation removed, that no
      other article has (not a byline or a stock phrase);
    - ``sentence+1``: such a sentence with one word the article lacks glued to its end (a top
      keyword of another target), as when a reader remembers a story slightly wrong;
    - ``question``: two of its top keywords in a question template (关于…的最新消息, …是怎么回事).

    A sentence that cannot be found (the body has none of that length) moves on to the next
    kind. The query id carries its kind (``sentence:12``), so each kind can be scored alone.
    """
    docs = _zh_documents(corpus, articles)
    rng = random.Random(seed)
    extractor = _tfidf()
    targets_ = rng.sample(_zh_targets(docs), targets)
    keywords = {d.id: _keywords(extractor, d) for d in targets_}
    texts = [Doc(d.id, d.title, re.sub(r"[^\w]|_", "", d.body)) for d in docs]  # bodies as sentences are typed
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    kinds = ("sentence", "sentence+1", "question")
    for n, doc in enumerate(targets_, 1):
        sentences = [
            s for s in (re.sub(r"[^\w]|_", "", part) for part in re.split(r"[。！？；\n]", doc.body))
            if ZH_SENTENCE_CHARS[0] <= len(s) <= ZH_SENTENCE_CHARS[1] and _HAN_WORD.search(s)
        ]
        rng.shuffle(sentences)
        unique = next((s for s in sentences if sum(s in d.body for d in texts) == 1), None)
        kind = kinds[n % len(kinds)]
        words = keywords[doc.id]
        if kind != "question" and unique:
            query = unique
            if kind == "sentence+1":
                text = f"{doc.title}{doc.body}"
                other = rng.choice([d for d in targets_ if d is not doc])
                query += next((w for w in keywords[other.id] if w not in text), "")
        elif len(words) >= 2:
            kind = "question"
            query = rng.choice(ZH_QUESTIONS).format(*rng.sample(words[:5], 2))
        else:
            continue
        queries[f"{kind}:{n}"] = query
        qrels[f"{kind}:{n}"] = {doc.id: 1}
    return Collection("zh-news natural queries", tuple(docs), queries, qrels, NATURAL_MEASURES)


def _zh_documents(corpus: Path, articles: int) -> list[Doc]:
    """The first ``articles`` records of a zh-news JSONL file with a title, a body and a URL not seen before."""
    docs: list[Doc] = []
    seen: set[str] = set()
    with open(corpus, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            record = json.loads(line)
            url, title, body = (str(record.get(k) or "") for k in ("url", "title", "body"))
            if url in seen or not title or not body:
                continue
            seen.add(url)
            extra = {k: str(record[k]) for k in ("url", "published", "source", "category") if record.get(k)}
            docs.append(Doc(f"zh-news:{n}", title, body, extra))
            if len(docs) == articles:
                break
    return docs


def _zh_targets(docs: list[Doc]) -> list[Doc]:
    """The articles that can be a known item: a title and a story no other article has, a long enough body."""
    titles = Counter(d.title for d in docs)
    stories = Counter(_story(d.body) for d in docs)
    return [
        d for d in docs
        if titles[d.title] == 1 and stories[_story(d.body)] == 1 and len(d.body) >= ZH_MIN_BODY_CHARS
    ]


def _tfidf() -> object:
    """jieba's TF-IDF keyword extractor, quiet."""
    import jieba
    import jieba.analyse  # the bench only: search/ never imports jieba.analyse

    jieba.setLogLevel(60)
    return jieba.analyse.TFIDF()


def _keywords(extractor: object, doc: Doc) -> list[str]:
    """An article's best TF-IDF words (jieba's keyword extractor) of two or more Chinese characters."""
    return [w for w in extractor.extract_tags(f"{doc.title}\n{doc.body}", topK=ZH_KEYWORDS)  # type: ignore[attr-defined]
            if _HAN_WORD.fullmatch(w)]


def _story(body: str) -> str:
    """What tells a story from a copy with another title or editor: its first 200 word characters."""
    return re.sub(r"\W", "", body)[:200]


# --- the systems ----------------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[^\w\s]|_")


def plain(query: str) -> str:
    """The query as plain words: lower case, no punctuation, so nothing in it is query syntax.

    >>> plain('What is "information science"? (Give definitions -- OR examples.)')
    'what is information science give definitions or examples'
    """
    return " ".join(_NOT_WORD.sub(" ", query.lower()).split())[:MAX_QUERY_CHARS]


def write_records(docs: Iterable[Doc], path: Path) -> None:
    """Write documents as Qiao JSONL records."""
    with open(path, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc.record(), ensure_ascii=False) + "\n")


def build_qiao(collection: Collection, workdir: Path) -> Path:
    """Index a collection with Qiao's normal ingestion; the index directory."""
    source = workdir / f"{_slug(collection.name)}.jsonl"
    index_dir = workdir / f"{_slug(collection.name)}-qiao"
    write_records(collection.docs, source)
    summary = build([source], index_dir)
    if summary.skipped or summary.indexed != len(collection.docs):
        raise RuntimeError(f"{collection.name}: indexed {summary.indexed} of {len(collection.docs)}")
    return index_dir


def run_qiao(collection: Collection, index_dir: Path) -> tuple[Run, int]:
    """Each query's top ids from Qiao's search function, and how many queries it refused.

    A refused query (over the time or word limit) finds nothing, as it would for a user.
    """
    run: Run = {}
    refused = 0
    with QiaoIndex(index_dir) as ix:
        for qid, q in collection.queries.items():
            try:
                # Every article ranked (collapse off): judgments are per document, and a judged
                # near-duplicate folded under another would be missing from the run.
                run[qid] = [h.id for h in search(ix, plain(q), per_page=DEPTH, collapse=False).hits]
            except QueryError:
                run[qid] = []
                refused += 1
    return run, refused


def _word_tokens() -> Callable[[str, str], list[str]]:
    """The tokens of Qiao's word analyzer for a text, in "index" or "query" mode."""
    analyzer = WordAnalyzer()

    def tokens(text: str, mode: str) -> list[str]:
        return [t.text for t in analyzer(text, mode=mode)]

    return tokens


def run_bm25(collection: Collection) -> Run:
    """Each query's top ids from bm25s over Qiao's word-analyzer tokens."""
    import bm25s

    tokens = _word_tokens()
    retriever = bm25s.BM25()
    retriever.index([tokens(f"{d.title}\n{d.body}", "index") for d in collection.docs], show_progress=False)
    vocab = retriever.vocab_dict
    run: Run = {}
    for qid, q in collection.queries.items():
        words = [t for t in tokens(plain(q), "query") if t in vocab]
        if not words:
            run[qid] = []
            continue
        found, scores = retriever.retrieve([words], k=min(DEPTH, len(collection.docs)), show_progress=False)
        run[qid] = [collection.docs[i].id for i, s in zip(found[0], scores[0]) if s > 0]
    return run


def run_rank_bm25(collection: Collection) -> Run:
    """Each query's top ids from rank_bm25's Okapi BM25 (k1 1.5, b 0.75, its IDF floor) over the same tokens:
    a second library, so that the reference is not one implementation's quirk."""
    import numpy as np
    from rank_bm25 import BM25Okapi

    tokens = _word_tokens()
    ranker = BM25Okapi([tokens(f"{d.title}\n{d.body}", "index") for d in collection.docs])
    run: Run = {}
    for qid, q in collection.queries.items():
        scores = ranker.get_scores(tokens(plain(q), "query"))
        best = np.argsort(-scores, kind="stable")[:DEPTH]
        run[qid] = [collection.docs[i].id for i in best if scores[i] > 0]
    return run


def run_obvious(collection: Collection, workdir: Path) -> dict[str, Run]:
    """Each query's top ids from Whoosh + jieba's ChineseAnalyzer, with AND and with OR parsing."""
    from jieba.analyse import ChineseAnalyzer
    from whoosh import fields, index, qparser

    analyzer = ChineseAnalyzer()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=analyzer),
        body=fields.TEXT(analyzer=analyzer),
    )
    index_dir = workdir / f"{_slug(collection.name)}-obvious"
    index_dir.mkdir()
    ix = index.create_in(index_dir, schema)
    with ix.writer(limitmb=256) as writer:
        for d in collection.docs:
            writer.add_document(id=d.id, title=d.title, body=d.body)
    parsers = {
        OBVIOUS_AND: qparser.MultifieldParser(["title", "body"], schema),
        OBVIOUS_OR: qparser.MultifieldParser(["title", "body"], schema, group=qparser.OrGroup),
    }
    runs: dict[str, Run] = {}
    with ix.searcher() as searcher:
        for name, parser in parsers.items():
            runs[name] = {
                qid: [r["id"] for r in searcher.search(parser.parse(plain(q)), limit=DEPTH)]
                for qid, q in collection.queries.items()
            }
    ix.close()
    return runs


# --- scoring ----------------------------------------------------------------------------------------


def evaluate(collection: Collection, run: Run) -> dict[str, float]:
    """The collection's measures, averaged over its judged queries (a query with no hits scores 0)."""
    import ir_measures

    qrels = [ir_measures.Qrel(q, d, g) for q, docs in collection.qrels.items() for d, g in docs.items()]
    # Scores that keep the system's own order: trec_eval would break ties by document id.
    scored = [
        ir_measures.ScoredDoc(q, d, float(len(ids) - rank))
        for q, ids in run.items() for rank, d in enumerate(ids)
    ]
    measures = [ir_measures.parse_measure(m) for m in collection.measures]
    per_query: dict[str, dict[str, float]] = defaultdict(dict)
    for m in ir_measures.iter_calc(measures, qrels, scored):
        per_query[str(m.measure)][m.query_id] = m.value
    judged = collection.judged
    return {
        name: sum(per_query[name].get(q, 0.0) for q in judged) / len(judged)
        for name in collection.measures
    }


@dataclass
class Result:
    """One collection's numbers for every system."""

    collection: Collection
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    refused: int = 0  # queries Qiao answered with an error
    empty: dict[str, float] = field(default_factory=dict)  # share of judged queries with no hits at all
    kinds: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # kind -> system -> measures


def measure(collection: Collection, workdir: Path, log: Callable[[str], None]) -> Result:
    """Run the three systems on a collection and score them."""
    result = Result(collection)
    started = time.perf_counter()
    runs: dict[str, Run] = {}
    runs[QIAO], result.refused = run_qiao(collection, build_qiao(collection, workdir))
    result.seconds[QIAO] = time.perf_counter() - started
    started = time.perf_counter()
    runs[BM25] = run_bm25(collection)
    result.seconds[BM25] = time.perf_counter() - started
    started = time.perf_counter()
    runs[RANK_BM25] = run_rank_bm25(collection)
    result.seconds[RANK_BM25] = time.perf_counter() - started
    started = time.perf_counter()
    runs.update(run_obvious(collection, workdir))
    result.seconds[OBVIOUS_AND] = result.seconds[OBVIOUS_OR] = time.perf_counter() - started
    judged = collection.judged
    kinds = sorted({q.split(":")[0] for q in judged if ":" in q})
    for name in SYSTEMS:
        result.scores[name] = evaluate(collection, runs[name])
        result.empty[name] = sum(not runs[name].get(q) for q in judged) / len(judged)
        for kind in kinds:
            part = Collection(collection.name, collection.docs,
                              {q: t for q, t in collection.queries.items() if q.startswith(f"{kind}:")},
                              collection.qrels, collection.measures)
            scores = evaluate(part, runs[name])
            scores["no hits"] = sum(not runs[name].get(q) for q in part.judged) / len(part.judged)
            result.kinds.setdefault(kind, {})[name] = scores
        log(f"{collection.name:>22}  {name:<18} "
            + "  ".join(f"{LABELS.get(m, m)} {v:.4f}" for m, v in result.scores[name].items())
            + f"  no hits {result.empty[name]:.3f}")
    return result


# --- reporting --------------------------------------------------------------------------------------


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values)


def markdown(results: list[Result], command: str, seconds: float) -> str:
    """The results section of docs/relevance.md."""
    english = [r for r in results if r.collection.measures == ENGLISH_MEASURES]
    lines = [MARK_START, ""]
    if english:
        lines += _english_tables(english)
    for r in results:
        if r.collection.measures != ENGLISH_MEASURES:
            lines += _chinese_table(r)
    lines += _costs_table(results)
    lines += [
        "",
        "Seconds include indexing. Made by:",
        "",
        f"    {command}",
        "",
        f"in {seconds:.0f} s on {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        MARK_END,
    ]
    return "\n".join(lines) + "\n"


def _english_tables(english: list[Result]) -> list[str]:
    """Every system on every English collection, their means, and Qiao's MAP@100 against BM25's."""
    head = [LABELS.get(m, m) for m in ENGLISH_MEASURES]
    lines = ["| collection | system | " + " | ".join(head) + " |", "|---|---|" + "---:|" * len(head)]
    for r in english:
        for name in SYSTEMS:
            cells = [f"{r.scores[name][m]:.4f}" for m in ENGLISH_MEASURES]
            bold = name == QIAO
            lines.append(f"| {r.collection.name} | {'**' + name + '**' if bold else name} | "
                         + " | ".join(f"**{c}**" if bold else c for c in cells) + " |")
    for name in SYSTEMS:
        cells = [f"{_mean(r.scores[name][m] for r in english):.4f}" for m in ENGLISH_MEASURES]
        lines.append(f"| mean of {len(english)} | {name} | " + " | ".join(cells) + " |")
    lines.append("")
    ratios = [r.scores[QIAO]["AP@100"] / r.scores[BM25]["AP@100"] - 1 for r in english]
    lines.append(
        "Qiao's MAP@100 against the BM25 reference: "
        + ", ".join(f"{r.collection.name} {x:+.1%}" for r, x in zip(english, ratios))
        + f"; mean of the per-collection changes {_mean(ratios):+.1%}."
    )
    lines.append("")
    return lines


def _chinese_table(r: Result) -> list[str]:
    """Every system on a Chinese collection: over all its queries, then by kind of query."""
    measures = r.collection.measures
    head = [LABELS.get(m, m) for m in measures] + ["no hits"]
    lines = [f"{r.collection.name}: {len(r.collection.docs):,} articles, "
             f"{len(r.collection.judged)} queries.", "",
             "| queries | system | " + " | ".join(head) + " |", "|---|---|" + "---:|" * len(head)]
    for kind, scores in [("all", {n: {**r.scores[n], "no hits": r.empty[n]} for n in SYSTEMS}),
                         *r.kinds.items()]:
        for name in SYSTEMS:
            cells = [f"{scores[name][m]:.4f}" for m in measures] + [f"{scores[name]['no hits']:.1%}"]
            lines.append(f"| {kind} | {name} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _costs_table(results: list[Result]) -> list[str]:
    """Each collection's size, the queries Qiao refused, and each system's seconds."""
    lines = [
        "| collection | documents | queries judged | refused by Qiao | Qiao s | BM25 s | obvious s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.collection.name} | {len(r.collection.docs):,} | {len(r.collection.judged)} | "
                     f"{r.refused} | {r.seconds[QIAO]:.1f} | {r.seconds[BM25]:.1f} | {r.seconds[OBVIOUS_AND]:.1f} |")
    return lines


def write_markdown(path: Path, section: str, start: str = MARK_START, end: str = MARK_END) -> None:
    """Replace a section of ``path`` (between its markers ``start`` and ``end``), or add it at the end."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in text and end in text:
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        text = before + section.rstrip("\n") + after
    else:
        text = f"{text}\n{section}" if text else section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def to_json(results: list[Result], command: str, seconds: float) -> dict[str, object]:
    """Every number of the run, for machines."""
    return {
        "command": command,
        "seconds": round(seconds, 1),
        "collections": {
            r.collection.name: {
                "documents": len(r.collection.docs),
                "queries_judged": len(r.collection.judged),
                "refused_by_qiao": r.refused,
                "systems": {
                    name: {
                        **{LABELS.get(m, m): round(v, 4) for m, v in r.scores[name].items()},
                        "no_hits": round(r.empty[name], 4),
                        "seconds": round(r.seconds[name], 1),
                    }
                    for name in SYSTEMS
                },
                "by_kind": {
                    kind: {name: {LABELS.get(m, m): round(v, 4) for m, v in scores[name].items()} for name in SYSTEMS}
                    for kind, scores in r.kinds.items()
                },
            }
            for r in results
        },
    }


def _log(line: str) -> None:
    """Progress on stderr."""
    print(line, file=sys.stderr, flush=True)


def _slug(name: str) -> str:
    return re.sub(r"\W+", "-", name.lower()).strip("-")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--relevance", type=Path, help="folder with cisi/, med/, cran/, lisa/ and adi/")
    ap.add_argument("--zh-corpus", type=Path, help="zh-news JSONL file for the known-item set")
    ap.add_argument("--zh-articles", type=int, default=ZH_ARTICLES, help="articles to index (default %(default)s)")
    ap.add_argument("--zh-queries", type=int, default=ZH_TARGETS, help="known-item queries (default %(default)s)")
    ap.add_argument("--only", nargs="+", choices=("cisi", "med", "cran", "lisa", "adi", "zh", "zh-natural"),
                    help="run only these collections")
    ap.add_argument("--out", type=Path, help="Markdown file to write the results section of")
    ap.add_argument("--json", type=Path, help="JSON file to write every number to")
    args = ap.parse_args(argv)
    if args.relevance is None and args.zh_corpus is None:
        ap.error("give --relevance, --zh-corpus or both")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and write the reports."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    only = set(args.only or ("cisi", "med", "cran", "lisa", "adi", "zh", "zh-natural"))
    started = time.perf_counter()
    collections: list[Callable[[], Collection]] = []
    if args.relevance is not None:
        readers = {"cisi": (cisi, "cisi"), "med": (med, "med"), "cran": (cran, "cran"), "lisa": (lisa, "lisa"),
                   "adi": (adi, "adi")}
        for key, (reader, folder) in readers.items():
            if key in only:
                collections.append(lambda r=reader, p=args.relevance / folder: r(p))
    if args.zh_corpus is not None and "zh" in only:
        collections.append(lambda: zh_known_items(args.zh_corpus, articles=args.zh_articles, targets=args.zh_queries))
    if args.zh_corpus is not None and "zh-natural" in only:
        collections.append(
            lambda: zh_natural_queries(args.zh_corpus, articles=args.zh_articles, targets=args.zh_queries))
    with tempfile.TemporaryDirectory(prefix="qiao-relevance-") as tmp:
        results = [measure(load(), Path(tmp), _log) for load in collections]
    seconds = time.perf_counter() - started
    command = "python bench/relevance.py " + " ".join(argv)
    section = markdown(results, command, seconds)
    if args.out:
        write_markdown(args.out, section)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(results, command, seconds), ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
