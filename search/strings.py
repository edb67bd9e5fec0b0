"""Chinese strings across words: the Chinese words of a segment's field (``Lexicon``), and where
words stand at consecutive positions (``consecutive``), as ``document << 32 | position`` keys.

The indexed words tile each text, so a string is inside one word or runs across words that
follow each other; ``matching.StringQuery`` finds it through these.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from itertools import chain

import numpy as np
from whoosh.reading import IndexReader

from search.analysis import HAN
from search.schema import positions
from search.whoosh_glue import Block, per_segment, posting_blocks

_HAN_LINE = re.compile(f"^[{HAN}]+$", re.MULTILINE)
# Added to positions in (document << 32 | position) keys, so a position minus its place in a
# string never borrows from the document number.
POSITION_SLACK = 1 << 16
def consecutive(reader: IndexReader, name: str, places: list[list[str]]) -> np.ndarray:
    """Where a word of each place stands at consecutive positions, as ``document << 32 | position``
    of the first place. Starts from the place with the fewest postings and narrows down from there.
    """
    def postings(place: list[str]) -> int:
        return sum(reader.doc_frequency(name, w) for w in place)

    found: np.ndarray | None = None
    for i in sorted(range(len(places)), key=lambda i: postings(places[i])):
        docs = None if found is None else np.unique(found >> 32)
        starts = _starts(reader, name, places[i], i, docs)
        found = starts if found is None else np.intersect1d(found, starts, assume_unique=True)
        if not len(found):
            break
    return found if found is not None else np.empty(0, np.int64)


def _starts(reader: IndexReader, name: str, words: list[str], place: int, docs: np.ndarray | None) -> np.ndarray:
    """``document << 32 | position - place`` of every position of any of ``words`` (in ``docs`` only,
    if given), sorted. Positions are read from whole posting blocks, decoded only where needed."""
    keys = [position_keys(list(posting_blocks(reader, name, w)), place, docs) for w in words if (name, w) in reader]
    return np.unique(np.concatenate(keys)) if keys else np.empty(0, np.int64)


def position_keys(blocks: list[Block], place: int, docs: np.ndarray | None) -> np.ndarray:
    """``document << 32 | position - place`` of every position in a term's posting blocks (in
    ``docs`` only, if given), sorted. Only the postings of those documents are decoded."""
    if not blocks:
        return np.empty(0, np.int64)
    ids = np.concatenate([b[0] for b in blocks])
    values = [v for b in blocks for v in b[2]]
    picked = np.arange(len(ids)) if docs is None else np.flatnonzero(np.isin(ids, docs, assume_unique=True))
    found = list(map(list, map(positions, map(values.__getitem__, picked.tolist()))))
    bases = (ids[picked] << 32) + POSITION_SLACK - place
    return np.repeat(bases, list(map(len, found))) + np.array(list(chain.from_iterable(found)), np.int64)


class Lexicon:
    """The Chinese words of one field of one index segment: those inside, ending or starting a string."""

    def __init__(self, words: list[str]) -> None:
        self.words = frozenset(words)
        self._text = "\n" + "\n".join(words) + "\n"  # one word per line, for str.find
        self._sorted = words  # in the index's order, which is sorted: words starting with s form one range
        self._reversed_words: list[str] | None = None

    @property
    def _reversed(self) -> list[str]:
        """Every word reversed, sorted: words ending with s form one range (made on first use)."""
        if self._reversed_words is None:
            self._reversed_words = sorted(w[::-1] for w in self.words)
        return self._reversed_words

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



def lexicon_of(reader: IndexReader, name: str) -> Lexicon:
    """The Chinese words of field ``name`` in this segment."""
    return per_segment(reader, "lexicon", name, lambda: Lexicon(
        _HAN_LINE.findall(b"\n".join(reader.lexicon(name)).decode("utf-8"))))
