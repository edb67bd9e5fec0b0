"""The Whoosh schema: which fields an article becomes, and how each is analysed."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from itertools import accumulate

from whoosh.analysis import Analyzer
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3TermInfo
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Positions

from search.analysis import Dictionary, PartAnalyzer, WordAnalyzer

# Text fields searched for words, with the weight of a match in each. A word is scored by BM25F
# over them: its weighted, length-normalised frequencies are summed, then saturated once.
# The words inside longer words of a text field, without positions: each is searched with its
# text field's weight (times the ranking's part weight) and normalised by its length (body's
# parts include the captions'). The weights and BM25F's k1 and b are search.ranking's.
PART_FIELDS = {"title_parts": "title", "parts": "body"}
FACET_FIELDS = ("lang", "source", "category", "year")


class CompactPositions(Positions):
    """Whoosh's Positions, encoded as a packed array of deltas instead of a pickled list.

    A posting with one position takes 2 bytes instead of about 12; most postings have few.
    """

    def encode(self, poslist: list[int]) -> bytes:
        if len(poslist) == 1 and poslist[0] < 0x100:
            return b"B" + bytes(poslist)
        deltas = [b - a for a, b in zip([0, *poslist], poslist)]
        largest = max(deltas, default=0)
        code = b"B" if largest < 0x100 else b"H" if largest < 0x10000 else b"I"
        return code + array(code.decode(), deltas).tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return list(positions(valuestring))

    def decode_frequency(self, valuestring: bytes) -> int:
        return (len(valuestring) - 1) // array(valuestring[:1].decode()).itemsize


def positions(value: bytes) -> Iterator[int]:
    """The positions a CompactPositions value holds: a type code, then the deltas."""
    return accumulate(array(chr(value[0]), value[1:]))


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
    """W3TermInfo under the method name whoosh-reloaded 2.7.5's postings writer calls to inline.

    A field without values (frequencies only) passes none: each posting's value is then None, as
    a posting block gives it, so that merging segments copies it (an empty tuple read back as
    '' and failed Whoosh's check that values are bytes).
    """

    def set_inline(self, ids: Sequence[int], weights: Sequence[float], values: Sequence[bytes]) -> None:
        self.set_inlined(ids, weights, values or (None,) * len(ids))


class _FieldWriter(W3FieldWriter):
    def start_term(self, btext: bytes) -> None:
        self._btext = btext
        self._postwriter.start_postings(self._fieldobj.format, _TermInfo())


def _text(analyzer: Analyzer, *, stored: bool = False) -> TEXT:
    """A phrase-searchable text field with compact positions."""
    field = TEXT(analyzer=analyzer, stored=stored)
    field.format = CompactPositions(field_boost=field.format.field_boost)
    return field


def build_schema(segmenter: str, dictionary: Dictionary) -> Schema:
    """The schema of an index whose word fields use ``segmenter`` and ``dictionary``."""
    words = WordAnalyzer(segmenter, dictionary)
    return Schema(
        id=ID(stored=True, unique=True),
        url=STORED(),
        title=_text(words, stored=True),
        body=_text(words, stored=True),
        captions=_text(words, stored=True),
        title_parts=TEXT(analyzer=PartAnalyzer(segmenter, dictionary), phrase=False),
        parts=TEXT(analyzer=PartAnalyzer(segmenter, dictionary), phrase=False),
        published=DATETIME(stored=True, sortable=True),
        year=ID(sortable=True),
        source=ID(stored=True, sortable=True),
        category=ID(stored=True, sortable=True),
        lang=ID(stored=True, sortable=True),
        author=STORED(),
        tags=KEYWORD(stored=True, commas=True, scorable=False),
        content_hash=STORED(),
        origin=STORED(),
    )
