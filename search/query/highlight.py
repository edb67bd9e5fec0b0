"""Highlighting: the query's words marked in article text, escaped first, then <mark> added."""

from __future__ import annotations

import bisect
import functools
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from search.analysis import LATIN, LATIN_WORD, fold, latin_term

FRAGMENT_CHARS = 160
FRAGMENTS = 2
_SENTENCE_END = re.compile(r"[。！？!?；;]+[”」』\"')）]*|\.(?=\s)|\n+")


@dataclass(frozen=True)
class Highlighter:
    """Finds the query's words in article text and marks them with <mark>: its Chinese strings, and
    the Latin words whose term, as the word analyzer makes it (``latin_term``), is one of its terms."""

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
        """The analyzer's Latin words that may have one of the query's terms: those that start as
        one of them does (a stem keeps its word's first letter)."""
        if not self.stems:
            return None
        first = "".join(sorted({re.escape(s[0]) for s in self.stems}))
        return re.compile(rf"(?<![{LATIN}])(?<![{LATIN}]['\u2019])(?=[{first}]){LATIN_WORD}")

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Sorted, merged (start, end) offsets of matches in the original text."""
        folded = fold(text)
        found: list[tuple[int, int]] = []
        if self._han_pattern is not None:
            found += [m.span() for m in self._han_pattern.finditer(folded.text)]
        if self._latin_candidates is not None:
            found += [
                m.span() for m in self._latin_candidates.finditer(folded.text)
                if latin_term(m.group()) in self.stems
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
