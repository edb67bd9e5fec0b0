"""Walking the given files and folders, and reading each file with the reader its suffix calls for."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from search.articles.decoding import decode_html, decode_text, read_bytes
from search.articles.html import html_record
from search.articles.model import Article, ArticleError, Skipped, Source
from search.articles.records import article_from_record
from search.articles.structured import read_csv, read_json, read_jsonl
from search.articles.text import text_record

_TEXT_SUFFIXES = frozenset({".txt"})
_HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = _TEXT_SUFFIXES | _HTML_SUFFIXES | {".json", ".jsonl", ".csv"}
# Files in a folder that document the corpus rather than being articles.
_DOC_FILE_PREFIXES = ("readme", "sources", "license")


def iter_articles(paths: Sequence[Path]) -> Iterator[Article | Skipped]:
    """Read every article under the given files/folders (recursing, sorted order), yielding Skipped for bad input.

    A file inside a given folder gets the id `<path relative to the folder>`, suffix included so
    that `a.txt` and `a.html` differ (`:<line>` added for JSONL and CSV records), unless its
    record has an id or a URL; a text or HTML file in a subfolder whose name is a plain word
    (`business`, not `en-text`) gets that name as its category. In folders, hidden files, unknown suffixes and README*/SOURCES*/
    LICENSE* files are passed over silently.
    """
    for item in iter_sources(paths):
        if isinstance(item, Skipped):
            yield item
        else:
            yield from read_source(item)


def iter_sources(paths: Sequence[Path]) -> Iterator[Source | Skipped]:
    """The files ``iter_articles`` reads, in its order, each with the id and category reading it
    gives it (``read_source`` reads one), and Skipped for what cannot be read."""
    seen: set[tuple[int, int]] = set()
    for given in paths:
        path = Path(given)
        if (unreadable := _unreadable(path)) is not None:
            yield unreadable
            continue
        if path.is_dir():
            for item in _walk(path, seen):
                yield item if isinstance(item, Skipped) else _source_in_folder(path, item)
        elif not path.is_file():
            yield Skipped(str(path), None, "not a regular file")
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            yield Skipped(str(path), None, "unsupported file type")
        else:
            yield Source(path, path.name)


def _unreadable(path: Path) -> Skipped | None:
    """Why ``path`` cannot be looked at (missing, no permission), or None when it can."""
    try:
        path.stat()
    except OSError as e:
        return Skipped(str(path), None, _os_reason(e))
    return None


def iter_folder_file(folder: Path, path: Path) -> Iterator[Article | Skipped]:
    """Read one file under ``folder``, with the ids and category that reading the folder gives it."""
    return read_source(_source_in_folder(folder, path))


def is_article_file(path: Path) -> bool:
    """Tell whether a file found in a folder should be read as articles."""
    return (
        path.is_file()
        and path.suffix.lower() in SUPPORTED_SUFFIXES
        and not path.name.lower().startswith(_DOC_FILE_PREFIXES)
    )


def _walk(folder: Path, seen: set[tuple[int, int]]) -> Iterator[Path | Skipped]:
    """Yield the article files under folder in sorted order, and Skipped for what cannot be listed."""
    status = folder.stat()
    key = (status.st_dev, status.st_ino)
    if key in seen:
        yield Skipped(str(folder), None, "symlink loop or folder already read")
        return
    seen.add(key)
    try:
        names = sorted(os.listdir(folder))
    except OSError as e:
        yield Skipped(str(folder), None, _os_reason(e))
        return
    if _is_index_folder(folder, names):
        yield Skipped(str(folder), None, "a Qiao index, not articles")
        return
    for name in names:
        if name.startswith("."):
            continue
        path = folder / name
        if (unreadable := _unreadable(path)) is not None:
            yield unreadable
            continue
        if path.is_dir():
            yield from _walk(path, seen)
        elif is_article_file(path):
            yield path


def _is_index_folder(folder: Path, names: Sequence[str]) -> bool:
    """Whether a folder is a Qiao index (its ``current`` link) or one of its generations (a Whoosh table of contents)."""
    return (("current" in names and (folder / "current").is_symlink())
            or ("qiao.json" in names and any(name.endswith(".toc") for name in names)))


def _source_in_folder(folder: Path, path: Path) -> Source:
    """Describe a file found under a given folder."""
    relative = PurePosixPath(path.relative_to(folder).as_posix())
    parent = relative.parent.name
    is_document = path.suffix.lower() in _TEXT_SUFFIXES | _HTML_SUFFIXES
    category = parent if is_document and parent.isalpha() else ""
    return Source(path, str(relative), category)


def _os_reason(error: OSError) -> str:
    """Describe an OS error in a few words."""
    if error.errno == errno.ELOOP:
        return "symlink loop"
    if error.errno == errno.ENOENT:
        return "no such file or directory"
    return (error.strerror or str(error)).lower()


def read_source(source: Source) -> Iterator[Article | Skipped]:
    """Read the articles of one file, turning every failure into a Skipped."""
    suffix = source.path.suffix.lower()
    try:
        if suffix == ".jsonl":
            yield from read_jsonl(source)
        elif suffix == ".csv":
            yield from read_csv(source)
        else:
            data = read_bytes(source.path)
            if suffix == ".json":
                yield from read_json(source, decode_text(data))
            elif suffix in _HTML_SUFFIXES:
                yield _record_article(source, html_record(decode_html(data)) | _category_of(source))
            else:
                yield _record_article(source, text_record(decode_text(data)) | _category_of(source))
    except ArticleError as e:
        yield source.skipped(str(e))
    except UnicodeDecodeError as e:  # in a UTF-16 or UTF-32 stream, bytes that surrogateescape cannot keep
        yield source.skipped(f"not {e.encoding.upper()} text")
    except OSError as e:
        yield source.skipped(_os_reason(e))


def _record_article(source: Source, record: dict[str, Any]) -> Article:
    """Make the one article of a text or HTML file."""
    return article_from_record(record, fallback_id=source.base_id)


def _category_of(source: Source) -> dict[str, str]:
    """Return the folder category of a source as a record field, if it has one."""
    return {"category": source.category} if source.category else {}
