"""The first round of a search: the collection statistics its scores read.

BM25F reads more than the matching document: how many documents there are, how long a field
is on average, in how many documents each word is. Those are gathered once for a query
(``statistics``) and handed to ranking, which scores with them instead of asking the index:
so the statistics of several indexes summed (``+``) score their words as one index would.

Not yet: a Chinese string's document frequency is its segment's count scaled to the whole
index (as before the rounds; an exact count changes scores on an index of several segments),
quoted English phrases are scored by Whoosh from its own statistics, and feedback chooses its
words by Whoosh's ``key_terms``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.searching import Searcher

from search.matching import SynonymQuery, WordQuery


@dataclass(frozen=True)
class Statistics:
    """Collection statistics: documents, field lengths, document frequencies of words.

    Documents are counted deleted ones included, as Whoosh counts them for BM25.
    """

    doc_count: int = 0
    field_lengths: Mapping[str, int] = field(default_factory=dict)  # each scorable field's total length
    doc_frequencies: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (field, word)

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

    def including(self, other: Statistics) -> Statistics:
        """These statistics with the word counts of ``other`` (of the same collection) added."""
        return Statistics(self.doc_count, self.field_lengths, {**self.doc_frequencies, **other.doc_frequencies})

    def __add__(self, other: Statistics) -> Statistics:
        """The statistics of two collections searched as one (shards of one index)."""
        return Statistics(
            self.doc_count + other.doc_count,
            dict(Counter(self.field_lengths) + Counter(other.field_lengths)),
            dict(Counter(self.doc_frequencies) + Counter(other.doc_frequencies)),
        )


def statistics(searcher: Searcher, query: wq.Query) -> Statistics:
    """The statistics the leaves of ``query`` score with, in the index of ``searcher`` (a top searcher)."""
    frequencies: dict[tuple[str, str], int] = {}
    for leaf in query.leaves():
        if isinstance(leaf, (WordQuery, SynonymQuery)):
            frequencies.update(leaf.doc_frequencies(searcher))
        elif isinstance(leaf, wq.Phrase):  # scored by Whoosh, which reads them from the searcher
            frequencies.update({(leaf.fieldname, word): searcher.doc_frequency(leaf.fieldname, word) for word in leaf.words})
    collection = Statistics.of_collection(searcher)
    return Statistics(collection.doc_count, collection.field_lengths, frequencies)
