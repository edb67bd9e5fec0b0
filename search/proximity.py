"""Proximity: a relevance-sorted search raises its best matches by how close the query's words
stand to each other in them (BM25TP over title and body)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search.analysis import HAN_RUN
from search.matching import PROXIMITY_FIELDS, WordQuery, bm25_idf
from search.ranking import RANKING, Ranking
from search.shards import RemoteShards
from search.strings import position_keys
from search.whoosh_glue import field_lengths

if TYPE_CHECKING:
    from search.query.statistics import Statistics

# Proximity (BM25TP, Rasolofo & Savoy 2003): two different query words at most PROXIMITY_WINDOW
# positions apart in a field add 1/d² to that pair's count. The count is weighted by field,
# length-normalised and saturated as a word's frequency is (BM25F), times the rarer word's idf
# and the ranking's proximity weight (1: the paper's plain sum with BM25). The best
# PROXIMITY_DOCS matches of a relevance-sorted search are re-scored so; the rest keep their
# order below them. Which pairs count is the ranking's too: "all" (BM25TP), or "next", only
# words next to each other in the query (as the sequential dependence model pairs them), so
# that a long question's bonus grows with its words, not with their square.
PROXIMITY_WINDOW = 5
PROXIMITY_DOCS = 200


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
    if isinstance(searcher, RemoteShards):  # each shard's bonuses from its own process
        bonus = searcher.proximity(words, numbers, statistics, idf, ranking)
    else:
        bonus = leaf_bonus(searcher, words, numbers, statistics, idf, ranking)
    raised = scores.copy()
    raised[best] += bonus
    return raised


def leaf_bonus(
    searcher: Searcher, words: Sequence[WordQuery], numbers: np.ndarray, statistics: Statistics, idf: np.ndarray,
    ranking: Ranking = RANKING,
) -> np.ndarray:
    """The ``proximity`` bonus of the sorted document ``numbers`` of the index of ``searcher``
    (a top searcher), each from its segment."""
    bonus = np.zeros(len(numbers))
    for leaf, offset in searcher.leaf_searchers():
        inside = (numbers >= offset) & (numbers < offset + leaf.reader().doc_count_all())
        if inside.any():
            bonus[inside] = proximity(leaf, words, numbers[inside] - offset, statistics, idf=idf, ranking=ranking)
    return bonus


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
    if idf is None:
        idf = _proximity_idf(statistics, words)
    han = np.array([bool(HAN_RUN.fullmatch(w.text)) for w in words])
    pairs, counts = _pair_counts(searcher.reader(), words, docs, statistics, ranking, han)
    if not len(pairs):
        return bonus
    m = len(words)
    codes, where = np.unique(pairs, return_inverse=True)
    tf = np.bincount(where, weights=counts)
    at, first, second = codes // (m * m), codes // m % m, codes % m
    latin_k1, han_k1 = ranking.bm25(han=False)[0], ranking.bm25(han=True)[0]
    k1 = np.where(han[first] & han[second], han_k1, latin_k1)
    pair_scores = np.minimum(idf[first], idf[second]) * tf * (k1 + 1) / (k1 + tf)
    bonus += ranking.proximity_weight * np.bincount(at, weights=pair_scores, minlength=len(docs))
    return bonus


def _pair_counts(
    reader: IndexReader, words: Sequence[WordQuery], docs: np.ndarray, statistics: Statistics,
    ranking: Ranking, han: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each count of a pair of ``words`` close together in a field of one of ``docs``, weighted
    and length-normalised for its field as BM25F does: the pair's code (document index * m² +
    i * m + j, i < j, for m words; a code appears once per field) and the count."""
    pairs, counts = [], []
    m = len(words)
    latin_b, han_b = ranking.bm25(han=False)[1], ranking.bm25(han=True)[1]
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
        return np.empty(0, np.int64), np.empty(0)
    return np.concatenate(pairs), np.concatenate(counts)


def _proximity_idf(statistics: Statistics, words: Sequence[WordQuery]) -> np.ndarray:
    """Each word's idf in the whole index, of the fields proximity reads."""
    n = statistics.doc_count
    return np.array([bm25_idf(n, max(statistics.doc_frequency(name, w.text) for name in PROXIMITY_FIELDS)) for w in words])


def _near(
    reader: IndexReader, name: str, words: Sequence[WordQuery], docs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each two occurrences of different ``words`` at most PROXIMITY_WINDOW positions apart in
    field ``name`` of ``docs``: the document's index in ``docs``, the pair's words (indexes into
    ``words``, first < second) and 1/d²."""
    keys = [position_keys(w.blocks(reader, name) if name in dict(w.fields) else [], 0, docs) for w in words]
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
