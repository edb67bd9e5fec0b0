"""The one module that reads Whoosh's internals, and the cache of what is read from segments.

Qiao reads more of an index segment than Whoosh's public API gives at speed: whole posting
blocks (``posting_blocks``, ``postings``), every document's field length at once
(``field_lengths``), the deleted documents (``deleted_docs``); and it writes with a patched W3
codec (``Codec``). Those assume the layout of whoosh-reloaded's W3 codec; each function says
which part. Segment identity (``segment_key``), sort keys and facet codes use the public API.
A different layout would give wrong scores, not an error, so importing this module checks that
the installed Whoosh is the pinned one (``check_whoosh_version``).

What is read from a segment (posting blocks aside: a WordQuery keeps its own for one search)
is cached in one bounded, thread-safe cache keyed by the segment's identity (``SegmentCache``):
field lengths, sort keys, facet codes and the lexicons of ``search.strings``. A segment never
changes once written (deletions are kept apart), so nothing in it goes stale. What is made from
all the segments a searcher reads (``per_searcher``: the prefix tables of search.query.complete)
is kept in a small cache of its own, keyed by the segments and their deletion counts.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TypeVar

import numpy as np
import whoosh
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3Codec,
    W3FieldWriter,
    W3TermInfo,
    _lenfield,
)
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length
from whoosh.util.times import datetime_to_long, long_to_datetime

T = TypeVar("T")
WHOOSH_DISTRIBUTION = "whoosh-reloaded"
WHOOSH_VERSION = "2.7.5"  # the pin in pyproject.toml; the only layout this module reads
# A block of a term's postings: document numbers, weights as stored, encoded values.
Block = tuple[np.ndarray, object, Sequence[bytes]]
NO_KEY = np.iinfo(np.uint64).max  # a sortable field's key where a document has no value
SEGMENT_CACHE_ITEMS = 256  # a segment's field lengths, lexicons, sort keys, facet codes: ~20 items
SEARCHER_CACHE_ITEMS = 4
_LENGTH_OF_BYTE = np.array([byte_to_length(i) for i in range(256)])


# --- the version check ----------------------------------------------------------------------


class WhooshVersionError(ImportError):
    """The installed Whoosh is not the one whose internals this module reads."""


def check_whoosh_version(installed: str | None, imported: str) -> None:
    """Raise WhooshVersionError unless ``installed`` (the whoosh-reloaded distribution's version,
    None if it is not installed) and ``imported`` (what ``import whoosh`` gave) are the pin."""
    if installed == imported == WHOOSH_VERSION:
        return
    raise WhooshVersionError(
        f"Qiao needs {WHOOSH_DISTRIBUTION}=={WHOOSH_VERSION}, but found {WHOOSH_DISTRIBUTION} "
        f"{installed or '(not installed)'} and imported whoosh {imported}. Qiao reads Whoosh's posting "
        "blocks, field lengths and codec directly (search/whoosh_glue.py), and another version's "
        "layout would give wrong scores instead of an error. "
        f"Run: pip install '{WHOOSH_DISTRIBUTION}=={WHOOSH_VERSION}'"
    )


def installed_whoosh_version() -> str | None:
    """The installed whoosh-reloaded distribution's version, None if there is none."""
    try:
        return importlib.metadata.version(WHOOSH_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None


check_whoosh_version(installed_whoosh_version(), whoosh.versionstring())


# --- the codec ------------------------------------------------------------------------------


class Codec(W3Codec):
    """Whoosh's W3 codec without per-block field-length statistics, with one-document postings
    kept in the term dictionary.

    Writing the statistics looks up the length of the document of every posting (a tenth of a
    build); they only serve Whoosh's block-quality shortcuts, which Qiao's exact counts never
    use. Half the words of a news corpus occur in one article: their posting stays with the term
    instead of taking a block of its own in the postings file.
    """

    length_stats = False

    def __init__(self) -> None:
        super().__init__(inlinelimit=2)

    def field_writer(self, storage: object, segment: object) -> W3FieldWriter:
        return _FieldWriter(self, storage, segment)


class _TermInfo(W3TermInfo):
    """W3TermInfo under the method name whoosh-reloaded 2.7.5's postings writer calls to inline
    (``set_inline``; W3TermInfo has only ``set_inlined``).

    A field without values (frequencies only) passes none: each posting's value is then None, as
    a posting block gives it, so that merging segments copies it (an empty tuple read back as
    '' and failed Whoosh's check that values are bytes).
    """

    def set_inline(self, ids: Sequence[int], weights: Sequence[float], values: Sequence[bytes]) -> None:
        self.set_inlined(ids, weights, values or (None,) * len(ids))


class _FieldWriter(W3FieldWriter):
    """W3FieldWriter starting each term with a ``_TermInfo``: W3FieldWriter.start_term's body,
    which sets ``_btext`` and starts ``_postwriter`` with the field's format (``_fieldobj``)."""

    def start_term(self, btext: bytes) -> None:
        self._btext = btext
        self._postwriter.start_postings(self._fieldobj.format, _TermInfo())


# --- segment identity and the cache -------------------------------------------------------


def segment_key(reader: IndexReader) -> tuple[object, str] | None:
    """What names the index segment ``reader`` reads (its folder and segment id), None for a
    reader of no one segment. A segment id is random and never reused."""
    segment = reader.segment()
    if segment is None:
        return None
    return getattr(reader.storage(), "folder", None), segment.segment_id()


class SegmentCache:
    """Data read from index segments, at most ``size`` items, the least recently used dropped
    first; safe to share between threads. Two threads may both load a missing item once."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[object, ...], object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, reader: IndexReader, kind: str, name: str, load: Callable[[], T]) -> T:
        """The ``kind`` data of field ``name`` in the segment of ``reader``, loaded on first use."""
        segment = segment_key(reader)
        if segment is None:
            return load()
        return self.get_key((*segment, kind, name), load)

    def get_key(self, key: tuple[object, ...], load: Callable[[], T]) -> T:
        """The data kept under ``key``, loaded on first use."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        value = load()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


SEGMENT_CACHE = SegmentCache(SEGMENT_CACHE_ITEMS)
# What is made from a whole searcher's segments (search.query.complete's prefix tables): large,
# and replaced after a commit; a few states are kept, for searchers still reading an older one.
SEARCHER_CACHE = SegmentCache(SEARCHER_CACHE_ITEMS)


def per_segment(reader: IndexReader, kind: str, name: str, load: Callable[[], T]) -> T:
    """Data read once from field ``name`` of the segment of ``reader``, kept in the segment cache."""
    return SEGMENT_CACHE.get(reader, kind, name, load)


def searcher_key(searcher: Searcher) -> tuple[object, ...] | None:
    """What names the state of the index a searcher reads: each of its segments and how many of
    their documents are deleted (a deletion adds no segment); None when a reader has no segment."""
    key: list[object] = []
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        segment = segment_key(reader)
        if segment is None:
            return None
        key.append((*segment, reader.segment().deleted_count()))
    return tuple(key)


def per_searcher(searcher: Searcher, kind: str, load: Callable[[], T]) -> T:
    """Data made once from every segment a searcher reads (e.g. from their ``per_segment`` data),
    kept in a small cache of its own until a commit changes the segments or their deletions."""
    key = searcher_key(searcher)
    if key is None:
        return load()
    return SEARCHER_CACHE.get_key((kind, *key), load)


# --- posting blocks -------------------------------------------------------------------------


def posting_blocks(reader: IndexReader, name: str, text: str) -> Iterator[Block]:
    """A term's postings in this segment, a block at a time: document numbers, weights as stored
    (None when all are 1, one float when all are equal, else one each), encoded values (positions).

    Read straight from W3 posting blocks (W3LeafMatcher: ``_read_data`` unpickles the block at
    the matcher into ``_data``, a tuple of delta-coded ids, weights and values; ``_next_block``
    moves on). Deleted documents are still in. Postings inlined in the term dictionary (a
    ListMatcher, no ``_read_data``) come as one block.
    """
    m = reader.postings(name, text)
    if isinstance(m, FilterMatcher):  # a segment with deletions wraps its matcher
        m = m.child
    if not hasattr(m, "_read_data"):
        ids, weights, values = [], [], []
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            values.append(m.value())
            m.next()
        yield np.array(ids, np.int64), tuple(weights), values
        return
    while m.is_active():
        if m._data is None:
            m._read_data()
        deltas, weights, values = m._data
        yield np.cumsum(np.array(deltas, np.int64)), weights, values
        m._next_block()


def postings(reader: IndexReader, name: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights (frequencies) of a term's postings in this segment."""
    return postings_of(list(posting_blocks(reader, name, text)))


def postings_of(blocks: list[Block]) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights (frequencies) of the postings in a term's blocks (a W3 block
    holds None for weights all 1, one float for weights all equal, else one weight each)."""
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


# --- per-document data ----------------------------------------------------------------------


def deleted_docs(reader: IndexReader) -> np.ndarray:
    """The numbers of the deleted documents of this segment (SegmentReader's ``deleted_docs_set``,
    kept by the reader; IndexReader's API has only ``is_deleted``, one document at a time)."""
    return np.fromiter(reader.deleted_docs_set, np.int64)


def field_lengths(reader: IndexReader, name: str) -> np.ndarray:
    """The length of field ``name`` in each document of this segment (at least 1), cached.

    Read as one column: the W3 codec keeps lengths as one byte per document (``byte_to_length``)
    in the per-document column ``_<field>_len``, which the public API gives one document at a time.
    """
    def load() -> np.ndarray:
        column = reader._perdoc._cached_reader(_lenfield(name), LENGTHS_COLUMN)
        if column is None:
            return np.ones(reader.doc_count_all())
        return np.maximum(_LENGTH_OF_BYTE[np.frombuffer(bytes(column), np.uint8)], 1).astype(np.float64)

    return per_segment(reader, "lengths", name, load)


def sort_keys(reader: IndexReader, name: str) -> np.ndarray:
    """Each document's sort key of a sortable field in this segment (a date in microseconds),
    NO_KEY where it has none; read once from the field's column."""
    def load() -> np.ndarray:
        if not reader.has_column(name):
            return np.full(reader.doc_count_all(), NO_KEY, np.uint64)
        return np.array(list(reader.column_reader(name, translate=False)), np.uint64)

    return per_segment(reader, "sort keys", name, load)


def date_range(searcher: Searcher, name: str) -> tuple[datetime, datetime] | None:
    """The earliest and latest value of a sortable date field among the live documents of the
    index of ``searcher``; None when no document has one. Read from the sort keys."""
    low, high = None, None
    for reader, _ in searcher.reader().leaf_readers():
        keys = sort_keys(reader, name)
        if not len(keys):  # an empty segment (an empty shard's reader has no deletions to read)
            continue
        live = np.ones(len(keys), bool)
        live[deleted_docs(reader)] = False
        keys = keys[live & (keys != NO_KEY)]
        if len(keys):
            low = int(keys.min()) if low is None else min(low, int(keys.min()))
            high = int(keys.max()) if high is None else max(high, int(keys.max()))
    return None if low is None or high is None else (long_to_datetime(low), long_to_datetime(high))


def date_key(moment: datetime) -> int:
    """A date as the sort keys of a date field hold it (microseconds)."""
    return datetime_to_long(moment)


def _segment_codes(reader: IndexReader, name: str) -> tuple[list[object], np.ndarray]:
    """A sortable field's distinct values in this segment (None for a segment without its column),
    and each document's number among them; cached."""
    def load() -> tuple[list[object], np.ndarray]:
        column = reader.column_reader(name) if reader.has_column(name) else [None] * reader.doc_count_all()
        numbers: dict[object, int] = {}
        codes = np.array([numbers.setdefault(v, len(numbers)) for v in column], np.int64)
        return list(numbers), codes

    return per_segment(reader, "facet codes", name, load)


def facet_codes(searcher: Searcher, name: str) -> tuple[list[object], np.ndarray]:
    """A sortable field's distinct values in the index of ``searcher``, and each document's
    number among them (by document number, deleted ones included), for facet counts."""
    parts = [_segment_codes(reader, name) for reader, _ in searcher.reader().leaf_readers()]
    if len(parts) == 1:
        return parts[0]
    numbers: dict[object, int] = {}
    codes = [
        np.array([numbers.setdefault(v, len(numbers)) for v in values], np.int64)[local]
        for values, local in parts
    ]
    return list(numbers), np.concatenate(codes) if codes else np.empty(0, np.int64)


def group_keys(searcher: Searcher, name: str) -> np.ndarray:
    """Each document's key of a sortable text field, by document number over the whole ``searcher``
    (every segment, and every shard of a search.shard_search.ShardedSearcher): 63 bits of the
    value's blake2b, the same for a value in any segment or shard; a document without a value
    has a key of its own (its number with the top bit set)."""
    def load(reader: IndexReader) -> np.ndarray:
        column = reader.column_reader(name) if reader.has_column(name) else [None] * reader.doc_count_all()
        return np.array([_hash63(v) if v else 0 for v in column], np.uint64)

    parts = [per_segment(reader, "group keys", name, lambda r=reader: load(r)) for reader, _ in searcher.reader().leaf_readers()]
    keys = np.concatenate(parts) if parts else np.empty(0, np.uint64)
    missing = keys == 0
    keys[missing] = np.flatnonzero(missing).astype(np.uint64) | np.uint64(1 << 63)
    return keys


def _hash63(value: object) -> int:
    """63 bits of the blake2b of a column value (text, or bytes as Whoosh may keep them), never 0."""
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return (int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") >> 1) or 1


def _segment_term_postings(reader: IndexReader, name: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A field's terms in this segment, and its postings as (document number, term number) pairs,
    deleted documents included; read once from the postings (a document may have several terms)."""
    def load() -> tuple[list[str], np.ndarray, np.ndarray]:
        terms: list[str] = []
        docs: list[np.ndarray] = [np.empty(0, np.int64)]
        numbers: list[np.ndarray] = [np.empty(0, np.int64)]
        if name in reader.schema:
            for term in reader.lexicon(name):
                found, _ = postings(reader, name, term.decode("utf-8"))
                docs.append(found.astype(np.int64))
                numbers.append(np.full(len(found), len(terms), np.int64))
                terms.append(term.decode("utf-8"))
        return terms, np.concatenate(docs), np.concatenate(numbers)

    return per_segment(reader, "term postings", name, load)


def term_postings(searcher: Searcher, name: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A field's terms in the index of ``searcher``, and its postings as (document number, term
    number) pairs, for the facet counts of a field with several values a document (tags)."""
    terms: dict[str, int] = {}
    docs, numbers = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for reader, offset in searcher.reader().leaf_readers():
        local, found, number = _segment_term_postings(reader, name)
        renumber = np.array([terms.setdefault(t, len(terms)) for t in local], np.int64)
        docs.append(found + offset)
        numbers.append(renumber[number])
    return list(terms), np.concatenate(docs), np.concatenate(numbers)


def term_counts(terms: list[str], docs: np.ndarray, numbers: np.ndarray, docnums: np.ndarray) -> dict[str, int]:
    """How many of ``docnums`` have each of ``terms``, largest first (``term_postings``' pairs)."""
    chosen = np.zeros(max(int(docs.max(initial=-1)), int(docnums.max(initial=-1))) + 1, bool)
    chosen[docnums] = True
    counts = np.bincount(numbers[chosen[docs]], minlength=len(terms)).tolist()
    items = [(t, n) for t, n in zip(terms, counts) if n]
    return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))


def facet_counts(values: list[object], codes: np.ndarray, docnums: np.ndarray) -> dict[str, int]:
    """How many of ``docnums`` have each of a field's ``values``, largest first, without empty ones.

    ``values`` and ``codes`` are ``facet_codes``: the distinct values, each document's number among them.
    """
    counts = np.bincount(codes[docnums], minlength=len(values)).tolist()
    items = [(str(v), n) for v, n in zip(values, counts) if n and v not in (None, "", b"")]
    return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))


def latest_commit(folder: str) -> int:
    """The generation of the latest commit of the Whoosh index in ``folder`` (-1 for none), read
    from the names of its table-of-contents files without opening it (Whoosh's own ``TOC``)."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    return TOC._latest_generation(FileStorage(folder), "MAIN")
