"""Suggestions while typing: the typed text's last word completed from the index's frequent
words, and the titles with a word that starts as the typed text does.

Words come from the index itself: its Chinese words from the lexicon of the title and body
fields (folded to Simplified, as indexed, so 醫 and 医 complete alike), its English words from
the stored titles and bodies (the lexicon holds Snowball stems, cooper for cooperation, which
are not words to show). A word is offered when at least ``MIN_ARTICLES`` articles have it, the
one in the most articles first (a Chinese word's articles are those with it in their body, or
in their title when those are more: the lexicon counts each field apart). Titles match at the start of any of their words (as the word
analyzer cuts them, so 香 finds 重庆与香港加强合作); the title of the most articles first (wire
copy repeated by several sources is one title of several articles), then the newest.

What is read from a segment is kept in the segment cache (``whoosh_glue.per_segment``), and the
sorted tables that prefixes are looked up in are made once per state of the index
(``whoosh_glue.per_searcher``), so a keystroke is a few binary searches, not a scan. A sharded
index is one searcher over every shard's segments: the same code serves it.
"""

from __future__ import annotations

import bisect
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search.analysis import HAN, HAN_CHAR, STOP, fold
from search.errors import NotServedByRay, QueryError
from search.index import QiaoIndex
from search.options import MAX_QUERY_CHARS
from search.shards import RemoteShards
from search.whoosh_glue import NO_KEY, per_searcher, per_segment, sort_keys

WORD_FIELDS = ("title", "body")
MIN_ARTICLES = 2  # a word of one article is more often a slip or a name cut wrong than a word to offer
DEFAULT_LIMIT = 8
MAX_LIMIT = 20
LONGEST_HAN_WORD = 4  # how far back from the end of a Chinese run the word being typed may start
TITLE_CHARS = 200  # longer typed text is not looked for in titles
_HAN_WORD = re.compile(f"[{HAN}]{{2,}}")
_ENGLISH_WORD = re.compile(r"[a-z][a-z0-9]*(?:'[a-z]+)*")
# The word being typed at the end of the folded text: a Chinese run, or a Latin word.
_LAST_WORD = re.compile(rf"(?:[{HAN}]+|[a-z][a-z0-9]*(?:'[a-z]*)?)$")


@dataclass(frozen=True)
class Completion:
    """One suggestion: the text the search box would hold, and what it is."""

    text: str  # a word: the typed text with its last word completed; a title: the title
    kind: str  # "word" or "title"
    articles: int  # the articles with the word, or with the title
    id: str | None = None  # a title's newest article

    def to_dict(self) -> dict[str, object]:
        """The suggestion as the JSON API returns it."""
        return {"text": self.text, "kind": self.kind, "articles": self.articles, "id": self.id}


@dataclass(frozen=True)
class Completions:
    """The suggestions for a typed text: words first, then titles."""

    query: str
    suggestions: tuple[Completion, ...]
    processing_time_ms: float

    def to_dict(self) -> dict[str, object]:
        """As ``GET /api/suggest`` and ``qiao suggest --json`` return it."""
        return {
            "ok": True,
            "query": self.query,
            "suggestions": [s.to_dict() for s in self.suggestions],
            "processing_time_ms": self.processing_time_ms,
        }


@dataclass(frozen=True)
class _SegmentTitle:
    """A title of one segment's article: folded (for matching), as written, and its article."""

    folded: str
    title: str
    docnum: int
    id: str
    published: int  # the date's sort key (whoosh_glue.sort_keys), NO_KEY for none
    starts: tuple[int, ...]  # where the words of the folded title start


class _Tables:
    """The sorted tables a prefix is looked up in, for one state of the index."""

    def __init__(self, words: Counter[str], titles: list[list[_SegmentTitle]]) -> None:
        kept = sorted(w for w, n in words.items() if n >= MIN_ARTICLES)
        self.words = kept
        self.word_articles = np.array([words[w] for w in kept], np.int64)
        groups: dict[str, list[_SegmentTitle]] = {}
        for segment in titles:
            for t in segment:
                groups.setdefault(t.folded, []).append(t)
        # One entry per distinct title: shown as its newest article's, counted over all its articles.
        folded = list(groups)
        newest = [max(groups[f], key=lambda t: (t.published != NO_KEY, t.published, t.id)) for f in folded]
        copies = np.array([len(groups[f]) for f in folded], np.int64)
        dates = np.array([t.published if t.published != NO_KEY else 0 for t in newest], np.uint64)
        self.titles = newest
        self.title_articles = copies
        # A title's rank: most articles first, then the newest, then by its text.
        order = sorted(range(len(folded)), key=lambda i: (-int(copies[i]), -int(dates[i]), folded[i]))
        self.title_rank = np.empty(len(folded), np.int64)
        self.title_rank[order] = np.arange(len(folded))
        # Where each title's words start, sorted by the text from there on: kept as two arrays
        # of numbers, not as those texts (a fifth of the memory on zh-20k).
        self._folded = folded
        entries = sorted(((i, s) for i, t in enumerate(newest) for s in t.starts), key=lambda e: folded[e[0]][e[1] :])
        self.suffix_title = np.array([i for i, _ in entries], np.int64)
        self.suffix_start = np.array([s for _, s in entries], np.int64)

    def best_words(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """The words starting with ``prefix``, most articles first, at most ``limit``."""
        lo, hi = _prefix_range(self.words, prefix)
        counts = self.word_articles[lo:hi]
        picked = np.lexsort((np.arange(hi - lo), -counts))[:limit]  # ties: alphabetical
        return [(self.words[lo + i], int(counts[i])) for i in picked.tolist()]

    def best_titles(self, prefix: str, limit: int) -> list[tuple[_SegmentTitle, int]]:
        """The titles with a word starting as ``prefix`` does, best first, at most ``limit``."""
        lo, hi = _prefix_range(range(len(self.suffix_title)), prefix, key=self._suffix)
        found = np.unique(self.suffix_title[lo:hi])
        best = found[np.argsort(self.title_rank[found])[:limit]]
        return [(self.titles[i], int(self.title_articles[i])) for i in best.tolist()]

    def _suffix(self, k: int) -> str:
        """The text of the ``k``-th title word start: its title from there on."""
        return self._folded[self.suffix_title[k]][self.suffix_start[k] :]


def _prefix_range(keys: Sequence[object], prefix: str, key: Callable[[Any], str] | None = None) -> tuple[int, int]:
    """The range of the sorted ``keys`` (each as ``key`` gives it) that start with ``prefix``."""
    lo = bisect.bisect_left(keys, prefix, key=key)
    return lo, bisect.bisect_left(keys, prefix + "\U0010ffff", lo, key=key)


def complete(index: QiaoIndex, q: str, *, limit: int = DEFAULT_LIMIT) -> Completions:
    """Suggestions for the text ``q`` typed so far: its last word completed (``kind`` word), and
    titles with a word that starts as ``q`` does (``kind`` title); at most ``limit`` in all.

    Words take the first places; titles at least half of them when there are enough. A QueryError
    for a ``limit`` outside 1 to MAX_LIMIT or a ``q`` longer than a query may be.
    """
    started = time.perf_counter()
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be from 1 to {MAX_LIMIT}, not {limit}")
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"the text is longer than {MAX_QUERY_CHARS} characters", code="query_too_long")
    if isinstance(index.searcher(), RemoteShards):
        raise NotServedByRay("suggestions while typing are not served through Ray shard actors yet")
    tables = per_searcher(index.searcher(), "completion", lambda: _tables(index.searcher()))
    words = _word_completions(tables, q, limit)
    typed = " ".join(fold(q).text.split())
    titles = [
        Completion(t.title, "title", n, t.id)
        for t, n in (tables.best_titles(typed, limit) if typed and len(typed) <= TITLE_CHARS else [])
    ]
    n_titles = min(len(titles), max(limit // 2, limit - len(words)))
    chosen = (*words[: limit - n_titles], *titles[:n_titles])
    return Completions(q, chosen, round((time.perf_counter() - started) * 1000, 2))


def _word_completions(tables: _Tables, q: str, limit: int) -> list[Completion]:
    """The text with its last word completed by the index's words, most articles first.

    A Chinese run typed without spaces ends in the word being typed: the longest end of it
    (up to ``LONGEST_HAN_WORD`` characters) that starts an indexed word is completed, and shown
    as indexed, in Simplified (醫 gives 医院). An English word keeps the letters as typed and
    adds the rest (Hong Kon gives Hong Kong).
    """
    folded = fold(q)
    last = _LAST_WORD.search(folded.text)
    if last is None:
        return []
    run = last.group()
    han = HAN_CHAR.match(run) is not None
    tails = range(max(0, len(run) - LONGEST_HAN_WORD), len(run)) if han else range(1)
    for start in tails:
        typed = run[start:]
        found = tables.best_words(typed, limit)
        if not found:
            continue
        if not han:  # an English word: the rest of the word after the letters as typed (Hong Kong's)
            return [Completion(q + word[len(typed) :], "word", n) for word, n in found]
        at = last.start() + start  # a Chinese word: whole, in Simplified, as indexed
        head = q[: folded.offsets[at] if folded.offsets else at]
        return [Completion(head + word, "word", n) for word, n in found]
    return []


def _tables(searcher: Searcher) -> _Tables:
    """The prefix tables of the index a searcher reads: every segment's words and live titles."""
    words: Counter[str] = Counter()
    titles: list[list[_SegmentTitle]] = []
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        segment_words, segment_titles = per_segment(reader, "completion", "", lambda r=reader: _read_segment(r))
        words.update(segment_words)
        titles.append([t for t in segment_titles if not reader.is_deleted(t.docnum)])
    return _Tables(words, titles)


def _read_segment(reader: IndexReader) -> tuple[Counter[str], list[_SegmentTitle]]:
    """One segment's words with the articles that have them (deleted ones too, as Whoosh's
    document frequencies count them), and its titles."""
    analyzer = reader.schema["title"].analyzer
    words: Counter[str] = Counter()
    for name in WORD_FIELDS:
        for term, info in reader.iter_field(name):
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            if _HAN_WORD.fullmatch(text):  # interned: the segments share most of their words
                words[sys.intern(text)] = max(words[text], info.doc_frequency())
    dates = sort_keys(reader, "published")
    titles = []
    for docnum in range(reader.doc_count_all()):
        stored = reader.stored_fields(docnum)
        title = str(stored.get("title", ""))
        text = f"{title}\n{stored.get('body', '')}".lower()  # not NFKC: a quarter of the time, for rare full-width letters
        words.update({w for w in _ENGLISH_WORD.findall(text) if len(w) > 1 and w not in STOP})
        if title.strip():
            folded = " ".join(fold(title).text.split())
            titles.append(_SegmentTitle(folded, title, docnum, stored["id"], int(dates[docnum]), _word_starts(analyzer, folded)))
    return words, titles


def _word_starts(analyzer: object, folded: str) -> tuple[int, ...]:
    """Where the words of a folded title start, as the word analyzer cuts it."""
    return tuple(sorted({t.startchar for t in analyzer(folded, chars=True, mode="index")}))  # type: ignore[operator]
