"""The one search function: query text and options in, a SearchResult out.

Query syntax: words (all must match; when that finds nothing, any may), "quoted phrases",
field:value for title/source/category/lang, -exclusion or NOT, OR, AND (all, never any),
word^N boosts, and parentheses.
The syntax is bilingual, so it is parsed here rather than by Whoosh's QueryParser: one word of
a Chinese query is several jieba words, each searched as a word and, where jieba may cut it
differently in an article (a single character, a name it does not know, a quoted phrase), as a
string found inside the indexed words or across words that follow each other (``_Substring``).
"""

from __future__ import annotations

import bisect
import functools
import html
import math
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as dtime
from typing import Union

import numpy as np
from whoosh import classify
from whoosh import query as wq
from whoosh.analysis import Token
from whoosh.fields import Schema
from whoosh.searching import Searcher

from search.analysis import HAN, HAN_FUNCTION_CHARS, HAN_RUN, fold, stem
from search.errors import ArticleNotFound, QueryError
from search.index import QiaoIndex
from search.matching import (
    StringQuery,
    TooSlow,
    WordQuery,
    evaluate,
    sort_keys,
    with_proximity,
)
from search.options import LANGS, SearchOptions
from search.ranking import RANKING, Ranking
from search.schema import FACET_FIELDS

MAX_QUERY_WORDS = 256
SEARCH_SECONDS = 2.0  # a search that runs longer is stopped and answered with a 400
FILTER_FIELDS = ("source", "category", "lang")
TEXT_FIELD_PREFIXES = ("title",)
FRAGMENT_CHARS = 160
FRAGMENTS = 2
# A query of this many different words or more is a question: ranked by any of its words, then
# again with words from its best articles (pseudo-relevance feedback, search.ranking's).
QUESTION_WORDS = 5
# A word jieba may cut differently also matches as a string inside or across words, at this weight.
SUBSTRING_WEIGHT = 0.3

# --- the query language ---------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """Unquoted text: every word in it must match; ``boost`` multiplies their scores."""

    text: str
    field: str | None = None
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    """Quoted text: its words in this order; ``boost`` multiplies its score."""

    text: str
    field: str | None = None
    boost: float = 1.0


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
    """Every part must match; ``strict`` when joined by AND, which never falls back to any."""

    nodes: tuple[Node, ...]
    strict: bool = False


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
        | (?P<word>[^\s()"^]+) )
      (?:\^(?P<boost>\d+(?:\.\d+)?|\.\d+)(?![^\s()]))?
    | (?P<close>\))
    | (?P<stray>"|\^[\d.]*)
    """,
    re.VERBOSE,
)
_KINDS = ("neg", "phrase", "open", "word", "close", "stray")


@dataclass
class _Token:
    kind: str  # neg, phrase, open, word, close, or, and, not
    text: str = ""
    field: str | None = None
    boost: float = 1.0


def _lex(text: str) -> list[_Token]:
    """Split query text into syntax tokens; a field prefix we do not know stays part of the word.

    A ``^`` with no word before it, or without a positive number after it, is left out: a
    boost is never a word.
    """
    tokens: list[_Token] = []
    for m in _LEX.finditer(text):
        kind = next((k for k in _KINDS if m.group(k) is not None), None)
        if kind is None or kind == "stray":
            continue
        boost = float(m.group("boost") or 1)
        if not 0 < boost < math.inf:
            boost = 1.0
        name = (m.group("field") or "").lower() or None
        if name is not None and name not in TEXT_FIELD_PREFIXES + FILTER_FIELDS:
            if kind == "word":
                tokens.append(_Token("word", f"{m.group('field')}:{m.group('word')}", boost=boost))
                continue
            name = None
        if kind == "word" and name is None and m.group("word") in ("OR", "AND", "NOT"):
            tokens.append(_Token(m.group("word").lower()))
        elif kind in ("phrase", "word"):
            tokens.append(_Token(kind, m.group(kind), name, boost))
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
        """Parts side by side; parts joined by AND make one strict part (``a b AND c``: a, b AND c)."""
        nodes = []
        while (t := self.peek()) is not None and t.kind not in ("or", "close"):
            if t.kind == "and":  # an AND with nothing before it
                self.i += 1
                continue
            node = self.parse_unary(field)
            joined = [node] if node is not None else []
            while (t := self.peek()) is not None and t.kind == "and":
                self.i += 1
                if (t := self.peek()) is not None and t.kind not in ("or", "close", "and"):
                    if (node := self.parse_unary(field)) is not None:
                        joined.append(node)
            if len(joined) > 1:
                nodes.append(All(tuple(joined), strict=True))
            elif joined:
                nodes.append(joined[0])
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
            return _leaf(Phrase, t.text, name, t.boost)
        return _leaf(Words, t.text, name, t.boost)


def _leaf(kind: type, text: str, name: str | None, boost: float) -> Node | None:
    """A Words or Phrase node, or a Filter when the field is an exact-value field (a boost has no use there)."""
    if not text.strip():
        return None
    if name in FILTER_FIELDS:
        return Filter(name, text.strip())
    return kind(text, name, boost)


def _join(kind: type, nodes: list[Node]) -> Node | None:
    """One node for a list: itself when alone, else an All or Any of them."""
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else kind(tuple(nodes))


def parse(text: str) -> Node | None:
    """Parse query text into a tree; None when it holds nothing to search for.

    >>> parse('重庆^2 -title:"香港" OR lang:en')
    Any(nodes=(All(nodes=(Words(text='重庆', field=None, boost=2.0), Not(node=Phrase(text='香港', field='title', boost=1.0))), strict=False), Filter(field='lang', value='en')))
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _Parser(_lex(text)).parse()


# --- compiling to Whoosh queries --------------------------------------------------------------



@dataclass
class _Compiler:
    """Turns a query tree into a Whoosh query and gathers what to highlight."""

    schema: Schema  # of the searcher the query will run on: its analyzers built the index
    ranking: Ranking = RANKING
    relaxed: bool = False  # any word may match instead of all (the OR fallback)
    han: set[str] = field(default_factory=set)  # folded Han strings to mark
    stems: set[str] = field(default_factory=set)  # English stems to mark
    words: list[str] = field(default_factory=list)  # the words searched for (not excluded)
    shown: list[str] = field(default_factory=list)  # the query as segmented, for "searched as"
    relaxable: bool = False  # whether the OR fallback would read the query differently

    def compile(self, node: Node, negated: bool = False, strict: bool = False) -> wq.Query | None:
        """``negated`` inside an exclusion; ``strict`` inside an AND, which the fallback leaves alone."""
        if isinstance(node, Not):
            inner = self.compile(node.node, negated=True, strict=strict)
            if inner is not None and not negated:
                self.shown.append(f"-{self._excluded(node.node)}")
            return wq.Not(inner) if inner is not None else None
        if isinstance(node, Any):
            parts = list(dict.fromkeys(
                q for n in node.nodes if (q := self.compile(n, negated, strict)) is not None
            ))
            return (parts[0] if len(parts) == 1 else wq.Or(parts)) if parts else None
        if isinstance(node, All):
            strict = strict or node.strict
            required, optional = [], []
            for n in node.nodes:
                if (q := self.compile(n, negated, strict)) is not None:
                    (required if isinstance(n, (Not, Filter)) else optional).append(q)
            return self._all(required, optional, relax=not (negated or strict))
        if isinstance(node, Filter):
            return wq.ConstantScoreQuery(_filter_query(node.field, node.value), 0.0)
        if isinstance(node, Phrase):
            return self._phrase(node, negated)
        return self._words(node, negated, strict)

    def _excluded(self, node: Node) -> str:
        """How an excluded part reads in "searched as": -经济, -"Hong Kong", -(经济 OR 合作)."""
        if isinstance(node, Not):
            return f"-{self._excluded(node.node)}"
        if isinstance(node, (All, Any)):
            parts = [shown for n in node.nodes if (shown := self._excluded(n))]
            return _group(parts, " OR " if isinstance(node, Any) else " ")
        if isinstance(node, Filter):
            return f"{node.field}:{node.value}"
        prefix = f"{node.field}:" if node.field else ""
        if isinstance(node, Phrase):
            return f'{prefix}"{node.text}"{_boosted(node.boost)}'
        words = [original for piece in _pieces(node.text) for _, original in self._tokens(piece)]
        return f"{prefix}{_group(words, ' ')}{_boosted(node.boost)}" if words else ""

    def _all(self, required: list[wq.Query], optional: list[wq.Query], *, relax: bool) -> wq.Query | None:
        """All of the parts; in relaxed mode, the filters and exclusions and any of the rest (if ``relax``)."""
        if len(optional) > 1 and relax:
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
        fields = self.ranking.fields
        return {"title": fields["title"]} if name == "title" else fields

    def _tokens(self, text: str) -> list[tuple[str, str]]:
        """(indexed form, original text) of each query word."""
        return [(t.text, t.original) for t in self._analysed(text)]

    def _analysed(self, text: str) -> list[Token]:
        """The query words of ``text`` with their character offsets."""
        analyzer = self.schema["body"].analyzer
        return [t.copy() for t in analyzer(text, mode="query", keeporiginal=True, chars=True)]

    def _words(self, node: Words, negated: bool, strict: bool) -> wq.Query | None:
        fields = self._fields(node.field)
        atoms = []
        for piece in _pieces(node.text):
            tokens = self._analysed(piece)
            if HAN_RUN.fullmatch(piece):
                tokens = [t for t in tokens if t.text not in HAN_FUNCTION_CHARS] or tokens
                atoms += self._han_run(tokens, fields, node.boost, negated)
            else:
                atoms += [self._word(t.text, fields, node.boost) for t in tokens]
            if not negated:
                for t in tokens:
                    self._mark(t.text)
                    self.words.append(t.original)
                    self.shown.append(f"{t.original}{_boosted(node.boost)}")
        return self._all([], atoms, relax=not (negated or strict))

    def _han_run(self, tokens: list[Token], fields: dict[str, float], boost: float, negated: bool) -> list[wq.Query]:
        """The parts of one Chinese run, each matched on its own (so that the fallback can relax them).

        Where jieba guessed (a name it does not know, a word it cut into characters) it may cut
        the article differently, so those words, with a lone character's neighbour, also match
        as the string they make: 罗塞夫, 新政策. A lone character beside function words matches as
        a word only (as a string it would read every word that holds it); alone in the run, as
        a word and a string: 港 finds 香港.
        """
        knows = self.schema["body"].analyzer.items[0].segmenter().knows

        def known(term: str) -> bool:  # a word of two or more characters in the dictionary
            return len(term) > 1 and knows(term)

        atoms: list[wq.Query] = []
        for group in _guessed_groups(tokens, known):
            words = [self._word(t.text, fields, boost) for t in group]
            lone_character = len(group) == 1 and len(group[0].text) == 1
            if (len(group) == 1 and known(group[0].text)) or (lone_character and len(tokens) > 1):
                atoms += words
                continue
            string = "".join(t.text for t in group)
            atoms.append(wq.Or([words[0] if len(words) == 1 else wq.And(words),
                                StringQuery(string, fields, SUBSTRING_WEIGHT * boost, self.ranking)]))
            if len(group) > 1 and not negated:
                self.han.add(string)
        return atoms

    def _phrase(self, node: Phrase, negated: bool) -> wq.Query | None:
        fields = self._fields(node.field)
        parts: list[wq.Query] = []
        latin: list[str] = []

        def flush() -> None:
            if latin:
                parts.append(wq.Or([
                    wq.Phrase(f, list(latin), boost=b * node.boost) if len(latin) > 1
                    else wq.Term(f, latin[0], boost=b * node.boost)
                    for f, b in fields.items()
                ]))
                latin.clear()

        # Han text is matched as an exact string; Latin words as word-field phrases.
        segments = re.split(f"([{HAN}]+)", fold(node.text).text)
        for segment in segments:
            if HAN_RUN.fullmatch(segment):
                flush()
                parts.append(StringQuery(segment, fields, node.boost, self.ranking))
                if not negated:
                    self.han.add(segment)
            else:
                latin.extend(t for t, _ in self._tokens(segment))
        flush()
        if not parts:
            return None
        if not negated:
            self.stems.update(t for t, _ in self._tokens(node.text) if not HAN_RUN.fullmatch(t))
            self.words.append(f'"{node.text}"')
            self.shown.append(f'"{node.text}"{_boosted(node.boost)}')
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def _word(self, term: str, fields: dict[str, float], boost: float) -> WordQuery:
        """A word in the text fields and the part fields of their longer words."""
        return WordQuery(term, self.ranking.with_parts(fields), boost, self.ranking)

    def _mark(self, term: str) -> None:
        (self.han.add if HAN_RUN.fullmatch(term) else self.stems.add)(term)


def _guessed_groups(tokens: list[Token], known: Callable[[str], bool]) -> list[list[Token]]:
    """The words of a Chinese run in groups: each known word alone, words that follow each other and
    were guessed (not ``known``) together, and a guessed character alone joined to a neighbour
    that follows it in the text (the next word, else the one before)."""
    groups: list[list[Token]] = []
    for t in tokens:
        follows = bool(groups) and groups[-1][-1].endchar == t.startchar
        if follows and not known(t.text) and not known(groups[-1][-1].text):
            groups[-1].append(t)
        else:
            groups.append([t])
    joined: list[list[Token]] = []
    for i, group in enumerate(groups):
        lone = len(group) == 1 and len(group[0].text) == 1
        after = groups[i + 1] if i + 1 < len(groups) else None
        if lone and after and group[0].endchar == after[0].startchar and known(after[0].text):
            after.insert(0, group[0])  # 新 + 政策: joined to the word it precedes
        elif lone and joined and joined[-1][-1].endchar == group[0].startchar and len(joined[-1]) == 1:
            joined[-1].append(group[0])  # a character at the end joins the word before it
        else:
            joined.append(group)
    return joined


def _pieces(text: str) -> list[str]:
    """Han runs one by one (jieba cuts each alone, as the analyzer does), and the text between."""
    return re.split(f"([{HAN}]+)", text)


def _boosted(boost: float) -> str:
    """A boost as the query writes it: ^3, ^0.5; nothing for 1."""
    return "" if boost == 1 else f"^{boost:g}"


def _group(parts: list[str], joint: str) -> str:
    """One part as itself, several in parentheses, none as nothing."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"({joint.join(parts)})"


def _filter_query(name: str, value: str) -> wq.Query:
    """The exact-value query of a filter; lang=zh covers both Chinese scripts."""
    if name == "lang":
        langs = LANGS.get(value.lower())
        if langs is None:
            raise QueryError(f"unknown language {value!r}; use one of: zh, zh-Hans, zh-Hant, en")
        return wq.Or([wq.Term("lang", lang) for lang in langs])
    return wq.Term(name, value)


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
    partial: bool = False  # has some of the query's words, listed after the articles with all of them

    def to_dict(self) -> dict[str, object]:
        """The hit as the JSON API returns it."""
        return {
            "id": self.id, "title": self.title, "url": self.url, "source": self.source,
            "category": self.category, "lang": self.lang, "published": self.published,
            "score": self.score, "highlights": self.highlights, "partial": self.partial,
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
        starts = [s for s, _ in sentences]
        inside: dict[int, list[tuple[int, int]]] = {}  # sentence -> the spans that start in it
        for span in spans:
            inside.setdefault(bisect.bisect_right(starts, span[0]) - 1, []).append(span)
        scored = [
            (-len({fold(text[a:b]).text for a, b in found}), -len(found), n)
            for n, found in inside.items() if n >= 0
        ]
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


def _filters(options: SearchOptions) -> wq.Query | None:
    """The query that results are restricted to."""
    parts: list[wq.Query] = [_filter_query(name, value) for name, value in options.filters.items()]
    start, end = options.dates
    if start or end:
        parts.append(wq.DateRange("published", start, end))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _run(
    searcher: Searcher, query: wq.Query, restrict: wq.Query | None, limit: int, sort: str,
    ranking: Ranking = RANKING, question: bool = False,
) -> tuple[list[tuple[int, float]], np.ndarray]:
    """The top ``limit`` (document number, score) of a query within the restriction, and the
    numbers of all its matching documents; by relevance, proximity raises the best unless the
    query is a ``question``. Gives up with a QueryError after SEARCH_SECONDS."""
    if restrict is not None:
        query = wq.And([query, wq.ConstantScoreQuery(restrict, 0.0)])
    deadline = time.perf_counter() + SEARCH_SECONDS
    docs, scores, dates = [], [], []
    try:
        for leaf, offset in searcher.leaf_searchers():
            found = evaluate(leaf, query, deadline)
            docs.append(found.docs + offset)
            scores.append(found.scores)
            if sort == "date":
                dates.append(sort_keys(leaf.reader(), "published")[found.docs])
    except TooSlow:
        raise QueryError(
            f"the search took longer than {SEARCH_SECONDS:g} s; use fewer or more specific words",
            code="query_timeout",
        ) from None
    all_docs, all_scores = np.concatenate(docs), np.concatenate(scores)
    if sort == "date":
        # Dates as microseconds; a missing one (NO_KEY, 2**64 - 1) becomes -1 and sorts last.
        newest_first = -np.concatenate(dates).astype(np.int64)
        order = np.lexsort((all_docs, -all_scores, newest_first))
    else:
        # The best matches rise by how close the query's words stand in them; not a question's,
        # whose neighbouring words are rarely a phrase (docs/relevance.md).
        if not question:
            all_scores = with_proximity(searcher, query, all_docs, all_scores, ranking)
        order = np.lexsort((all_docs, -all_scores))
    top = order[:limit]
    return list(zip(all_docs[top].tolist(), all_scores[top].tolist())), all_docs


def search(index: QiaoIndex, q: str | SearchOptions = "", *, ranking: Ranking = RANKING, **options: object) -> SearchResult:
    """Search the index: ranked, highlighted hits of one page, with facet counts.

    ``q`` is the query text with ``options`` the other fields of SearchOptions (``page``,
    ``per_page``, ``lang``, ``source``, ``category``, ``date_from``, ``date_to``, ``sort``), or
    one SearchOptions. With no words to rank by (an empty query with filters, or a query of
    filters and exclusions), the matching articles are listed newest first. A page past the
    last one of the hits is a QueryError.
    """
    started = time.perf_counter()
    asked = q if isinstance(q, SearchOptions) else SearchOptions(q=q, **options)  # type: ignore[arg-type]
    q, page, per_page, sort = asked.q, asked.page, asked.per_page, asked.sort
    restrict = _filters(asked)
    tree = parse(q)
    searcher = index.searcher()
    compiler = _Compiler(searcher.schema, ranking)
    query = compiler.compile(tree) if tree is not None else None
    if len(set(compiler.words)) > MAX_QUERY_WORDS:
        raise QueryError(
            f"the query has {len(set(compiler.words))} different words; the limit is {MAX_QUERY_WORDS}",
            code="query_too_long",
        )
    if query is None and restrict is None:
        empty_facets: dict[str, dict[str, int]] = {name: {} for name in FACET_FIELDS}
        return SearchResult(q, page, per_page, 0, _ms(started), (), empty_facets, None, ())
    if query is None:
        query, restrict = wq.ConstantScoreQuery(restrict, 0.0), None
    if not compiler.words:
        sort = "date"

    # A question is ranked by any of its words: few articles have them all, and not the best.
    question = sort == "relevance" and compiler.relaxable and len(set(compiler.words)) >= QUESTION_WORDS
    limit = max(page * per_page, ranking.feedback_docs) if question else page * per_page
    top, docnums = _run(searcher, query, restrict, limit, sort, ranking, question)
    fallback, partial_from = None, limit
    if compiler.relaxable and (question or not len(docnums)):
        query = _Compiler(searcher.schema, ranking, relaxed=True).compile(tree)
        top, relaxed = _run(searcher, query, restrict, limit, sort, ranking, question)
        fallback = "or" if len(relaxed) and not len(docnums) else None
        docnums = relaxed
    elif compiler.relaxable and sort == "relevance" and len(docnums) < limit:
        # Ranked retrieval goes on past the articles with every word: after them, those with some
        # (counted apart: totals and facets are of the articles with every word).
        relaxed = _Compiler(searcher.schema, ranking, relaxed=True).compile(tree)
        more, _ = _run(searcher, relaxed, restrict, limit + len(docnums), sort, ranking)
        strict = {d for d, _ in top}
        partial_from = len(top)
        top += [(d, score) for d, score in more if d not in strict][: limit - len(top)]
    if question and len(docnums) and ranking.feedback_docs and ranking.feedback_words:
        query = _with_feedback(searcher, query, [d for d, _ in top[:ranking.feedback_docs]], ranking)
        top, docnums = _run(searcher, query, restrict, limit, sort, ranking, question)
    last = math.ceil(len(docnums) / per_page)
    if 0 < last < page:
        raise QueryError(f"page must be at most {last}, the last page, not {page}")

    marker = Marker(frozenset(compiler.han), frozenset(compiler.stems))
    hits = []
    for rank, (docnum, score) in enumerate(top[(page - 1) * per_page : page * per_page], (page - 1) * per_page):
        stored = searcher.stored_fields(docnum)
        hits.append(Hit(
            id=stored["id"],
            title=stored.get("title", ""),
            url=stored.get("url", ""),
            source=stored.get("source", ""),
            category=stored.get("category", ""),
            lang=stored.get("lang", ""),
            published=format_published(stored.get("published")),
            score=round(score, 4),
            highlights={
                "title": marker.whole(stored.get("title", "")),
                "body": marker.fragments(stored.get("body", "")),
            },
            partial=rank >= partial_from,
        ))
    facets = {name: _facet(*index.codes(searcher, name), docnums) for name in FACET_FIELDS}
    return SearchResult(
        q, page, per_page, len(docnums), _ms(started), tuple(hits), facets, fallback,
        tuple(compiler.shown),
    )


def _with_feedback(searcher: Searcher, query: wq.Query, top: list[int], ranking: Ranking) -> wq.Query:
    """The query ranking its matches also by the words that mark its best articles (Bo1 feedback)."""
    asked = {text for _, text in query.iter_all_terms()}
    found = searcher.key_terms(top, "body", numterms=ranking.feedback_words + len(asked), model=classify.Bo1Model)
    extra = [(word, weight) for word, weight in found if word not in asked][:ranking.feedback_words]
    if not extra:
        return query
    return wq.AndMaybe(query, wq.Or([
        WordQuery(word, ranking.fields, ranking.feedback_weight * weight, ranking) for word, weight in extra
    ]))


def _facet(values: list[object], codes: np.ndarray, docnums: np.ndarray) -> dict[str, int]:
    """Counts of a field's values among the matching documents, largest first, without empty ones.

    ``values`` are the field's distinct values, ``codes`` each document's number among them.
    """
    counts = np.bincount(codes[docnums], minlength=len(values)).tolist()
    items = [(str(v), n) for v, n in zip(values, counts) if n and v not in (None, "", b"")]
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
