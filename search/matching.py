"""Matching and scoring: Qiao's query leaves, and every match of a query as arrays.

Qiao counts and facets every match of a query, so each search visits all of them. Whoosh's
matchers do that one document at a time in Python; here each part of a query becomes, per
index segment, two numpy arrays — the matching document numbers (sorted) and their scores —
read from whole posting blocks and combined with set operations (``evaluate``).

The leaves are Qiao's own:

* ``WordQuery`` — a word in several weighted fields (and the part fields of longer words),
  scored by BM25F: its weighted, length-normalised frequencies summed, then saturated once.
* ``StringQuery`` — a Chinese string anywhere in the text: inside one indexed word, or across
  words that follow each other, found through the words of each field (``Lexicon``).

A relevance-sorted search then raises its best matches by how close its words stand to each
other in them (``proximity``, ``with_proximity``).
"""

from __future__ import annotations

import bisect
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
from whoosh import query as wq
from whoosh.matching import ListMatcher, Matcher, NullMatcher
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search.analysis import HAN, HAN_RUN
from search.ranking import RANKING, Ranking
from search.schema import PART_FIELDS, positions
from search.whoosh_glue import (
    NO_KEY,
    Block,
    field_lengths,
    per_segment,
    posting_blocks,
    segment_key,
    sort_keys,
)

if TYPE_CHECKING:
    from search.query.statistics import Statistics, StringKey

_HAN_LINE = re.compile(f"^[{HAN}]+$", re.MULTILINE)
# At most this many ways of cutting a string across words are searched (fewest pieces first).
MAX_SPLITS = 64
CHECK_EVERY = 4096  # matches read one by one between looks at the clock
# Added to positions in (document << 32 | position) keys, so a position minus its place in a
# string never borrows from the document number.
POSITION_SLACK = 1 << 16
# Proximity (BM25TP, Rasolofo & Savoy 2003): two different query words at most PROXIMITY_WINDOW
# positions apart in a field add 1/d² to that pair's count. The count is weighted by field,
# length-normalised and saturated as a word's frequency is (BM25F), times the rarer word's idf
# and the ranking's proximity weight (1: the paper's plain sum with BM25). The best
# PROXIMITY_DOCS matches of a relevance-sorted search are re-scored so; the rest keep their
# order below them. Which pairs count is the ranking's too: "all" (BM25TP), or "next", only
# words next to each other in the query (as the sequential dependence model pairs them), so
# that a long question's bonus grows with its words, not with their square.
PROXIMITY_FIELDS = ("title", "body")
PROXIMITY_WINDOW = 5
PROXIMITY_DOCS = 200


class TooSlow(Exception):
    """The evaluation passed its deadline."""


@dataclass(frozen=True)
class Matches:
    """The matching documents of one index segment (sorted numbers) and their scores."""

    docs: np.ndarray  # int64
    scores: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.docs)


NO_MATCHES = Matches(np.empty(0, np.int64), np.empty(0, np.float64))


# --- evaluation -------------------------------------------------------------------------------


def evaluate(searcher: Searcher, query: wq.Query, statistics: Statistics, deadline: float) -> Matches:
    """Every match of ``query`` in the segment of ``searcher`` (a leaf searcher), with its score.

    And, Or, AndMaybe, Not inside And, ConstantScoreQuery and Qiao's leaves are combined as
    arrays; any other Whoosh query is read through its own matcher. Qiao's leaves score with
    ``statistics`` (of the whole index). Raises TooSlow after ``deadline`` (a ``time.perf_counter()`` value).
    """
    if time.perf_counter() > deadline:
        raise TooSlow
    if isinstance(query, _Leaf):
        return query.matches(searcher, statistics)
    if isinstance(query, wq.And):
        excluded = [q.query for q in query.subqueries if isinstance(q, wq.Not)]
        required = [q for q in query.subqueries if not isinstance(q, wq.Not)]
        if not required:
            return _generic(searcher, query, deadline)
        found = evaluate(searcher, required[0], statistics, deadline)
        for q in required[1:]:
            if not len(found):
                return NO_MATCHES
            found = _both(found, evaluate(searcher, q, statistics, deadline))
        for q in excluded:
            if len(found):
                found = _without(found, evaluate(searcher, q, statistics, deadline).docs)
        return found
    if isinstance(query, wq.Or) and not query.minmatch and query.scale is None:
        return _sum([evaluate(searcher, q, statistics, deadline) for q in query.subqueries])
    if isinstance(query, wq.AndMaybe):
        found = evaluate(searcher, query.a, statistics, deadline)
        if not len(found):
            return found
        return _plus(found, evaluate(searcher, query.b, statistics, deadline))
    if isinstance(query, wq.ConstantScoreQuery):
        docs = evaluate(searcher, query.child, statistics, deadline).docs
        return Matches(docs, np.full(len(docs), float(query.score)))
    if isinstance(query, wq.NumericRange) and query.constantscore and searcher.reader().has_column(query.fieldname):
        return _in_range(searcher.reader(), query)
    return _generic(searcher, query, deadline)


def _in_range(reader: IndexReader, query: wq.NumericRange) -> Matches:
    """The documents whose sort key of the range's field lies in the range (score 1, as Whoosh's).

    Read from the field's column: a date range does not become thousands of terms.
    """
    keys = sort_keys(reader, query.fieldname)
    inside = keys != NO_KEY
    if query.start is not None:
        inside &= (keys > query.start) if query.startexcl else (keys >= query.start)
    if query.end is not None:
        inside &= (keys < query.end) if query.endexcl else (keys <= query.end)
    docs = np.flatnonzero(inside).astype(np.int64)
    return _live(reader, Matches(docs, np.full(len(docs), query.boost)))


def _generic(searcher: Searcher, query: wq.Query, deadline: float) -> Matches:
    """The matches of any Whoosh query, read one by one through its matcher."""
    matcher = query.matcher(searcher, searcher.context())
    docs: list[int] = []
    scores: list[float] = []
    while matcher.is_active():
        docs.append(matcher.id())
        scores.append(matcher.score())
        if len(docs) % CHECK_EVERY == 0 and time.perf_counter() > deadline:
            raise TooSlow
        matcher.next()
    return Matches(np.array(docs, np.int64), np.array(scores, np.float64))


def _both(a: Matches, b: Matches) -> Matches:
    """Documents in both, with the sum of their scores."""
    docs, ia, ib = np.intersect1d(a.docs, b.docs, assume_unique=True, return_indices=True)
    return Matches(docs, a.scores[ia] + b.scores[ib])


def _plus(a: Matches, b: Matches) -> Matches:
    """The documents of ``a``, with the scores of ``b`` added where it matches too."""
    _, ia, ib = np.intersect1d(a.docs, b.docs, assume_unique=True, return_indices=True)
    scores = a.scores.copy()
    scores[ia] += b.scores[ib]
    return Matches(a.docs, scores)


def _without(a: Matches, docs: np.ndarray) -> Matches:
    """The matches of ``a`` except ``docs``."""
    keep = np.isin(a.docs, docs, assume_unique=True, invert=True)
    return Matches(a.docs[keep], a.scores[keep])


def _sum(parts: list[Matches]) -> Matches:
    """Documents in any part, with the sum of their scores."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return NO_MATCHES
    if len(parts) == 1:
        return parts[0]
    docs, where = np.unique(np.concatenate([p.docs for p in parts]), return_inverse=True)
    return Matches(docs, np.bincount(where, weights=np.concatenate([p.scores for p in parts])))


# --- Qiao's leaves ------------------------------------------------------------------------


class _Leaf(wq.Query):
    """A string in several weighted fields; its matches come as arrays (``matches``)."""

    def __init__(self, text: str, fields: dict[str, float], boost: float = 1.0, ranking: Ranking = RANKING) -> None:
        self.text = text
        self.fields = tuple(sorted(fields.items()))
        self.boost = boost
        self.ranking = ranking  # its k1 and b score the leaf

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.text, self.fields, self.boost, self.ranking) == (
            other.text, other.fields, other.boost, other.ranking)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.text, self.fields, self.boost, self.ranking))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r}, {dict(self.fields)!r}, boost={self.boost})"

    def is_leaf(self) -> bool:
        return True

    def has_terms(self) -> bool:
        return True

    def terms(self, phrases: bool = False) -> Iterator[tuple[str, str]]:
        for name, _ in self.fields:
            yield name, self.text

    def estimate_size(self, ixreader: IndexReader) -> int:
        return ixreader.doc_count_all()

    def matches(self, searcher: Searcher, statistics: Statistics) -> Matches:
        """The matches in the segment of ``searcher`` (a leaf searcher), deleted documents left out,
        scored with ``statistics`` (of the whole index: search.query.statistics)."""
        raise NotImplementedError

    def matcher(self, searcher: Searcher, context: object = None) -> Matcher:
        """Whoosh's matcher of the leaf, scored with the statistics of the searcher's whole index."""
        # The round above this module, needed only when Whoosh itself runs the leaf.
        from search.query.statistics import statistics

        found = self.matches(searcher, statistics(searcher.get_parent(), self))
        if not len(found):
            return NullMatcher()
        return ListMatcher(found.docs.tolist(), weights=found.scores.tolist())


class WordQuery(_Leaf):
    """A word in several weighted fields, scored by BM25F.

    Its frequency in each field is weighted and length-normalised, the sum saturated once: a
    word in the title adds to its count in the body instead of scoring a second time beside it.
    A part field (the words inside longer words) is normalised by its text field's length.
    """

    def __init__(self, text: str, fields: dict[str, float], boost: float = 1.0, ranking: Ranking = RANKING) -> None:
        super().__init__(text, fields, boost, ranking)
        self._kept: dict[tuple[object, str], list[Block]] = {}

    def blocks(self, reader: IndexReader, name: str) -> list[Block]:
        """The word's posting blocks in field ``name`` of this segment (none when it is not there).
        Those of PROXIMITY_FIELDS are kept: the proximity re-scoring of the same search reads them
        again (a query lives for one search)."""
        if name not in PROXIMITY_FIELDS:
            return list(posting_blocks(reader, name, self.text)) if (name, self.text) in reader else []
        key = (segment_key(reader), name)
        if key not in self._kept:
            self._kept[key] = list(posting_blocks(reader, name, self.text)) if (name, self.text) in reader else []
        return self._kept[key]

    def __str__(self) -> str:
        return "(" + " OR ".join(f"{f}:{self.text}^{w}" for f, w in self.fields) + ")"

    def doc_frequencies(self, searcher: Searcher) -> dict[tuple[str, str], int]:
        """In how many documents of the index of ``searcher`` the word is, in each field it is
        searched in and each proximity reads."""
        names = dict.fromkeys([*(name for name, _ in self.fields), *PROXIMITY_FIELDS])
        return {(name, self.text): searcher.doc_frequency(name, self.text) for name in names}

    def matches(self, searcher: Searcher, statistics: Statistics) -> Matches:
        reader = searcher.reader()
        df = max(statistics.doc_frequency(name, self.text) for name, _ in self.fields)
        idf = _idf(statistics.doc_count, df) * self.boost
        k1, b = self.ranking.bm25(han=bool(HAN_RUN.fullmatch(self.text)))
        docs, tf = [], []
        for name, weight in self.fields:
            blocks = self.blocks(reader, name) if weight > 0 else []
            if not blocks:
                continue
            length_of = PART_FIELDS.get(name, name)
            found, freqs = _postings_of(blocks)
            lengths = field_lengths(reader, length_of)[found]
            average = statistics.average_length(length_of)
            docs.append(found)
            tf.append(weight * freqs / (1 - b + b * lengths / average))
        if not docs:
            return NO_MATCHES
        summed = _sum([Matches(d, t) for d, t in zip(docs, tf)])
        scores = idf * summed.scores * (k1 + 1) / (k1 + summed.scores)
        return _live(reader, Matches(summed.docs, scores))


def _idf(n: int, df: float) -> float:
    """BM25's inverse document frequency of a word in ``df`` of ``n`` documents."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class StringQuery(_Leaf):
    """A Chinese string anywhere in the text fields, scored by BM25F on how often it occurs.

    The indexed words tile each text, at consecutive positions, so the string is either inside
    one word (中国人民银行 holds 人民银行) or runs across words that follow each other: the end of
    one word, whole words, the start of another (罗|塞夫, 中国|人民银行行|长). Both are read from
    the words of each field (``Lexicon``), so this is exact, whatever jieba made of the text.
    """

    def __init__(self, text: str, fields: dict[str, float], boost: float = 1.0, ranking: Ranking = RANKING) -> None:
        super().__init__(text, fields, boost, ranking)
        self._kept: dict[object, dict[str, Matches]] = {}

    def __str__(self) -> str:
        return "(" + " OR ".join(f'{f}:*"{self.text}"*^{w}' for f, w in self.fields) + ")"

    @property
    def key(self) -> StringKey:
        """The string and the fields it is searched in: what its document count is kept under."""
        return self.text, tuple(name for name, weight in self.fields if weight > 0)

    def occurrences(self, reader: IndexReader) -> dict[str, Matches]:
        """The documents of this segment with the string, and how often, in each field searched
        (deleted ones included). Kept: the statistics and the ranking of a search both read them."""
        key = segment_key(reader)
        if key not in self._kept:
            self._kept[key] = {name: Matches(*self._occurrences(reader, name)) for name in self.key[1]}
        return self._kept[key]

    def document_count(self, searcher: Searcher) -> int:
        """In how many documents of the index of ``searcher`` the string is (deleted ones included)."""
        return sum(len(_sum(list(self.occurrences(leaf.reader()).values()))) for leaf, _ in searcher.leaf_searchers())

    def matches(self, searcher: Searcher, statistics: Statistics) -> Matches:
        reader = searcher.reader()
        k1, b = self.ranking.bm25(han=True)
        weights = dict(self.fields)
        parts = []
        for name, found in self.occurrences(reader).items():
            lengths = field_lengths(reader, name)[found.docs]
            average = statistics.average_length(name)
            parts.append(Matches(found.docs, weights[name] * found.scores / (1 - b + b * lengths / average)))
        found = _sum(parts)
        if not len(found):
            return NO_MATCHES
        n = statistics.doc_count
        idf = _idf(n, min(n, statistics.string_count(self.key))) * self.boost
        tf = found.scores
        return _live(reader, Matches(found.docs, idf * tf * (k1 + 1) / (k1 + tf)))

    def _occurrences(self, reader: IndexReader, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The documents of this segment with the string in field ``name``, and how often."""
        lexicon = lexicon_of(reader, name)
        found = [Matches(*_postings(reader, name, word)) for word in lexicon.containing(self.text)]
        for places in lexicon.splits(self.text, MAX_SPLITS):
            docs, counts = np.unique(_consecutive(reader, name, places) >> 32, return_counts=True)
            found.append(Matches(docs, counts.astype(np.float64)))
        total = _sum(found)
        return total.docs, total.scores


def _consecutive(reader: IndexReader, name: str, places: list[list[str]]) -> np.ndarray:
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
    keys = [_keys(list(posting_blocks(reader, name, w)), place, docs) for w in words if (name, w) in reader]
    return np.unique(np.concatenate(keys)) if keys else np.empty(0, np.int64)


def _keys(blocks: list[Block], place: int, docs: np.ndarray | None) -> np.ndarray:
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



# --- proximity --------------------------------------------------------------------------------


def query_words(query: wq.Query) -> list[WordQuery]:
    """The words a query ranks by, one WordQuery per different word, except those of exclusions
    and of the optional side of an AndMaybe (the words feedback adds)."""
    if isinstance(query, WordQuery):
        return [query]
    if isinstance(query, (wq.Not, wq.ConstantScoreQuery)):
        return []
    found: dict[str, WordQuery] = {}
    for child in [query.a] if isinstance(query, wq.AndMaybe) else query.children():
        for word in query_words(child):
            found.setdefault(word.text, word)
    return list(found.values())


def with_proximity(
    searcher: Searcher, query: wq.Query, docs: np.ndarray, scores: np.ndarray, statistics: Statistics,
    ranking: Ranking = RANKING,
) -> np.ndarray:
    """``scores`` of the matches ``docs`` (numbers in the whole index) with the best PROXIMITY_DOCS
    raised by their ``proximity`` bonus; unchanged for a query of fewer than two words."""
    words = query_words(query)
    if len(words) < 2 or not len(docs) or ranking.proximity_weight <= 0:
        return scores
    best = np.lexsort((docs, -scores))[:PROXIMITY_DOCS]
    best = best[np.argsort(docs[best])]  # by document number: each segment's are one range
    numbers = docs[best]
    idf = _proximity_idf(statistics, words)  # once for all segments
    bonus = np.zeros(len(best))
    for leaf, offset in searcher.leaf_searchers():
        inside = (numbers >= offset) & (numbers < offset + leaf.reader().doc_count_all())
        if inside.any():
            bonus[inside] = proximity(leaf, words, numbers[inside] - offset, statistics, idf=idf, ranking=ranking)
    raised = scores.copy()
    raised[best] += bonus
    return raised


def proximity(
    searcher: Searcher, words: Sequence[WordQuery], docs: np.ndarray, statistics: Statistics, *,
    idf: np.ndarray | None = None, ranking: Ranking = RANKING,
) -> np.ndarray:
    """The proximity bonus of each of ``docs`` (sorted numbers in the segment of ``searcher``, a
    leaf searcher) for ``words`` (different words, in query order): BM25TP over PROXIMITY_FIELDS.

    Each pair of words (all, or next to each other in the query: ``ranking.proximity_pairs``) has a count per document: 1/d² for every two of
    their occurrences d ≤ PROXIMITY_WINDOW positions apart, in either order, in a field both
    words are searched in. It is summed over fields as BM25F sums a word's frequencies and
    saturated with the pair's k1 and b (Chinese when both words are); the bonus is
    the ranking's proximity weight times the sum over pairs of the rarer word's idf times the saturated count.
    Field lengths and idf are those of ``statistics`` (the whole index); ``idf`` is the words'
    (``_proximity_idf``), if known.
    """
    bonus = np.zeros(len(docs))
    if len(words) < 2 or not len(docs) or ranking.proximity_weight <= 0:
        return bonus
    reader = searcher.reader()
    if idf is None:
        idf = _proximity_idf(statistics, words)
    han = np.array([bool(HAN_RUN.fullmatch(w.text)) for w in words])
    pairs, counts = [], []  # per field: document index * m² + i * m + j (i < j), and the count
    m = len(words)
    (latin_k1, latin_b), (han_k1, han_b) = ranking.bm25(han=False), ranking.bm25(han=True)
    for name in PROXIMITY_FIELDS:
        weight = ranking.fields[name]
        at, first, second, near = _near(reader, name, words, docs)
        if ranking.proximity_pairs == "next":
            keep = second == first + 1
            at, first, second, near = at[keep], first[keep], second[keep], near[keep]
        if not len(at):
            continue
        b = np.where(han[first] & han[second], han_b, latin_b)
        lengths = field_lengths(reader, name)[docs[at]]
        average = statistics.average_length(name)
        pairs.append((at * m + first) * m + second)
        counts.append(weight * near / (1 - b + b * lengths / average))
    if not pairs:
        return bonus
    codes, where = np.unique(np.concatenate(pairs), return_inverse=True)
    tf = np.bincount(where, weights=np.concatenate(counts))
    at, first, second = codes // (m * m), codes // m % m, codes % m
    k1 = np.where(han[first] & han[second], han_k1, latin_k1)
    pair_scores = np.minimum(idf[first], idf[second]) * tf * (k1 + 1) / (k1 + tf)
    bonus += ranking.proximity_weight * np.bincount(at, weights=pair_scores, minlength=len(docs))
    return bonus


def _proximity_idf(statistics: Statistics, words: Sequence[WordQuery]) -> np.ndarray:
    """Each word's idf in the whole index, of the fields proximity reads."""
    n = statistics.doc_count
    return np.array([_idf(n, max(statistics.doc_frequency(name, w.text) for name in PROXIMITY_FIELDS)) for w in words])


def _near(
    reader: IndexReader, name: str, words: Sequence[WordQuery], docs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each two occurrences of different ``words`` at most PROXIMITY_WINDOW positions apart in
    field ``name`` of ``docs``: the document's index in ``docs``, the pair's words (indexes into
    ``words``, first < second) and 1/d²."""
    keys = [_keys(w.blocks(reader, name) if name in dict(w.fields) else [], 0, docs) for w in words]
    which = np.concatenate([np.full(len(k), i) for i, k in enumerate(keys)])
    keys = np.concatenate(keys)
    order = np.argsort(keys, kind="stable")
    keys, which = keys[order], which[order]
    # A field's positions are sorted and each holds one word, so the occurrences within the
    # window of one are among the next PROXIMITY_WINDOW.
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for lag in range(1, PROXIMITY_WINDOW + 1):
        if lag >= len(keys):
            break
        d = keys[lag:] - keys[:-lag]
        close = d <= PROXIMITY_WINDOW
        if not close.any():
            break
        close &= which[lag:] != which[:-lag]
        a, b = which[:-lag][close], which[lag:][close]
        found.append((keys[lag:][close] >> 32, np.minimum(a, b), np.maximum(a, b), 1.0 / d[close] ** 2))
    if not found:
        empty = np.empty(0, np.int64)
        return empty, empty, empty, np.empty(0)
    doc, first, second, near = (np.concatenate(parts) for parts in zip(*found))
    return np.searchsorted(docs, doc), first, second, near


# --- per-segment data -------------------------------------------------------------------------


def _postings(reader: IndexReader, name: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights (frequencies) of a term's postings in this segment."""
    return _postings_of(list(posting_blocks(reader, name, text)))


def _postings_of(blocks: list[Block]) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights (frequencies) of the postings in a term's blocks."""
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for block_ids, block_weights, _ in blocks:
        ids.append(block_ids)
        if block_weights is None:
            weights.append(np.ones(len(block_ids)))
        elif isinstance(block_weights, float):
            weights.append(np.full(len(block_ids), block_weights))
        else:
            weights.append(np.array(block_weights, np.float64))
    if not ids:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    return np.concatenate(ids), np.concatenate(weights)


def _live(reader: IndexReader, found: Matches) -> Matches:
    """The matches without deleted documents."""
    if not reader.has_deletions():
        return found
    deleted = np.fromiter(reader.deleted_docs_set, np.int64)
    return _without(found, deleted)


def lexicon_of(reader: IndexReader, name: str) -> Lexicon:
    """The Chinese words of field ``name`` in this segment."""
    return per_segment(reader, "lexicon", name, lambda: Lexicon(
        _HAN_LINE.findall(b"\n".join(reader.lexicon(name)).decode("utf-8"))))
