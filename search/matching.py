"""Matching and scoring: Qiao's query leaves, and every match of a query as arrays.

Qiao counts and facets every match of a query, so each search visits all of them. Whoosh's
matchers do that one document at a time in Python; here each part of a query becomes, per
index segment, two numpy arrays — the matching document numbers (sorted) and their scores —
read from whole posting blocks and combined with set operations (``evaluate``).

The leaves are Qiao's own:

* ``WordQuery`` — a word in several weighted fields (and the part fields of longer words),
  scored by BM25F: its weighted, length-normalised frequencies summed, then saturated once.
* ``StringQuery`` — a Chinese string anywhere in the text: inside one indexed word, or across
  words that follow each other, found through the words of each field (``search.strings``).
* ``SynonymQuery`` — the translations of one query word (``search.bridge``), scored as one word:
  their frequencies summed, the articles with any of them counted once (a structured query).

A relevance-sorted search then raises its best matches by how close its words stand to each
other in them (``search.proximity``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from whoosh import query as wq
from whoosh.matching import ListMatcher, Matcher, NullMatcher
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search.analysis import HAN_RUN
from search.ranking import RANKING, Ranking
from search.schema import PART_FIELDS
from search.strings import consecutive, lexicon_of
from search.whoosh_glue import (
    NO_KEY,
    Block,
    deleted_docs,
    field_lengths,
    posting_blocks,
    postings,
    postings_of,
    segment_key,
    sort_keys,
)

if TYPE_CHECKING:
    from search.query.statistics import Statistics

# At most this many ways of cutting a string across words are searched (fewest pieces first).
MAX_SPLITS = 64
CHECK_EVERY = 4096  # matches read one by one between looks at the clock
# The fields proximity reads (search.proximity): a WordQuery keeps its blocks of them.
PROXIMITY_FIELDS = ("title", "body")


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
        They are kept: the statistics round, the scoring and the proximity re-scoring of the same
        search read them (a query lives for one search)."""
        key = (segment_key(reader), name)
        if key not in self._kept:
            self._kept[key] = list(posting_blocks(reader, name, self.text)) if (name, self.text) in reader else []
        return self._kept[key]

    def __str__(self) -> str:
        return "(" + " OR ".join(f"{f}:{self.text}^{w}" for f, w in self.fields) + ")"

    @property
    def searched_in(self) -> str:
        """The name under which statistics count the documents with the word in any of its
        fields: ``body+title``."""
        return "+".join(name for name, weight in self.fields if weight > 0)

    def doc_frequencies(self, searcher: Searcher) -> dict[tuple[str, str], int]:
        """In how many documents of the index of ``searcher`` the word is: under ``searched_in``,
        BM25F's document frequency (below), and in each field proximity reads.

        BM25F's document frequency counts the documents with the word itself in any of its text
        fields, once each. A document with it only inside a longer word (a part field) is weaker
        evidence and is not counted, but a part field's own count is the least it can be, so
        that a word seen only inside longer words is not scored as one never seen.
        """
        found = {(name, self.text): searcher.doc_frequency(name, self.text) for name in PROXIMITY_FIELDS}
        count = 0
        for leaf, _ in searcher.leaf_searchers():
            reader = leaf.reader()
            docs = [postings_of(self.blocks(reader, name))[0]
                    for name, weight in self.fields if weight > 0 and name not in PART_FIELDS]
            count += len(np.unique(np.concatenate(docs))) if docs else 0
        found[(self.searched_in, self.text)] = count
        for name in self._part_fields:  # kept apart: counts add up over shards, their largest does not
            found[(name, self.text)] = searcher.doc_frequency(name, self.text)
        return found

    @property
    def _part_fields(self) -> list[str]:
        return [name for name, weight in self.fields if weight > 0 and name in PART_FIELDS]

    def matches(self, searcher: Searcher, statistics: Statistics) -> Matches:
        reader = searcher.reader()
        # BM25F's idf: the documents with the word in any text field (deleted ones counted, as
        # Whoosh counts them), not the most of any one field, which a word spread over titles
        # and bodies exceeds.
        df = max([statistics.doc_frequency(self.searched_in, self.text),
                  *(statistics.doc_frequency(name, self.text) for name in self._part_fields)])
        idf = bm25_idf(statistics.doc_count, df) * self.boost
        k1, b = self.ranking.bm25(han=bool(HAN_RUN.fullmatch(self.text)))
        docs, tf = [], []
        for name, weight in self.fields:
            blocks = self.blocks(reader, name) if weight > 0 else []
            if not blocks:
                continue
            length_of = PART_FIELDS.get(name, name)
            found, freqs = postings_of(blocks)
            lengths = field_lengths(reader, length_of)[found]
            average = statistics.average_length(length_of)
            docs.append(found)
            tf.append(weight * freqs / (1 - b + b * lengths / average))
        if not docs:
            return NO_MATCHES
        summed = _sum([Matches(d, t) for d, t in zip(docs, tf)])
        scores = idf * summed.scores * (k1 + 1) / (k1 + summed.scores)
        return _live(reader, Matches(summed.docs, scores))


class SynonymQuery(_Leaf):
    """Several words scored as one: the translations (or regional variants) of one query word.

    A structured query (Pirkola 1998; Darwish & Oard 2003): the set's frequency in a field is the
    sum of its members' and its document frequency the number of articles with any member, so a
    word with many translations neither outweighs one with few nor gains from its rare ones. A
    member of several terms (hong kong, or a word jieba cuts in two) counts where all of them
    are, as often as the rarest. Scored by BM25F as a WordQuery is, except that with ``own``, the
    query words it translates, its idf is at most theirs (summed): a translation rarer than the
    word typed does not outscore it, so an article with the word as typed ranks above one with
    its translation (经济 is common in Chinese news, economy rarer in English).
    """

    def __init__(self, members: tuple[tuple[str, ...], ...], fields: dict[str, float], boost: float = 1.0,
                 ranking: Ranking = RANKING, own: tuple[str, ...] = ()) -> None:
        super().__init__("{" + "|".join(" ".join(m) for m in members) + "}", fields, boost, ranking)
        self.members = members
        self.own = own
        self._kept: dict[tuple[object, str], Matches] = {}

    def __str__(self) -> str:
        return "(" + " OR ".join(f"{f}:{self.text}^{w}" for f, w in self.fields) + ")"

    def terms(self, phrases: bool = False) -> Iterator[tuple[str, str]]:
        for name, _ in self.fields:
            for member in self.members:
                for term in member:
                    yield name, term

    def frequencies(self, reader: IndexReader, name: str) -> Matches:
        """The documents of this segment with a member in field ``name`` and the set's frequency
        in each (deleted documents still in); kept for the search (a query lives for one)."""
        key = (segment_key(reader), name)
        if key not in self._kept:
            found = []
            for member in self.members:
                parts = [Matches(*postings(reader, name, t)) if (name, t) in reader else NO_MATCHES for t in member]
                both = parts[0]
                for part in parts[1:]:
                    docs, ia, ib = np.intersect1d(both.docs, part.docs, assume_unique=True, return_indices=True)
                    both = Matches(docs, np.minimum(both.scores[ia], part.scores[ib]))
                found.append(both)
            self._kept[key] = _sum(found)
        return self._kept[key]

    def doc_frequencies(self, searcher: Searcher) -> dict[tuple[str, str], int]:
        """In how many documents of the index of ``searcher`` any member is, in each field."""
        leaves = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        found = {(name, self.text): sum(len(self.frequencies(r, name)) for r in leaves) for name, _ in self.fields}
        found.update({(name, word): searcher.doc_frequency(name, word) for name, _ in self.fields for word in self.own})
        return found

    def matches(self, searcher: Searcher, statistics: Statistics) -> Matches:
        reader = searcher.reader()
        n = statistics.doc_count
        idf = bm25_idf(n, max(statistics.doc_frequency(name, self.text) for name, _ in self.fields))
        if self.own:
            idf = min(idf, sum(bm25_idf(n, max(statistics.doc_frequency(name, w) for name, _ in self.fields))
                               for w in self.own))
        idf *= self.boost
        k1, b = self.ranking.bm25(han=all(HAN_RUN.fullmatch(t) for m in self.members for t in m))
        parts = []
        for name, weight in self.fields:
            found = self.frequencies(reader, name) if weight > 0 else NO_MATCHES
            if not len(found):
                continue
            length_of = PART_FIELDS.get(name, name)
            lengths = field_lengths(reader, length_of)[found.docs]
            average = statistics.average_length(length_of)
            parts.append(Matches(found.docs, weight * found.scores / (1 - b + b * lengths / average)))
        summed = _sum(parts)
        if not len(summed):
            return NO_MATCHES
        scores = idf * summed.scores * (k1 + 1) / (k1 + summed.scores)
        return _live(reader, Matches(summed.docs, scores))


def bm25_idf(n: int, df: float) -> float:
    """BM25's inverse document frequency of a word in ``df`` of ``n`` documents."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class StringQuery(_Leaf):
    """A Chinese string anywhere in the text fields, scored by BM25F on how often it occurs.

    The indexed words tile each text, at consecutive positions, so the string is either inside
    one word (中国人民银行 holds 人民银行) or runs across words that follow each other: the end of
    one word, whole words, the start of another (罗|塞夫, 中国|人民银行行|长). Both are read from
    the words of each field (``search.strings.Lexicon``), so this is exact, whatever jieba made of the text.
    """

    def __str__(self) -> str:
        return "(" + " OR ".join(f'{f}:*"{self.text}"*^{w}' for f, w in self.fields) + ")"

    def matches(self, searcher: Searcher, statistics: Statistics) -> Matches:
        reader = searcher.reader()
        k1, b = self.ranking.bm25(han=True)
        parts = []
        for name, weight in self.fields:
            if weight <= 0:
                continue
            docs, freqs = self._occurrences(reader, name)
            lengths = field_lengths(reader, name)[docs]
            average = statistics.average_length(name)
            parts.append(Matches(docs, weight * freqs / (1 - b + b * lengths / average)))
        found = _sum(parts)
        if not len(found):
            return NO_MATCHES
        # The documents with the string in this segment, scaled to the whole index (an exact
        # count over all segments would be a change of ranking, to be measured first).
        n = statistics.doc_count
        df = min(n, len(found) * n / max(reader.doc_count_all(), 1))
        idf = bm25_idf(n, df) * self.boost
        tf = found.scores
        return _live(reader, Matches(found.docs, idf * tf * (k1 + 1) / (k1 + tf)))

    def _occurrences(self, reader: IndexReader, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The documents of this segment with the string in field ``name``, and how often."""
        lexicon = lexicon_of(reader, name)
        found = [Matches(*postings(reader, name, word)) for word in lexicon.containing(self.text)]
        for places in lexicon.splits(self.text, MAX_SPLITS):
            docs, counts = np.unique(consecutive(reader, name, places) >> 32, return_counts=True)
            found.append(Matches(docs, counts.astype(np.float64)))
        total = _sum(found)
        return total.docs, total.scores


def _live(reader: IndexReader, found: Matches) -> Matches:
    """The matches without deleted documents."""
    if not reader.has_deletions():
        return found
    return _without(found, deleted_docs(reader))
