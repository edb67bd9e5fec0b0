"""The Whoosh schema: which fields an article becomes, and how each is analysed."""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from search.analysis import CharAnalyzer, Dictionary, WordAnalyzer

# Text fields searched for words, with the weight of a match in each.
WORD_FIELDS = {"title": 3.0, "body": 1.0, "captions": 0.6}
# Han-character recall fields: parts of words, single characters, unknown names, exact phrases.
CHAR_FIELDS = {"title_chars": 0.9, "chars": 0.3}
FACET_FIELDS = ("lang", "source", "category", "year")


def build_schema(segmenter: str, dictionary: Dictionary) -> Schema:
    """The schema of an index whose word fields use ``segmenter`` and ``dictionary``."""
    words = WordAnalyzer(segmenter, dictionary)
    chars = CharAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        url=STORED(),
        title=TEXT(analyzer=words, stored=True),
        body=TEXT(analyzer=words, stored=True),
        captions=TEXT(analyzer=words, stored=True),
        title_chars=TEXT(analyzer=chars),
        chars=TEXT(analyzer=chars),
        published=DATETIME(stored=True, sortable=True),
        year=ID(sortable=True),
        source=ID(stored=True, sortable=True),
        category=ID(stored=True, sortable=True),
        lang=ID(stored=True, sortable=True),
        author=STORED(),
        tags=KEYWORD(stored=True, commas=True, scorable=False),
        content_hash=STORED(),
    )
