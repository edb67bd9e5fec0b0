"""The Whoosh schema: which fields an article becomes, and how each is analysed (the codec that
writes it is search.whoosh_glue's)."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from itertools import accumulate

from whoosh.analysis import Analyzer
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Positions

from search.analysis import Dictionary, KeyTokenizer, PartAnalyzer, WordAnalyzer
from search.whoosh_glue import Codec  # noqa: F401 - indexes built before the codec moved name it here

# Text fields searched for words, with the weight of a match in each. A word is scored by BM25F
# over them: its weighted, length-normalised frequencies are summed, then saturated once.
# The words inside longer words of a text field, without positions: each is searched with its
# text field's weight (times the ranking's part weight) and normalised by its length (body's
# parts include the captions'). The weights and BM25F's k1 and b are search.ranking's.
PART_FIELDS = {"title_parts": "title", "parts": "body"}
FACET_FIELDS = ("lang", "source", "category", "year", "author", "tags")
# Facets whose values are a field's terms, several a document (the others are one value a document,
# read from the field's column).
MULTI_VALUED_FACETS = ("tags",)
# The fields author: and tags: search: each value folded whole (search.analysis.value_key); an
# author field may name several people, parted by these separators.
KEY_FIELDS = {"author": "author_key", "tags": "tag_keys"}
AUTHOR_SEPARATORS = r"[,;，、；]"


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
        author=ID(stored=True, sortable=True),
        author_key=ID(analyzer=KeyTokenizer(AUTHOR_SEPARATORS, words=True)),
        tags=KEYWORD(stored=True, commas=True, scorable=False),
        tag_keys=ID(analyzer=KeyTokenizer(",")),
        content_hash=STORED(),
        # One story once (search.stories): the id of the story's first article, and the article's
        # LSH band keys, by which a later article finds it (in any shard) when it is added.
        story=ID(stored=True, sortable=True),
        bands=KEYWORD(scorable=False),
        origin=STORED(),
    )
