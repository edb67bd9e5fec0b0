"""Qiao's query language: the lexer, the parser and the syntax tree.

Words (all must match; when that finds nothing, any may), "quoted phrases", field:value for
title/source/category/lang/author/tags, -exclusion or NOT, OR, AND (all, never any), word^N boosts, and
parentheses. The syntax is bilingual, so it is parsed here rather than by Whoosh's QueryParser.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from search.options import FILTERS

TEXT_FIELD_PREFIXES = ("title",)
FILTER_FIELDS = FILTERS  # exact-value fields: source:, category:, lang:, author:, tags:
FIELD_ALIASES = {"tag": "tags"}  # tag:trade reads as tags:trade


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
class FieldValue:
    """field:value on an exact-value field (source, category, lang, author, tags): a filter, not scored."""

    field: str
    value: str


@dataclass(frozen=True)
class Excluded:
    """-part or NOT part: articles that match it are left out."""

    node: Node


@dataclass(frozen=True)
class AllOf:
    """Every part must match; ``strict`` when joined by AND, which never falls back to any."""

    nodes: tuple[Node, ...]
    strict: bool = False


@dataclass(frozen=True)
class AnyOf:
    """Any part may match (OR)."""

    nodes: tuple[Node, ...]


Node = Words | Phrase | FieldValue | Excluded | AllOf | AnyOf

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
        name = FIELD_ALIASES.get(name, name) if name else None
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
        return _join(AllOf, nodes)

    def parse_or(self, field: str | None) -> Node | None:
        nodes = [self.parse_and(field)]
        while (t := self.peek()) is not None and t.kind == "or":
            self.i += 1
            nodes.append(self.parse_and(field))
        return _join(AnyOf, [n for n in nodes if n is not None])

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
                if ((t := self.peek()) is not None and t.kind not in ("or", "close", "and")
                        and (node := self.parse_unary(field)) is not None):
                    joined.append(node)
            if len(joined) > 1:
                nodes.append(AllOf(tuple(joined), strict=True))
            elif joined:
                nodes.append(joined[0])
        return _join(AllOf, nodes)

    def parse_unary(self, field: str | None) -> Node | None:
        t = self.peek()
        assert t is not None
        if t.kind in ("neg", "not"):
            self.i += 1
            if self.peek() is None or self.peek().kind in ("or", "close"):
                return None
            inner = self.parse_unary(field)
            return Excluded(inner) if inner is not None else None
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
    """A Words or Phrase node, or a FieldValue when the field is an exact-value field (a boost has no use there)."""
    if not text.strip():
        return None
    if name in FILTER_FIELDS:
        return FieldValue(name, text.strip())
    return kind(text, name, boost)


def _join(kind: type, nodes: list[Node]) -> Node | None:
    """One node for a list: itself when alone, else an AllOf or an AnyOf of them."""
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else kind(tuple(nodes))


def normalized(text: str) -> str:
    """Query text as the parser reads it: NFKC (full-width to half-width), Chinese quotes as ASCII ones."""
    return unicodedata.normalize("NFKC", text).translate(_QUOTES)


def parse(text: str) -> Node | None:
    """Parse query text into a tree; None when it holds nothing to search for.

    >>> parse('重庆^2 -title:"香港" OR lang:en')
    AnyOf(nodes=(AllOf(nodes=(Words(text='重庆', field=None, boost=2.0), Excluded(node=Phrase(text='香港', field='title', boost=1.0))), strict=False), FieldValue(field='lang', value='en')))
    """
    return _Parser(_lex(normalized(text))).parse()


def plain_words(text: str) -> list[list[tuple[int, int, str]]]:
    """The runs of plain words of normalized query text: unquoted words outside parentheses, with
    no field, boost or minus, not joined by OR or AND; each as (start, end, text).

    These are the words that may be read as something else than words (search.query.dates).

    >>> [[w for _, _, w in run] for run in plain_words('香港 May 2023 -去年 "上周" a OR b (c) d')]
    [['香港', 'May', '2023'], ['d']]
    """
    matches = [(m, next((k for k in _KINDS if m.group(k) is not None), None)) for m in _LEX.finditer(text)]
    tokens = [(m, kind) for m, kind in matches if kind not in (None, "stray")]
    runs: list[list[tuple[int, int, str]]] = [[]]
    depth = 0
    for i, (m, kind) in enumerate(tokens):
        depth += (kind == "open") - (kind == "close")
        word = m.group("word") if kind == "word" else None
        before = tokens[i - 1] if i else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        plain = (
            word is not None and word not in ("OR", "AND", "NOT") and depth == 0
            and m.group("field") is None and m.group("boost") is None
            and not (before and (before[1] == "neg" or before[0].group("word") in ("OR", "AND", "NOT")))
            and not (after and after[0].group("word") in ("OR", "AND"))
        )
        if plain:
            runs[-1].append((m.start("word"), m.end("word"), word))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]
