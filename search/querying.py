"""The one search function: query text and options in, a SearchResult out.

Query syntax: words (all must match; when that finds nothing, any may), "quoted phrases",
field:value for title/source/category/lang, -exclusion or NOT, OR, and parentheses.
The syntax is bilingual, so it is parsed here rather than by Whoosh's QueryParser: one word of
a Chinese query is several jieba words, each searched as a word and, where jieba may cut it
differently in an article (a single character, a name it does not know, a quoted phrase), as a
string found inside the indexed words or across words that follow each other (``_Substring``).
"""

from __future__ import annotations

import bisect
import calendar
import functools
import threading
import html
import math
import re
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime
from typing import TypeVar, Union

from whoosh import classify, sorting
from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.matching import ListMatcher, Matcher, NullMatcher
from whoosh.reading import IndexReader
from whoosh.collectors import Collector, TimeLimit, TimeLimitCollector, WrappingCollector
from whoosh.searching import Results, Searcher
from whoosh.util.numeric import byte_to_length

from search.analysis import HAN, fold, stem
from search.errors import ArticleNotFound, QueryError
from search.index import QiaoIndex
from search.schema import BM25F_HAN, BM25F_LATIN, FACET_FIELDS, PART_FIELDS, WORD_FIELDS

MAX_PER_PAGE = 100
MAX_QUERY_CHARS = 2000
MAX_QUERY_WORDS = 256
SEARCH_SECONDS = 2.0  # a search that runs longer is stopped and answered with a 400
SORTS = ("relevance", "date")
LANGS = {"zh": ("zh-Hans", "zh-Hant"), "zh-hans": ("zh-Hans",), "zh-hant": ("zh-Hant",), "en": ("en",)}
FILTER_FIELDS = ("source", "category", "lang")
TEXT_FIELD_PREFIXES = ("title",)
FRAGMENT_CHARS = 160
FRAGMENTS = 2
# A query of this many different words or more is a question: ranked by any of its words, then
# again with words from its best articles (pseudo-relevance feedback). See docs/relevance.md.
QUESTION_WORDS = 5
FEEDBACK_DOCS = 10
FEEDBACK_WORDS = 20
FEEDBACK_WEIGHT = 1.0
# A word jieba may cut differently also matches as a string inside or across words, at this weight.
SUBSTRING_WEIGHT = 0.3
# At most this many ways of cutting a string across words are searched (fewest pieces first).
MAX_SPLITS = 64

T = TypeVar("T")

# --- the query language ---------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """Unquoted text: every word in it must match."""

    text: str
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    """Quoted text: its words in this order."""

    text: str
    field: str | None = None


@dataclass(frozen=True)
class Filter:
    """field:value on an exact-value field (source, category, lang)."""

    field: str
    value: str


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class All:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Any:
    nodes: tuple[Node, ...]


Node = Union[Words, Phrase, Filter, Not, All, Any]

_QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "『": '"', "』": '"', "＂": '"'})
_LEX = re.compile(
    r"""\s+
    | (?P<neg>-)(?=[^\s\-])
    | (?:(?P<field>[A-Za-z]+):(?=[^\s]))?
      (?: "(?P<phrase>[^"]*)"?
        | (?P<open>\()
        | (?P<word>[^\s()"]+) )
    | (?P<close>\))
    | (?P<stray>["])
    """,
    re.VERBOSE,
)


@dataclass
class _Token:
    kind: str  # neg, phrase, open, word, close, or, and, not
    text: str = ""
    field: str | None = None


def _lex(text: str) -> list[_Token]:
    """Split query text into syntax tokens; a field prefix we do not know stays part of the word."""
    tokens: list[_Token] = []
    for m in _LEX.finditer(text):
        kind = m.lastgroup
        if kind is None or kind == "stray":
            continue
        name = (m.group("field") or "").lower() or None
        if name is not None and name not in TEXT_FIELD_PREFIXES + FILTER_FIELDS:
            if kind == "word":
                tokens.append(_Token("word", m.group()))
                continue
            name = None
        if kind == "field":
            continue
        if kind == "word" and name is None and m.group("word") in ("OR", "AND", "NOT"):
            tokens.append(_Token(m.group("word").lower()))
        elif kind in ("phrase", "word"):
            tokens.append(_Token(kind, m.group(kind), name))
        else:
            tokens.append(_Token(kind, field=name))
    return tokens


class _Parser:
    """Recursive descent over syntax tokens; unbalanced input is read leniently."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> Node | None:
        nodes = []
        while self.peek() is not None:
            node = self.parse_or(None)
            if node is not None:
                nodes.append(node)
            if (t := self.peek()) is not None and t.kind == "close":
                self.i += 1  # a stray ')'
        return _join(All, nodes)

    def parse_or(self, field: str | None) -> Node | None:
        nodes = [self.parse_and(field)]
        while (t := self.peek()) is not None and t.kind == "or":
            self.i += 1
            nodes.append(self.parse_and(field))
        return _join(Any, [n for n in nodes if n is not None])

    def parse_and(self, field: str | None) -> Node | None:
        nodes = []
        while (t := self.peek()) is not None and t.kind not in ("or", "close"):
            if t.kind == "and":
                self.i += 1
                continue
            node = self.parse_unary(field)
            if node is not None:
                nodes.append(node)
        return _join(All, nodes)

    def parse_unary(self, field: str | None) -> Node | None:
        t = self.peek()
        assert t is not None
        if t.kind in ("neg", "not"):
            self.i += 1
            if self.peek() is None or self.peek().kind in ("or", "close"):
                return None
            inner = self.parse_unary(field)
            return Not(inner) if inner is not None else None
        self.i += 1
        name = t.field or field
        if t.kind == "open":
            node = self.parse_or(name)
            if (c := self.peek()) is not None and c.kind == "close":
                self.i += 1
            return node
        if t.kind == "phrase":
            return _leaf(Phrase, t.text, name)
        return _leaf(Words, t.text, name)


def _leaf(kind: type, text: str, name: str | None) -> Node | None:
    """A Words or Phrase node, or a Filter when the field is an exact-value field."""
    if not text.strip():
        return None
    if name in FILTER_FIELDS:
        return Filter(name, text.strip())
    return kind(text, name)


def _join(kind: type, nodes: list[Node]) -> Node | None:
    """One node for a list: itself when alone, else an All or Any of them."""
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else kind(tuple(nodes))


def parse(text: str) -> Node | None:
    """Parse query text into a tree; None when it holds nothing to search for.

    >>> parse('重庆 -title:"香港" OR lang:en')
    Any(nodes=(All(nodes=(Words(text='重庆', field=None), Not(node=Phrase(text='香港', field='title')))), Filter(field='lang', value='en')))
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _Parser(_lex(text)).parse()


# --- compiling to Whoosh queries --------------------------------------------------------------

_HAN_RUN = re.compile(f"[{HAN}]+")
_HAN_LINE = re.compile(f"^[{HAN}]+$", re.MULTILINE)


@dataclass
class _Compiler:
    """Turns a query tree into a Whoosh query and gathers what to highlight."""

    schema: Schema  # of the searcher the query will run on: its analyzers built the index
    relaxed: bool = False  # any word may match instead of all (the OR fallback)
    han: set[str] = field(default_factory=set)  # folded Han strings to mark
    stems: set[str] = field(default_factory=set)  # English stems to mark
    shown: list[str] = field(default_factory=list)  # the query as segmented, for "searched as"
    relaxable: bool = False  # whether the OR fallback would read the query differently

    def compile(self, node: Node, negated: bool = False) -> wq.Query | None:
        if isinstance(node, Not):
            inner = self.compile(node.node, negated=True)
            return wq.Not(inner) if inner is not None else None
        if isinstance(node, Any):
            parts = list(dict.fromkeys(q for n in node.nodes if (q := self.compile(n, negated)) is not None))
            return (parts[0] if len(parts) == 1 else wq.Or(parts)) if parts else None
        if isinstance(node, All):
            required, optional = [], []
            for n in node.nodes:
                if (q := self.compile(n, negated)) is not None:
                    (required if isinstance(n, (Not, Filter)) else optional).append(q)
            return self._all(required, optional, negated)
        if isinstance(node, Filter):
            return wq.ConstantScoreQuery(_filter_query(node.field, node.value), 0.0)
        if isinstance(node, Phrase):
            return self._phrase(node, negated)
        return self._words(node, negated)

    def _all(self, required: list[wq.Query], optional: list[wq.Query], negated: bool) -> wq.Query | None:
        """All of the parts; in relaxed mode, the filters and exclusions and any of the rest."""
        if len(optional) > 1 and not negated:
            self.relaxable = True
            if self.relaxed:
                optional = [wq.Or(optional)]
        parts = list(dict.fromkeys(optional + required))
        if not parts:
            return None
        if not optional:
            parts.insert(0, wq.Every())
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def _fields(self, name: str | None) -> dict[str, float]:
        return {"title": WORD_FIELDS["title"]} if name == "title" else WORD_FIELDS

    def _tokens(self, text: str) -> list[tuple[str, str]]:
        """(indexed form, original text) of each query word."""
        analyzer = self.schema["body"].analyzer
        return [(t.text, t.original) for t in analyzer(text, mode="query", keeporiginal=True)]

    def _words(self, node: Words, negated: bool) -> wq.Query | None:
        fields = self._fields(node.field)
        scored = _with_parts(fields)
        knows = self.schema["body"].analyzer.items[0].segmenter().knows
        atoms = []
        # Han runs one by one (jieba cuts each alone, as the analyzer does), Latin words between.
        for piece in re.split(f"([{HAN}]+)", fold(node.text).text):
            tokens = self._tokens(piece)
            if not tokens:
                continue
            words: list[wq.Query] = [_BM25FTerm(term, scored) for term, _ in tokens]
            if not _HAN_RUN.fullmatch(piece):
                atoms += words
            elif any(len(term) == 1 or not knows(term) for term, _ in tokens):
                # jieba guessed here (a name it does not know, a word it cut into characters),
                # and may cut the article differently: the run as a string matches too.
                atoms.append(wq.Or([words[0] if len(words) == 1 else wq.And(words),
                                    _Substring(piece, fields, boost=SUBSTRING_WEIGHT)]))
                if len(tokens) > 1 and not negated:
                    self.han.add(piece)
            else:
                atoms += words
            if not negated:
                for term, original in tokens:
                    self._mark(term)
                    self.shown.append(original)
        return self._all([], atoms, negated)

    def _phrase(self, node: Phrase, negated: bool) -> wq.Query | None:
        fields = self._fields(node.field)
        parts: list[wq.Query] = []
        latin: list[str] = []

        def flush() -> None:
            if latin:
                parts.append(wq.Or([
                    wq.Phrase(f, list(latin), boost=b) if len(latin) > 1 else wq.Term(f, latin[0], boost=b)
                    for f, b in fields.items()
                ]))
                latin.clear()

        # Han text is matched as an exact string; Latin words as word-field phrases.
        segments = re.split(f"([{HAN}]+)", fold(node.text).text)
        for segment in segments:
            if _HAN_RUN.fullmatch(segment):
                flush()
                parts.append(_Substring(segment, fields))
                if not negated:
                    self.han.add(segment)
            else:
                latin.extend(t for t, _ in self._tokens(segment))
        flush()
        if not parts:
            return None
        if not negated:
            self.stems.update(t for t, _ in self._tokens(node.text) if not _HAN_RUN.fullmatch(t))
            self.shown.append(f'"{node.text}"')
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def _mark(self, term: str) -> None:
        (self.han.add if _HAN_RUN.fullmatch(term) else self.stems.add)(term)


class _BM25FTerm(wq.Query):
    """A word in several weighted fields, scored by BM25F.

    Its frequency in each field is weighted and length-normalised, the sum saturated once: a
    word in the title adds to its count in the body instead of scoring a second time beside it.
    """

    def __init__(self, text: str, fields: dict[str, float], boost: float = 1.0) -> None:
        self.text = text
        self.fields = tuple(sorted(fields.items()))
        self.boost = boost

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _BM25FTerm) and (self.text, self.fields, self.boost) == (
            other.text, other.fields, other.boost)

    def __hash__(self) -> int:
        return hash((self.text, self.fields, self.boost))

    def __repr__(self) -> str:
        return f"_BM25FTerm({self.text!r}, {dict(self.fields)!r}, boost={self.boost})"

    def __str__(self) -> str:
        return "(" + " OR ".join(f"{f}:{self.text}^{w}" for f, w in self.fields) + ")"

    def is_leaf(self) -> bool:
        return True

    def has_terms(self) -> bool:
        return True

    def terms(self, phrases: bool = False) -> Iterator[tuple[str, str]]:
        for name, _ in self.fields:
            yield name, self.text

    def estimate_size(self, ixreader: IndexReader) -> int:
        return sum(ixreader.doc_frequency(name, self.text) for name, _ in self.fields)

    def matcher(self, searcher: Searcher, context: object = None) -> Matcher:
        reader = searcher.reader()
        top = searcher.get_parent()
        n = top.doc_count_all()
        df = max(top.doc_frequency(name, self.text) for name, _ in self.fields)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        postings = [
            (reader.postings(name, self.text), _lengths(reader, length), weight, top.avg_field_length(length) or 1.0)
            for name, weight in self.fields
            if weight > 0 and (name, self.text) in reader
            for length in [PART_FIELDS.get(name, name)]
        ]
        if not postings:
            return NullMatcher()
        k1, b = BM25F_HAN if _HAN_RUN.fullmatch(self.text) else BM25F_LATIN
        return _BM25FMatcher(postings, idf * self.boost, k1, b)


class _BM25FMatcher(Matcher):
    """The documents of a word's postings in several fields, with their BM25F score."""

    def __init__(
        self, postings: list[tuple[Matcher, list[int], float, float]], idf: float, k1: float, b: float,
    ) -> None:
        self.postings = postings  # (matcher, field lengths by document, weight, average length)
        self.idf = idf
        self.k1 = k1
        self.b = b
        self._at: int | None = None  # the current document
        self._find()

    def _find(self) -> None:
        ids = [m.id() for m, *_ in self.postings if m.is_active()]
        self._at = min(ids) if ids else None

    def is_active(self) -> bool:
        return self._at is not None

    def id(self) -> int:
        return self._at  # type: ignore[return-value]

    def next(self) -> bool:
        at = self._at
        for m, *_ in self.postings:
            if m.is_active() and m.id() == at:
                m.next()
        self._find()
        return False

    def skip_to(self, id: int) -> None:
        for m, *_ in self.postings:
            if m.is_active() and m.id() < id:
                m.skip_to(id)
        self._find()

    def reset(self) -> None:
        for m, *_ in self.postings:
            m.reset()
        self._find()

    def copy(self) -> _BM25FMatcher:
        postings = [(m.copy(), *rest) for m, *rest in self.postings]
        return _BM25FMatcher(postings, self.idf, self.k1, self.b)

    def supports(self, astype: str) -> bool:
        return False

    def supports_block_quality(self) -> bool:
        return False

    def max_quality(self) -> float:
        return self.idf * (self.k1 + 1)

    def weight(self) -> float:
        return self.score()

    def score(self) -> float:
        at, b = self._at, self.b
        tf = 0.0
        for m, lengths, weight, average in self.postings:
            if m.is_active() and m.id() == at:
                tf += weight * m.weight() / (1 - b + b * (lengths[at] or 1) / average)
        return self.idf * tf * (self.k1 + 1) / (self.k1 + tf)


def _with_parts(fields: dict[str, float]) -> dict[str, float]:
    """The text fields and the part fields of their longer words, each at its text field's weight."""
    parts = {part: fields[text] for part, text in PART_FIELDS.items() if text in fields}
    return {**fields, **parts}


class _Substring(wq.Query):
    """A Chinese string anywhere in the text fields, scored by BM25F on how often it occurs.

    The indexed words tile each text, at consecutive positions, so the string is either inside
    one word (中国人民银行 holds 人民银行) or runs across words that follow each other: the end of
    one word, whole words, the start of another (罗|塞夫, 中国|人民银行行|长). Both are read from
    the words of each field (``_Lexicon``), so this is exact, whatever jieba made of the text.
    """

    def __init__(self, text: str, fields: dict[str, float], boost: float = 1.0) -> None:
        self.text = text
        self.fields = tuple(sorted(fields.items()))
        self.boost = boost

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Substring) and (self.text, self.fields, self.boost) == (
            other.text, other.fields, other.boost)

    def __hash__(self) -> int:
        return hash(("substring", self.text, self.fields, self.boost))

    def __repr__(self) -> str:
        return f"_Substring({self.text!r}, {dict(self.fields)!r}, boost={self.boost})"

    def __str__(self) -> str:
        return "(" + " OR ".join(f'{f}:*"{self.text}"*^{w}' for f, w in self.fields) + ")"

    def is_leaf(self) -> bool:
        return True

    def has_terms(self) -> bool:
        return True

    def terms(self, phrases: bool = False) -> Iterator[tuple[str, str]]:
        for name, _ in self.fields:
            yield name, self.text

    def estimate_size(self, ixreader: IndexReader) -> int:
        return ixreader.doc_count_all()

    def matcher(self, searcher: Searcher, context: object = None) -> Matcher:
        reader = searcher.reader()
        found: dict[int, float] = Counter()  # document -> weighted, length-normalised frequency
        k1, b = BM25F_HAN
        top = searcher.get_parent()
        for name, weight in self.fields:
            if weight <= 0:
                continue
            average = top.avg_field_length(name) or 1.0
            lengths = _lengths(reader, name)
            for doc, freq in self._occurrences(searcher, name).items():
                found[doc] += weight * freq / (1 - b + b * (lengths[doc] or 1) / average)
        if not found:
            return NullMatcher()
        # The documents with the string in this segment, scaled to the whole index.
        df = min(top.doc_count_all(), len(found) * top.doc_count_all() / max(reader.doc_count_all(), 1))
        idf = math.log(1 + (top.doc_count_all() - df + 0.5) / (df + 0.5)) * self.boost
        docs = sorted(found)
        scores = [idf * found[d] * (k1 + 1) / (k1 + found[d]) for d in docs]
        return ListMatcher(docs, weights=scores)

    def _occurrences(self, searcher: Searcher, name: str) -> Counter[int]:
        """How often the string occurs in each document's field ``name`` (of this segment)."""
        reader = searcher.reader()
        lexicon = _lexicon(reader, name)
        counts: Counter[int] = Counter()
        for word in lexicon.containing(self.text):
            postings = reader.postings(name, word)
            while postings.is_active():
                counts[postings.id()] += int(postings.weight())
                postings.next()
        for places in lexicon.splits(self.text, MAX_SPLITS):
            for doc, starts in _consecutive(reader, name, places).items():
                counts[doc] += len(starts)
        return counts


def _consecutive(reader: IndexReader, name: str, places: list[list[str]]) -> dict[int, set[int]]:
    """Where a word of each place stands at consecutive positions: document -> first positions.

    Starts from the place with the fewest postings and narrows the documents place by place.
    """
    def postings(place: list[str]) -> int:
        return sum(reader.doc_frequency(name, w) for w in place)

    order = sorted(range(len(places)), key=lambda i: postings(places[i]))
    found: dict[int, set[int]] | None = None
    for i in order:
        seen = _positions_in(reader, name, places[i], found)
        starts = {doc: {p - i for p in ps} for doc, ps in seen.items()}
        if found is None:
            found = starts
        else:
            found = {doc: both for doc, ps in found.items() if (both := ps & starts.get(doc, set()))}
        if not found:
            return {}
    return found or {}


def _positions_in(
    reader: IndexReader, name: str, words: list[str], docs: dict[int, object] | None
) -> dict[int, set[int]]:
    """The positions of any of ``words`` in each document (only in ``docs``, if given).

    With few ``docs``, each word's postings skip to them; otherwise they are read through.
    """
    out: dict[int, set[int]] = {}
    targets = sorted(docs) if docs is not None else None
    for word in words:
        if (name, word) not in reader:
            continue
        m = reader.postings(name, word)
        if targets is None or len(targets) * 4 > reader.doc_frequency(name, word):
            while m.is_active():
                if docs is None or m.id() in docs:
                    out.setdefault(m.id(), set()).update(m.value_as("positions"))
                m.next()
            continue
        for doc in targets:
            if m.id() < doc:
                m.skip_to(doc)
                if not m.is_active():
                    break
            if m.id() == doc:
                out.setdefault(doc, set()).update(m.value_as("positions"))
    return out


class _Lexicon:
    """The Chinese words of one field of one index segment: those inside, ending or starting a string."""

    def __init__(self, words: list[str]) -> None:
        self.words = frozenset(words)
        self._text = "\n" + "\n".join(words) + "\n"  # one word per line, for str.find
        self._sorted = sorted(words)  # words starting with s form one range
        self._reversed = sorted(w[::-1] for w in words)  # so do words ending with s, reversed

    def containing(self, s: str) -> set[str]:
        """The words that contain ``s``."""
        text, found = self._text, set()
        i = text.find(s)
        while i != -1:
            start, end = text.rfind("\n", 0, i) + 1, text.find("\n", i)
            found.add(text[start:end])
            i = text.find(s, end)
        return found

    def starting(self, s: str) -> list[str]:
        """The words that start with ``s`` (``s`` itself included)."""
        return _prefixed(self._sorted, s)

    def ending(self, s: str) -> list[str]:
        """The words that end with ``s`` (``s`` itself included)."""
        return [w[::-1] for w in _prefixed(self._reversed, s[::-1])]

    def splits(self, s: str, limit: int) -> list[list[list[str]]]:
        """Ways ``s`` runs across consecutive words: for each, the words that can stand at each place.

        The first place holds the words that end with the start of ``s``, the last place the words
        that start with its end, and each place between one whole word. A single character at
        either end must be a word of its own: one borrowed from a longer word makes a false match
        (和服 is not in 和|服务员, 新冠 not in 更新|冠军). Fewest places first, at most ``limit``.
        """
        words = self.words
        found: list[list[str]] = []  # the pieces of s of each way

        def extend(pieces: list[str], rest: str) -> None:
            if len(found) >= limit * 4:
                return
            if rest in words if len(rest) == 1 else _has_prefix(self._sorted, rest):
                found.append([*pieces, rest])
            for j in range(1, len(rest)):
                if rest[:j] in words:
                    extend([*pieces, rest[:j]], rest[j:])

        for i in range(1, len(s)):
            first = s[:i]
            if first in words if len(first) == 1 else _has_prefix(self._reversed, first[::-1]):
                extend([first], s[i:])
        found.sort(key=len)
        return [
            [self._edge(pieces[0], self.ending), *[[p] for p in pieces[1:-1]], self._edge(pieces[-1], self.starting)]
            for pieces in found[:limit]
        ]

    @staticmethod
    def _edge(piece: str, words_with: Callable[[str], list[str]]) -> list[str]:
        return [piece] if len(piece) == 1 else words_with(piece)


def _prefixed(ordered: list[str], prefix: str) -> list[str]:
    """The strings of a sorted list that start with ``prefix``."""
    start = bisect.bisect_left(ordered, prefix)
    return ordered[start : bisect.bisect_left(ordered, prefix + "\U0010ffff", start)]


def _has_prefix(ordered: list[str], prefix: str) -> bool:
    """Whether a string of a sorted list starts with ``prefix``."""
    i = bisect.bisect_left(ordered, prefix)
    return i < len(ordered) and ordered[i].startswith(prefix)


_SEGMENT_DATA: OrderedDict[tuple[object, ...], object] = OrderedDict()
_SEGMENT_DATA_LOCK = threading.Lock()
SEGMENT_DATA_CACHE = 128  # lexicons and length arrays of segments' fields kept in memory
_LENGTH_OF_BYTE = [byte_to_length(i) for i in range(256)]


def _per_segment(reader: IndexReader, kind: str, name: str, load: Callable[[], T]) -> T:
    """Data read once from one field of one index segment (segments never change once written)."""
    storage = getattr(reader, "_storage", None)
    segment = getattr(reader, "_segment", None)
    key = (getattr(storage, "folder", id(storage)), segment.segment_id() if segment else id(reader), kind, name)
    with _SEGMENT_DATA_LOCK:
        if key in _SEGMENT_DATA:
            _SEGMENT_DATA.move_to_end(key)
            return _SEGMENT_DATA[key]  # type: ignore[return-value]
    value = load()
    with _SEGMENT_DATA_LOCK:
        _SEGMENT_DATA[key] = value
        while len(_SEGMENT_DATA) > SEGMENT_DATA_CACHE:
            _SEGMENT_DATA.popitem(last=False)
    return value


def _lexicon(reader: IndexReader, name: str) -> _Lexicon:
    """The Chinese words of field ``name`` in this segment."""
    return _per_segment(reader, "lexicon", name, lambda: _Lexicon(
        _HAN_LINE.findall(b"\n".join(reader.lexicon(name)).decode("utf-8"))))


def _lengths(reader: IndexReader, name: str) -> list[int]:
    """The length of field ``name`` in each document of this segment, for BM25 normalisation.

    Read as one column (Whoosh's W3 codec keeps them as bytes in ``_<field>_L``), not a
    ``doc_field_length`` call per document.
    """
    def load() -> list[int]:
        column = reader._perdoc._cached_reader(_lenfield(name), LENGTHS_COLUMN)  # noqa: SLF001
        if column is None:
            return [0] * reader.doc_count_all()
        return [_LENGTH_OF_BYTE[b] for b in column]

    return _per_segment(reader, "lengths", name, load)


def _filter_query(name: str, value: str) -> wq.Query:
    """The exact-value query of a filter; lang=zh covers both Chinese scripts."""
    if name == "lang":
        langs = LANGS.get(value.lower())
        if langs is None:
            raise QueryError(f"unknown language {value!r}; use one of: zh, zh-Hans, zh-Hant, en")
        return wq.Or([wq.Term("lang", lang) for lang in langs])
    return wq.Term(name, value)


def _date(value: str, name: str, end: bool) -> datetime:
    """A from/to bound: YYYY-MM-DD, YYYY-MM or YYYY; ``to`` includes its whole day, month or year."""
    v = value.strip()
    try:
        if re.fullmatch(r"\d{4}", v):
            d = date(int(v), 12 if end else 1, 31 if end else 1)
        elif re.fullmatch(r"\d{4}-\d{1,2}", v):
            y, m = map(int, v.split("-"))
            d = date(y, m, calendar.monthrange(y, m)[1] if end else 1)
        else:
            d = date.fromisoformat(v)
    except ValueError:
        raise QueryError(f"{name} must be a date like 2023-05-11, not {value!r}") from None
    return datetime.combine(d, dtime.max if end else dtime.min)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One result."""

    id: str
    title: str
    url: str
    source: str
    category: str
    lang: str
    published: str | None
    score: float
    highlights: dict[str, str]

    def to_dict(self) -> dict[str, object]:
        """The hit as the JSON API returns it."""
        return {
            "id": self.id, "title": self.title, "url": self.url, "source": self.source,
            "category": self.category, "lang": self.lang, "published": self.published,
            "score": self.score, "highlights": self.highlights,
        }


@dataclass(frozen=True)
class SearchResult:
    """A page of results with counts, facets and how the query was read."""

    query: str
    page: int
    per_page: int
    total_hits: int
    processing_time_ms: int
    hits: tuple[Hit, ...]
    facets: dict[str, dict[str, int]]
    fallback: str | None
    searched_as: tuple[str, ...]

    @property
    def total_pages(self) -> int:
        """Pages needed for all hits."""
        return math.ceil(self.total_hits / self.per_page)

    def to_dict(self) -> dict[str, object]:
        """The result as ``qiao search --json`` and ``GET /api/search`` return it."""
        return {
            "ok": True,
            "query": self.query,
            "page": self.page,
            "per_page": self.per_page,
            "total_hits": self.total_hits,
            "total_pages": self.total_pages,
            "processing_time_ms": self.processing_time_ms,
            "hits": [h.to_dict() for h in self.hits],
            "facets": self.facets,
            "fallback": self.fallback,
            "searched_as": list(self.searched_as),
        }


def format_published(value: datetime | None) -> str | None:
    """ISO 8601: the date alone when no time of day is known."""
    if value is None:
        return None
    if value.time() == dtime.min:
        return value.date().isoformat()
    return value.isoformat(timespec="seconds")


# --- highlighting ---------------------------------------------------------------------------

_LATIN_WORD = re.compile(r"[0-9a-z\u00c0-\u024f]+(?:['\u2019][a-z]+)*")
_SENTENCE_END = re.compile(r"[。！？!?；;]+[”」』\"')）]*|\.(?=\s)|\n+")


@dataclass(frozen=True)
class Marker:
    """Finds the query's words in article text and marks them with <mark>."""

    han: frozenset[str]
    stems: frozenset[str]

    @functools.cached_property
    def _han_pattern(self) -> re.Pattern[str] | None:
        """The Han strings, longest first."""
        if not self.han:
            return None
        return re.compile("|".join(re.escape(h) for h in sorted(self.han, key=len, reverse=True)))

    @functools.cached_property
    def _latin_candidates(self) -> re.Pattern[str] | None:
        """English words that may stem to a query stem: those sharing its first letters."""
        if not self.stems:
            return None
        prefixes = "|".join(sorted({re.escape(s[:3]) for s in self.stems}))
        return re.compile(rf"(?<![0-9a-z\u00c0-\u024f])(?={prefixes}){_LATIN_WORD.pattern}")

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Sorted, merged (start, end) offsets of matches in the original text."""
        folded = fold(text)
        found: list[tuple[int, int]] = []
        if self._han_pattern is not None:
            found += [m.span() for m in self._han_pattern.finditer(folded.text)]
        if self._latin_candidates is not None:
            found += [
                m.span() for m in self._latin_candidates.finditer(folded.text)
                if m.group() in self.stems or stem(m.group()) in self.stems
            ]
        merged: list[list[int]] = []
        for s, e in sorted((folded.original(s), folded.original(e)) for s, e in found):
            if merged and (s <= merged[-1][1] or not text[merged[-1][1]:s].strip()):
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        return [(s, e) for s, e in merged]

    def whole(self, text: str) -> str:
        """All of ``text``, escaped, with matches marked."""
        return _marked(text, self.spans(text), 0, len(text))

    def fragments(self, text: str) -> str:
        """The best sentences of ``text`` for the query, escaped, with matches marked."""
        spans = self.spans(text)
        if not spans:
            return _marked(text, [], 0, min(len(text), FRAGMENT_CHARS)) + ("…" if len(text) > FRAGMENT_CHARS else "")
        sentences = _sentences(text)
        scored = []
        for n, (s, e) in enumerate(sentences):
            inside = [sp for sp in spans if s <= sp[0] < e]
            if inside:
                distinct = len({fold(text[a:b]).text for a, b in inside})
                scored.append((-distinct, -len(inside), n))
        best = sorted(n for _, _, n in sorted(scored)[:FRAGMENTS])
        pieces = []
        for n in best:
            s, e = sentences[n]
            first = next(sp for sp in spans if s <= sp[0] < e)
            if e - s > FRAGMENT_CHARS:
                s = _word_edge(text, max(s, first[0] - FRAGMENT_CHARS // 3), forward=True)
                e = _word_edge(text, min(e, s + FRAGMENT_CHARS), forward=False)
            inside = [(max(a, s), min(b, e)) for a, b in spans if a < e and b > s]
            pieces.append((s, e, _marked(text, inside, s, e).strip()))
        # An ellipsis wherever text was left out: between fragments and at cut edges.
        lead = "…" if text[: pieces[0][0]].strip() else ""
        tail = "…" if text[pieces[-1][1] :].strip() else ""
        return lead + " … ".join(p for _, _, p in pieces) + tail


def _word_edge(text: str, i: int, *, forward: bool) -> int:
    """Move a cut at ``i`` out of an English word to the nearest space (within 20 characters)."""
    if not (0 < i < len(text) and text[i - 1].isalnum() and text[i].isalnum() and text[i].isascii()):
        return i
    space = text.find(" ", i, i + 20) if forward else text.rfind(" ", max(0, i - 20), i)
    return i if space < 0 else space + forward


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, cut after 。！？ and .!? and at line breaks."""
    out = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if text[start:m.end()].strip():
            out.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        out.append((start, len(text)))
    return out


def _marked(text: str, spans: Sequence[tuple[int, int]], start: int, end: int) -> str:
    """text[start:end] HTML-escaped, with each span wrapped in <mark> after escaping."""
    out = []
    at = start
    for s, e in spans:
        if e <= at or s >= end:
            continue
        s, e = max(s, at), min(e, end)
        out.append(html.escape(text[at:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        at = e
    out.append(html.escape(text[at:end]))
    return "".join(out)


# --- search ---------------------------------------------------------------------------------


def _check(page: int, per_page: int, sort: str, q: str) -> None:
    """Reject parameters out of range with a clear message."""
    if page < 1:
        raise QueryError(f"page must be 1 or more, not {page}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}, not {per_page}")
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(q)} characters long; the limit is {MAX_QUERY_CHARS}")


def _filters(
    lang: str | None, source: str | None, category: str | None,
    date_from: str | None, date_to: str | None,
) -> wq.Query | None:
    """The query that results are restricted to."""
    parts: list[wq.Query] = []
    for name, value in (("lang", lang), ("source", source), ("category", category)):
        if value:
            parts.append(_filter_query(name, value))
    if date_from or date_to:
        start = _date(date_from, "from", end=False) if date_from else None
        end = _date(date_to, "to", end=True) if date_to else None
        if start and end and start > end:
            raise QueryError(f"from ({date_from}) is after to ({date_to})")
        parts.append(wq.DateRange("published", start, end))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


class _Gather(WrappingCollector):
    """Passes matches on, noting the number of every matching document for the facet counts."""

    def __init__(self, child: Collector) -> None:
        super().__init__(child)
        self.docnums: list[int] = []

    def collect(self, sub_docnum: int) -> object:
        self.docnums.append(self.offset + sub_docnum)
        return self.child.collect(sub_docnum)


def _run(
    searcher: Searcher, query: wq.Query, restrict: wq.Query | None, options: dict[str, object]
) -> tuple[Results, list[int]]:
    """The top hits of a query within the restriction, and every matching document's number.

    Gives up with a QueryError after SEARCH_SECONDS.
    """
    if restrict is not None:
        # In the query rather than a collector's filter, so the time limit sees every match.
        query = wq.And([query, wq.ConstantScoreQuery(restrict, 0.0)])
    inner = searcher.collector(optimize=False, **options)
    # No matcher replacement: it trusts quality bounds that Whoosh's ArrayUnionMatcher
    # underestimates, and then turns an AndMaybe (a bonus) into an And, dropping documents.
    inner.replace = 0
    gather = _Gather(inner)
    collector = TimeLimitCollector(gather, timelimit=SEARCH_SECONDS, use_alarm=False)
    try:
        searcher.search_with_collector(query, collector)
    except TimeLimit:
        raise QueryError(
            f"the search took longer than {SEARCH_SECONDS:g} s; use fewer or more specific words",
            code="query_timeout",
        ) from None
    return collector.results(), gather.docnums


def search(
    index: QiaoIndex,
    q: str,
    *,
    page: int = 1,
    per_page: int = 10,
    lang: str | None = None,
    source: str | None = None,
    category: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    sort: str = "relevance",
) -> SearchResult:
    """Search the index: ranked, highlighted hits of one page, with facet counts."""
    started = time.perf_counter()
    _check(page, per_page, sort, q)
    restrict = _filters(lang, source, category, date_from, date_to)
    tree = parse(q)
    searcher = index.searcher()
    compiler = _Compiler(searcher.schema)
    query = compiler.compile(tree) if tree is not None else None
    if len(set(compiler.shown)) > MAX_QUERY_WORDS:
        raise QueryError(
            f"the query has {len(set(compiler.shown))} different words; the limit is {MAX_QUERY_WORDS}",
            code="query_too_long",
        )
    empty_facets: dict[str, dict[str, int]] = {name: {} for name in FACET_FIELDS}
    if query is None:
        return SearchResult(q, page, per_page, 0, _ms(started), (), empty_facets, None, ())

    options: dict[str, object] = {"limit": page * per_page}
    if sort == "date":
        options["sortedby"] = sorting.FieldFacet("published", reverse=True)
    # A question is ranked by any of its words: few articles have them all, and not the best.
    question = sort == "relevance" and compiler.relaxable and len(set(compiler.shown)) >= QUESTION_WORDS
    if question:
        options["limit"] = max(page * per_page, FEEDBACK_DOCS)
    results, docnums = _run(searcher, query, restrict, options)
    fallback = None
    if compiler.relaxable and (question or not docnums):
        fallback = None if docnums else "or"
        query = _Compiler(searcher.schema, relaxed=True).compile(tree)
        results, docnums = _run(searcher, query, restrict, options)
    if question and docnums:
        results, docnums = _run(searcher, _with_feedback(searcher, query, results), restrict, options)

    marker = Marker(frozenset(compiler.han), frozenset(compiler.stems))
    hits = []
    for r in results[(page - 1) * per_page : page * per_page]:
        stored = r.fields()
        hits.append(Hit(
            id=stored["id"],
            title=stored.get("title", ""),
            url=stored.get("url", ""),
            source=stored.get("source", ""),
            category=stored.get("category", ""),
            lang=stored.get("lang", ""),
            published=format_published(stored.get("published")),
            score=round(float(r.score or 0.0), 4),
            highlights={
                "title": marker.whole(stored.get("title", "")),
                "body": marker.fragments(stored.get("body", "")),
            },
        ))
    facets = {name: _facet(index.column(searcher, name), docnums) for name in FACET_FIELDS}
    return SearchResult(
        q, page, per_page, len(docnums), _ms(started), tuple(hits), facets, fallback,
        tuple(compiler.shown),
    )


def _with_feedback(searcher: Searcher, query: wq.Query, results: Results) -> wq.Query:
    """The query ranking its matches also by the words that mark its best articles (Bo1 feedback)."""
    top = [hit.docnum for hit in results[:FEEDBACK_DOCS]]
    asked = {text for _, text in query.iter_all_terms()}
    found = searcher.key_terms(top, "body", numterms=FEEDBACK_WORDS + len(asked), model=classify.Bo1Model)
    extra = [(word, weight) for word, weight in found if word not in asked][:FEEDBACK_WORDS]
    if not extra:
        return query
    return wq.AndMaybe(query, wq.Or([
        _BM25FTerm(word, WORD_FIELDS, boost=FEEDBACK_WEIGHT * weight) for word, weight in extra
    ]))


def _facet(values: list[object], docnums: list[int]) -> dict[str, int]:
    """Counts of a field's values among the matching documents, largest first, without empty ones."""
    counts = Counter(values[d] for d in docnums)
    items = [(str(k), v) for k, v in counts.items() if k not in (None, "", b"")]
    return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))


def _ms(started: float) -> int:
    """Milliseconds since ``started``."""
    return round((time.perf_counter() - started) * 1000)


def get_article(index: QiaoIndex, article_id: str, *, q: str = "") -> dict[str, object]:
    """A stored article; with ``q``, its title, body and captions as escaped HTML with the query marked."""
    searcher = index.searcher()
    stored = searcher.document(id=article_id)
    if stored is None:
        raise ArticleNotFound(f"no article with id {article_id!r}")
    captions = [c for c in stored.get("captions", "").split("\n") if c]
    article: dict[str, object] = {
        "id": stored["id"],
        "title": stored.get("title", ""),
        "body": stored.get("body", ""),
        "published": format_published(stored.get("published")),
        "source": stored.get("source", ""),
        "category": stored.get("category", ""),
        "lang": stored.get("lang", ""),
        "url": stored.get("url", ""),
        "author": stored.get("author", ""),
        "captions": captions,
        "tags": [t for t in stored.get("tags", "").split(",") if t],
    }
    if q:
        tree = parse(q)
        compiler = _Compiler(searcher.schema)
        if tree is not None:
            compiler.compile(tree)
        marker = Marker(frozenset(compiler.han), frozenset(compiler.stems))
        article["highlights"] = {
            "title": marker.whole(article["title"]),
            "body": marker.whole(article["body"]),
            "captions": [marker.whole(c) for c in captions],
        }
    return article
