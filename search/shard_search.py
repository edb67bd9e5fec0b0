"""Searching the shards of an index in one process: the rounds of ``search.query.search`` per shard.

A sharded index is searched through a ``ShardedSearcher``: one Whoosh searcher over every
shard's segments, whose document numbers run through the shards in order (shard 0's, then
shard 1's…), so a hit's number names its shard. The query is parsed and compiled once; then

- statistics (``gather_statistics``): each shard's ``search.query.statistics`` summed, so the
  scores are those of one index of all the articles;
- rank (``rank_shards``): each shard scores its matches with those statistics and keeps its
  best (``rank_shard``); the best of all are merged by score then document number (or by date
  first), raised by proximity where one index would raise them, and the totals and facet
  counts are summed, so the OR fallback is decided on the whole index's total; collapsing one
  hit a story, each shard keeps every match with its story key, and the stories are collapsed
  once the matches are merged, as on one index;
- fetch: stored fields and highlights read through the ShardedSearcher from the owning shard.

Ties (equal scores, or equal dates) come in document-number order, as on one index; the
numbers differ from those of an index built in one piece, so tied hits may come in another
order than there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import whoosh.index
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import IndexReader, MultiReader
from whoosh.searching import Searcher

from search.generations import open_generation
from search.options import DATE_SORTS
from search.proximity import PROXIMITY_DOCS, with_proximity
from search.query.statistics import Statistics, statistics
from search.ranking import Ranking
from search.schema import FACET_FIELDS, MULTI_VALUED_FACETS
from search.shards import RemoteShards, is_sharded, shard_dirs
from search.whoosh_glue import (
    NO_KEY,
    facet_codes,
    facet_counts,
    group_keys,
    term_counts,
    term_postings,
)

if TYPE_CHECKING:
    from search.query.search import Plan

Facets = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Shard:
    """One shard of a ShardedSearcher: its own searcher, its segments' leaf searchers in the
    ShardedSearcher (numbered in the whole) and its first document number there."""

    searcher: Searcher
    leaves: tuple[tuple[Searcher, int], ...]
    start: int

    def leaf_searchers(self) -> tuple[tuple[Searcher, int], ...]:
        """The shard's segments' searchers and first document numbers, as a Whoosh searcher's."""
        return self.leaves


class ShardedSearcher(Searcher):
    """A Whoosh searcher of the shards of an index as one: every shard's segments, in order.

    Build it with ``of``; ``shards`` is empty for the segments' searchers Whoosh makes inside it
    (of this class too).
    """

    shards: tuple[Shard, ...] = ()

    @classmethod
    def of(cls, searchers: Sequence[Searcher]) -> ShardedSearcher:
        """The searcher of the shards whose own (top) searchers are ``searchers``, in shard order."""
        readers = [leaf for s in searchers for leaf, _ in _leaf_readers(s.reader())]
        # Its generation is every shard's: a cache keyed by it is stale after a commit to any shard.
        generation = tuple(s.reader().generation() for s in searchers)
        whole = cls(MultiReader(readers, generation), closereader=False)
        leaves = iter(whole.leaf_searchers())
        shards, start = [], 0
        for s in searchers:
            mine = tuple(next(leaves) for _ in _leaf_readers(s.reader()))
            shards.append(Shard(s, mine, start))
            start += s.doc_count_all()
        whole.shards = tuple(shards)
        return whole

    def up_to_date(self) -> bool:
        """Whether every shard's searcher reads its shard's latest commit."""
        return all(shard.searcher.up_to_date() for shard in self.shards)

    def close(self) -> None:
        """Close every shard's searcher."""
        for shard in self.shards:
            shard.searcher.close()
        super().close()


class ShardedIndex:
    """The Whoosh indexes of a sharded generation, opened together; ``searcher`` searches them as one."""

    def __init__(self, gen_dir: Path) -> None:
        self.storage = FileStorage(str(gen_dir))  # as a Whoosh index's: its folder names the generation
        self.indexes = [open_generation(folder) for folder in shard_dirs(gen_dir)]

    def searcher(self) -> ShardedSearcher:
        """A searcher of every shard's latest commit."""
        return ShardedSearcher.of([ix.searcher() for ix in self.indexes])

    def close(self) -> None:
        """Close every shard's index."""
        for ix in self.indexes:
            ix.close()


def open_live(gen_dir: Path) -> whoosh.index.FileIndex | ShardedIndex:
    """The index of a generation for searching: its Whoosh index, or its shards' (S > 1)."""
    return ShardedIndex(gen_dir) if is_sharded(gen_dir) else open_generation(gen_dir)


def _leaf_readers(reader: IndexReader) -> list[tuple[IndexReader, int]]:
    """The segment readers of ``reader`` (itself for one segment)."""
    return list(reader.leaf_readers())


class WholeIndexSearcher(Searcher):
    """A searcher of one shard whose collection statistics are the whole index's (``stats``):
    what Whoosh's own scorers (of quoted English phrases) read, in a shard searched by itself."""

    def __init__(self, reader: IndexReader, stats: Statistics) -> None:
        super().__init__(reader, closereader=False)
        self._doccount = stats.doc_count  # Searcher.doc_count_all and avg_field_length read it
        self.stats = stats
        own = self.doc_frequency  # Searcher copies the reader's as an attribute, so it is replaced as one

        def doc_frequency(name: str, text: str | bytes) -> int:
            word = text.decode("utf-8") if isinstance(text, bytes) else text
            return stats.doc_frequencies.get((name, word), own(name, text))

        self.doc_frequency = doc_frequency

    def field_length(self, fieldname: str) -> int:
        """The whole index's length of the field."""
        return self.stats.field_lengths.get(fieldname, 0)

    def _subsearcher(self, reader: IndexReader) -> Searcher:
        """A segment's searcher: Whoosh's own, reading the statistics of this one, its parent."""
        return Searcher(reader, fromindex=self._ix, weighting=self.weighting, parent=self)


def gather_statistics(searcher: Searcher, query: wq.Query) -> Statistics:
    """The statistics round: ``search.query.statistics.statistics``, summed over the shards of a ShardedSearcher."""
    if isinstance(searcher, RemoteShards):
        return sum(searcher.statistics(query), Statistics())
    if not isinstance(searcher, ShardedSearcher):
        return statistics(searcher, query)
    return sum((statistics(shard.searcher, query) for shard in searcher.shards), Statistics())


Matches = tuple[np.ndarray, np.ndarray, np.ndarray | None]  # document numbers, scores, dates or None
MatchesOf = Callable[..., Matches]  # search.query.search's: (searcher, query, stats, *, by_date) -> Matches


@dataclass(frozen=True)
class ShardRanked:
    """What one shard's rank round returns: its best matches (numbers in the whole), their
    scores, (by date) dates and (collapsing) stories, its total and its facet counts."""

    docs: np.ndarray
    scores: np.ndarray
    dates: np.ndarray | None
    total: int
    facets: Facets
    stories: np.ndarray | None = None  # collapsing: each kept match's story key (whoosh_glue.group_keys)


def rank_shard(
    shard: Shard, query: wq.Query, stats: Statistics, plan: Plan, ranking: Ranking, matches: MatchesOf,
) -> ShardRanked:
    """One shard's rank round: every match of ``query`` (restricted already) scored with ``stats``
    by ``matches``; the best ``plan.limit`` kept, by relevance also the PROXIMITY_DOCS after them
    (proximity may raise those above the rest), with the total and the facet counts.

    By relevance_recent, also the best ``plan.limit`` with the recency factor: an article outside
    the shard's best by score may rise into the page by it (proximity only adds to the others)."""
    docs, scores, dates = matches(shard, query, stats, by_date=plan.sort != "relevance")
    if plan.collapse:  # every match kept: a story's best article may be in another shard
        keep = np.arange(len(docs))
    elif plan.sort in DATE_SORTS:
        keep = _order(docs, scores, dates, plan.sort)[: plan.limit]
    else:
        keep = _order(docs, scores, None, "relevance")[: plan.limit + PROXIMITY_DOCS]
        if plan.sort == "relevance_recent":
            recent = _order(docs, scores * recency(dates, plan, ranking), dates, plan.sort)[: plan.limit]
            keep = np.union1d(keep, recent)
    facets = facets_of(shard.searcher, docs - shard.start)
    stories = group_keys(shard.searcher, "story")[docs[keep] - shard.start] if plan.collapse else None
    return ShardRanked(docs[keep], scores[keep], None if dates is None else dates[keep], len(docs), facets, stories)


def rank_shards(
    searcher: ShardedSearcher | RemoteShards, query: wq.Query, stats: Statistics, plan: Plan, ranking: Ranking, matches: MatchesOf,
) -> tuple[Best, np.ndarray, Facets]:
    """The rank round over every shard, merged: the best matches (``best_first``) with the merged
    document numbers they index, and the facet counts, as ``search.query.search.rank`` gives on
    one index. ``matches`` finds a shard's matches (search.query.search's, with its time limit);
    remote shards run ``rank_shard`` in their own processes."""
    if isinstance(searcher, RemoteShards):
        found = searcher.rank(query, stats, plan, ranking)
    else:
        found = [rank_shard(shard, query, stats, plan, ranking, matches) for shard in searcher.shards]
    docs = np.concatenate([f.docs for f in found])
    scores = np.concatenate([f.scores for f in found])
    dates = np.concatenate([f.dates for f in found]) if plan.sort != "relevance" else None
    stories = None
    if plan.collapse:
        stories = np.concatenate([f.stories for f in found])
        # An article without a story has a key of its own: its number in the whole, not in its shard.
        alone = stories >= np.uint64(1 << 63)
        stories[alone] = docs[alone].astype(np.uint64) | np.uint64(1 << 63)
    best = best_first(searcher, query, docs, scores, dates, stats, plan, ranking, stories)
    if not plan.collapse:  # the shards kept their best only: the total is theirs
        best = replace(best, total=sum(f.total for f in found), articles=sum(f.total for f in found))
    return best, docs, summed_facets([f.facets for f in found])


@dataclass(frozen=True)
class Best:
    """The best matches, as positions in the arrays of matches ranked: the top ``plan.limit``
    (when collapsing, one a story: its best match), the final scores, how many matches (or
    stories) there are, and each top story's other matches, best first."""

    top: np.ndarray
    scores: np.ndarray
    total: int  # stories when collapsing, else articles
    articles: int
    similar: dict[int, list[int]] = field(default_factory=dict)  # a top position: its story's others
    stories: np.ndarray | None = None  # collapsing: the story key of each of ``top``


def best_first(
    searcher: Searcher, query: wq.Query, docs: np.ndarray, scores: np.ndarray, dates: np.ndarray | None,
    stats: Statistics, plan: Plan, ranking: Ranking, stories: np.ndarray | None = None,
) -> Best:
    """The best ``plan.limit`` matches with their final scores, on one index or merged from shards.
    By relevance the best rise by how close the query's words stand in them; not a question's,
    whose neighbouring words are rarely a phrase (docs/relevance.md). By relevance_recent, each
    score is then multiplied by its article's recency factor. Collapsing (``stories``: each
    match's story key, ``whoosh_glue.group_keys``), the best match of each story
    (search.stories) stands for it, and the others are listed under it."""
    if plan.sort not in DATE_SORTS and not plan.question:
        scores = with_proximity(searcher, query, docs, scores, stats, ranking)
    if plan.sort == "relevance_recent":
        scores = scores * recency(dates, plan, ranking)
    order = _order(docs, scores, dates, plan.sort)
    if not plan.collapse:
        return Best(order[: plan.limit], scores, len(docs), len(docs))
    assert stories is not None, "collapsing needs each match's story"
    keys = stories[order]  # each match's story, best match first
    _, first = np.unique(keys, return_index=True)
    heads = np.sort(first)  # ranks of each story's best match
    top = heads[: plan.limit]
    shown = np.isin(keys, keys[top])
    others: dict[int, list[int]] = {}
    for rank in np.flatnonzero(shown).tolist():
        others.setdefault(int(keys[rank]), []).append(int(order[rank]))
    similar = {int(order[r]): others[int(keys[r])][1:] for r in top.tolist()}
    return Best(order[top], scores, len(heads), len(docs), {p: o for p, o in similar.items() if o}, keys[top])


def recency(dates: np.ndarray | None, plan: Plan, ranking: Ranking) -> np.ndarray:
    """Each match's recency factor (``Ranking.recency``): its age in days before ``plan.anchor``."""
    assert dates is not None and plan.anchor is not None
    ages = (plan.anchor - dates.astype(np.float64)) / DAY
    return ranking.recency(np.where(dates == NO_KEY, np.nan, ages))


DAY = 86_400_000_000  # a day in a date's sort key (microseconds)


def _order(docs: np.ndarray, scores: np.ndarray, dates: np.ndarray | None, sort: str) -> np.ndarray:
    """Positions of matches, best first: by relevance, score then number; by relevance_recent, the
    newer first among equal scores; by date, newest first (date_asc: oldest), then score, then
    number. An article without a date (NO_KEY) comes last by date, and as the oldest otherwise."""
    if dates is None:
        return np.lexsort((docs, -scores))
    # Dates as microseconds; a missing one (NO_KEY, 2**64 - 1) becomes -1 as an int64.
    newest_first = -dates.astype(np.int64)
    if sort == "relevance_recent":
        return np.lexsort((docs, newest_first, -scores))
    if sort == "date_asc":
        return np.lexsort((docs, -scores, dates))
    return np.lexsort((docs, -scores, newest_first))


def facets_of(searcher: Searcher, docs: np.ndarray) -> Facets:
    """The facet counts of the documents ``docs`` of one index: each facet field's values, largest first."""
    return {
        name: term_counts(*term_postings(searcher, name), docs) if name in MULTI_VALUED_FACETS
        else facet_counts(*facet_codes(searcher, name), docs)
        for name in FACET_FIELDS
    }


def summed_facets(parts: Sequence[Facets]) -> Facets:
    """Facet counts of shards added up, each field's largest first (as ``facet_counts`` orders them)."""
    return {name: summed_counts([part.get(name, {}) for part in parts]) for name in FACET_FIELDS}


def summed_counts(parts: Sequence[dict[str, int]]) -> dict[str, int]:
    """Counts by value of shards added up, largest first (as ``facet_counts`` orders them)."""
    counts = sum((Counter(part) for part in parts), Counter())
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
