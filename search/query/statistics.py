"""The first round of a search: the collection statistics its scores read.

BM25F reads more than the matching document: how many documents there are, how long a field
is on average, in how many documents each word or Chinese string is. Those are gathered once
for a query (``statistics``) and handed to ranking, which scores with them and nothing else:
so the statistics of several indexes summed (``+``) score each of them as one index would.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.searching import Searcher

from search.matching import StringQuery, TooSlow, WordQuery

StringKey = tuple[str, tuple[str, ...]]  # a Chinese string and the fields it is searched in


@dataclass(frozen=True)
class Statistics:
    """Collection statistics: documents, field lengths, document frequencies of words and strings.

    Documents are counted deleted ones included, as Whoosh counts them for BM25.
    """

    doc_count: int = 0
    field_lengths: Mapping[str, int] = field(default_factory=dict)  # each scorable field's total length
    doc_frequencies: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (field, word)
    string_counts: Mapping[StringKey, int] = field(default_factory=dict)  # documents with the string

    @classmethod
    def of_collection(cls, searcher: Searcher) -> Statistics:
        """The document count and field lengths of the index of ``searcher`` (a top searcher)."""
        reader = searcher.reader()
        lengths = {name: reader.field_length(name) for name in searcher.schema.scorable_names()}
        return cls(searcher.doc_count_all(), lengths)

    def average_length(self, name: str) -> float:
        """The mean length of field ``name`` per document; 1.0 when it is not known or 0."""
        return self.field_lengths.get(name, 0) / (self.doc_count or 1) or 1.0

    def doc_frequency(self, name: str, word: str) -> int:
        """How many documents have ``word`` in field ``name``."""
        return self.doc_frequencies.get((name, word), 0)

    def string_count(self, key: StringKey) -> int:
        """How many documents have the Chinese string of ``key`` in one of its fields."""
        return self.string_counts.get(key, 0)

    def including(self, other: Statistics) -> Statistics:
        """These statistics with the word and string counts of ``other`` (of the same collection) added."""
        return Statistics(
            self.doc_count, self.field_lengths,
            {**self.doc_frequencies, **other.doc_frequencies}, {**self.string_counts, **other.string_counts},
        )

    def __add__(self, other: Statistics) -> Statistics:
        """The statistics of two collections searched as one (shards of one index)."""
        return Statistics(
            self.doc_count + other.doc_count,
            dict(Counter(self.field_lengths) + Counter(other.field_lengths)),
            dict(Counter(self.doc_frequencies) + Counter(other.doc_frequencies)),
            dict(Counter(self.string_counts) + Counter(other.string_counts)),
        )


def statistics(searcher: Searcher, query: wq.Query, deadline: float | None = None) -> Statistics:
    """The statistics the leaves of ``query`` score with, in the index of ``searcher`` (a top
    searcher). Raises TooSlow after ``deadline`` (a ``time.perf_counter()`` value)."""
    frequencies: dict[tuple[str, str], int] = {}
    strings: dict[StringKey, int] = {}
    for leaf in query.leaves():
        if deadline is not None and time.perf_counter() > deadline:
            raise TooSlow
        if isinstance(leaf, WordQuery):
            frequencies.update(leaf.doc_frequencies(searcher))
        elif isinstance(leaf, StringQuery):
            strings[leaf.key] = leaf.document_count(searcher)
    collection = Statistics.of_collection(searcher)
    return Statistics(collection.doc_count, collection.field_lengths, frequencies, strings)
