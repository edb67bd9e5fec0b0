"""Article records and the readers that turn text, HTML, JSON, JSONL and CSV files into them.

Bad input never stops a build: every reader yields a `Skipped` (file, line, one-line reason) for
what it cannot use and carries on with the next record or file.

The package, from the outside in::

    folder.py      the walk over the given files and folders, ids and categories, one reader a suffix
    text.py        plain-text articles: a date line, the headline, paragraphs, photo captions
    html.py        article pages: headline, date, site, captions, the story without boilerplate
    structured.py  JSON (an object or an array), JSONL and CSV, record by record
    decoding.py    bytes to text: size limits, byte order marks, charsets, binary data
    records.py     a JSON-like record to an Article: field types, ids, datelines, titles
    language.py    English, Simplified or Traditional Chinese
    dates.py       publication dates in the corpora's forms
    model.py       Article, Skipped, ArticleError and the cleaning of every field
"""

from search.articles.dates import parse_date
from search.articles.folder import (
    SUPPORTED_SUFFIXES,
    is_article_file,
    iter_articles,
    iter_folder_file,
    iter_sources,
    read_source,
)
from search.articles.language import detect_lang
from search.articles.model import LANGS, Article, ArticleError, Skipped
from search.articles.records import article_from_record

__all__ = [
    "LANGS",
    "SUPPORTED_SUFFIXES",
    "Article",
    "ArticleError",
    "Skipped",
    "article_from_record",
    "detect_lang",
    "is_article_file",
    "iter_articles",
    "iter_folder_file",
    "iter_sources",
    "parse_date",
    "read_source",
]
