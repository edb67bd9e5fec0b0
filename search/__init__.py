"""Qiao (桥): bilingual Chinese + English full-text search for news articles, as a library.

The names in ``__all__`` are the public API; the modules behind them may move. Build an index from
files (``build``, ``add``) or from articles in memory (``add_articles``), open it, search it:

>>> import tempfile
>>> from pathlib import Path
>>> from search import Article, SearchOptions, add_articles, build, open_index, search
>>> folder = tempfile.TemporaryDirectory()
>>> index_dir = Path(folder.name) / "index"
>>> _ = build([], index_dir)  # an empty index
>>> add_articles([Article(id="a1", title="香港与重庆合作", body="两地签署合作协议。", lang="zh-Hans")],
...              index_dir).counts()
{'added': 1}
>>> with open_index(index_dir) as index:
...     result = search(index, SearchOptions(q="重庆 合作", lang="zh"))
>>> result.total_hits, result.hits[0].id, result.hits[0].highlights["title"]
(1, 'a1', '香港与<mark>重庆合作</mark>')
>>> folder.cleanup()

``search`` also takes the query and the options as keywords: ``search(index, "重庆", lang="zh")``.
Errors a user can act on are ``QiaoError``s with a ``code`` and an HTTP-like ``status``.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from search.articles import Article
from search.errors import (
    ArticleNotFound,
    BuildRefused,
    IndexBusy,
    IndexMismatch,
    IndexNotFound,
    QiaoError,
    QueryError,
)
from search.index import QiaoIndex, add, add_articles, build, delete, stats, verify
from search.options import SearchOptions
from search.query.complete import Completions, complete
from search.query.related import Related, related
from search.query.results import Hit, SearchResult
from search.query.search import get_article, search

__all__ = [
    "Article",
    "ArticleNotFound",
    "BuildRefused",
    "Completions",
    "Hit",
    "IndexBusy",
    "IndexMismatch",
    "IndexNotFound",
    "QiaoError",
    "QiaoIndex",
    "QueryError",
    "Related",
    "SearchOptions",
    "SearchResult",
    "add",
    "add_articles",
    "build",
    "complete",
    "delete",
    "get_article",
    "open_index",
    "related",
    "search",
    "stats",
    "verify",
]


def open_index(index_dir: str | PathLike[str]) -> QiaoIndex:
    """The index at ``index_dir``, open for searching; close it, or use it in a ``with`` block.

    IndexNotFound when there is none, IndexMismatch when this Qiao cannot read it.
    """
    return QiaoIndex(Path(index_dir))
