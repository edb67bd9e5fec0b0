"""Article records and the readers that turn text, HTML, JSON, JSONL and CSV files into them.

Bad input never stops a build: every reader yields a `Skipped` (file, line, one-line reason) for
what it cannot use and carries on with the next record or file.
"""

from __future__ import annotations

import codecs
import csv
import errno
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

import opencc
from bs4 import BeautifulSoup, NavigableString, ParserRejectedMarkup, Tag
from bs4.dammit import EncodingDetector
from bs4.element import PreformattedString

MAX_FILE_BYTES = 16 * 1024 * 1024
_TEXT_SUFFIXES = frozenset({".txt"})
_HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = _TEXT_SUFFIXES | _HTML_SUFFIXES | {".json", ".jsonl", ".csv"}
LANGS = ("zh-Hans", "zh-Hant", "en")
# Files in a folder that document the corpus rather than being articles.
_DOC_FILE_PREFIXES = ("readme", "sources", "license")

_BODY_KEYS = ("body", "content", "text")
_DATE_KEYS = ("published", "date")
_TITLE_CHARS = 60  # length of a title made from the body when a record has none
_MAX_TEXT_TITLE_CHARS = 200  # a longer first line of a text file is a paragraph, not a headline
_SNIFF_BYTES = 8192

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d-%b-%Y %H:%M:%S.%f",
    "%d-%b-%Y %H:%M:%S",
    "%d-%b-%Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%A, %B %d, %Y",
    "%A, %d %B %Y",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日",
)
_GLUED_LETTERS = re.compile(r"(?<=:\d\d\.\d\d)[A-Z][A-Z ]*$")
_DATE_IN_TEXT = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}[-/]\d{1,2}[-/]\d{1,2}")
_DATE_HEADER = re.compile(r"date\s+(\S+)\s*(.*)", re.IGNORECASE)
# The photo credit a caption ends with. In Chinese: a photographer's 摄 after a credit word or a
# space (记者 李明 摄, 新华社发 李明 摄, 李明 摄/视觉重庆), but not 拍摄 ("filming") nor the
# byline 文并摄, 文/摄 ("text and photos") that ends a story; 图/ or 图片来源： after a sentence;
# …供图; a photo agency after a slash. A report's 记者从…获悉 is none of these.
_CAPTION_CREDIT = re.compile(
    r"(?:photo|photograph|picture|image)s?\s*(?:by\b|courtesy of\b|:|/)[^.!?。]{0,80}$"
    r"|[（(][^（）()]{0,30}(?:[摄攝]影?|供[图圖])[)）]$"
    r"|(?:(?:记者|記者|通讯员|通訊員|摄影|攝影|新华社发|新華社發|中新社发|中新社發)[^。！？!?，,；;：:]{0,20}?|[\s/／])"
    r"(?<![拍并並])(?<!文[/／])[摄攝]影?(?:[/／][^。！？!?/／]{1,12})?$"
    r"|(?:^|[。！？!?\s▲])[图圖]片?(?:来源|來源|源)?\s*[/／:：][^。！？!?]{1,24}$"
    r"|供[图圖]$"
    r"|[/／]\s*(?:视觉重庆|視覺重慶|视觉中国|視覺中國)$",
    re.IGNORECASE,
)
# A terminal escape sequence (a colour code such as "\x1b[31m" that a crawler kept) goes whole;
# then control characters and lone surrogates.
_CONTROL_CHARS = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# C0 controls but tab, line breaks, form feed and ESC: a share of them in a file's start tells binary data.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_MAX_BINARY_SHARE = 0.05  # text holds a stray one (a NUL); binary data about one byte in ten (26 of 256)
_UNDECODED = re.compile(r"[\udc80-\udcff]")  # bytes a decoder could not read, kept by surrogateescape
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_TITLE_SITE = re.compile(r"(?P<head>.+)(?:\s+[-–—]\s+|\s*[|_｜]\s*)(?P<site>[^|_｜]{1,30})")

# Charsets, declared or guessed, that a browser reads as a superset; the strict codecs fail on real pages.
_CHARSET_SUPERSETS = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
}
_DROPPED_TAGS = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "form", "select", "button", "input", "textarea", "label", "nav", "aside", "footer", "menu",
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    "address article aside blockquote dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section table tbody thead tfoot "
    "tr td th ul".split()
)
_DATE_META = (
    "article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
    "publish-date", "publish_date", "date", "dc.date", "dc.date.issued", "dcterms.created",
    "parsely-pub-date", "sailthru.date",
)  # fmt: skip
_COPYRIGHT = re.compile(r"©|\bcopyright\b|版權所有|版权所有|著作權|著作权", re.IGNORECASE)
_MAX_COPYRIGHT_LINE = 120
_MAX_DATE_LINE = 40  # a longer line that starts with a date is a dateline with text, kept


class ArticleError(ValueError):
    """A record or file that cannot become an article."""


@dataclass(frozen=True)
class Article:
    """One news article, ready to index."""

    id: str
    title: str
    body: str
    url: str = ""
    published: datetime | None = None  # naive datetime; date-only values at 00:00
    source: str = ""
    category: str = ""
    author: str = ""
    lang: str = ""  # "zh-Hans", "zh-Hant" or "en"
    tags: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """Input that was not read as an article, and why."""

    path: str  # the file as given or relative to the given folder
    line: int | None  # 1-based line (JSONL) or row (CSV, the header is row 1), else None
    reason: str

    def __str__(self) -> str:
        """Return "path:line: reason", or "path: reason" without a line."""
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class _Source:
    """A file to read, with the id and category its articles fall back to."""

    path: Path
    base_id: str  # path relative to the folder being read, "/"-separated
    category: str = ""  # the folder name for text and HTML files in a category folder

    def skipped(self, reason: str, line: int | None = None) -> Skipped:
        """Return a Skipped for this file."""
        return Skipped(str(self.path), line, reason)


# -- walking the given paths ------------------------------------------------------------------


def iter_articles(paths: Sequence[Path]) -> Iterator[Article | Skipped]:
    """Read every article under the given files/folders (recursing, sorted order), yielding Skipped for bad input.

    A file inside a given folder gets the id `<path relative to the folder>`, suffix included so
    that `a.txt` and `a.html` differ (`:<line>` added for JSONL and CSV records), unless its
    record has an id or a URL; a text or HTML file in a subfolder whose name is a plain word
    (`business`, not `en-text`) gets that name as its category. In folders, hidden files, unknown suffixes and README*/SOURCES*/
    LICENSE* files are passed over silently.
    """
    seen: set[tuple[int, int]] = set()
    for given in paths:
        path = Path(given)
        try:
            path.stat()
        except OSError as e:
            yield Skipped(str(path), None, _os_reason(e))
            continue
        if path.is_dir():
            for item in _walk(path, seen):
                if isinstance(item, Skipped):
                    yield item
                else:
                    yield from _read_file(_source_in_folder(path, item))
        elif not path.is_file():
            yield Skipped(str(path), None, "not a regular file")
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            yield Skipped(str(path), None, "unsupported file type")
        else:
            yield from _read_file(_Source(path, path.name))


def iter_folder_file(folder: Path, path: Path) -> Iterator[Article | Skipped]:
    """Read one file under ``folder``, with the ids and category that reading the folder gives it."""
    return _read_file(_source_in_folder(folder, path))


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
        try:
            path.stat()
        except OSError as e:
            yield Skipped(str(path), None, _os_reason(e))
            continue
        if path.is_dir():
            yield from _walk(path, seen)
        elif is_article_file(path):
            yield path


def _is_index_folder(folder: Path, names: Sequence[str]) -> bool:
    """Whether a folder is a Qiao index (its ``current`` link) or one of its generations (a Whoosh table of contents)."""
    return (("current" in names and (folder / "current").is_symlink())
            or ("qiao.json" in names and any(name.endswith(".toc") for name in names)))


def is_article_file(path: Path) -> bool:
    """Tell whether a file found in a folder should be read as articles."""
    return (
        path.is_file()
        and path.suffix.lower() in SUPPORTED_SUFFIXES
        and not path.name.lower().startswith(_DOC_FILE_PREFIXES)
    )


def _source_in_folder(folder: Path, path: Path) -> _Source:
    """Describe a file found under a given folder."""
    relative = PurePosixPath(path.relative_to(folder).as_posix())
    parent = relative.parent.name
    is_document = path.suffix.lower() in _TEXT_SUFFIXES | _HTML_SUFFIXES
    category = parent if is_document and parent.isalpha() else ""
    return _Source(path, str(relative), category)


def _os_reason(error: OSError) -> str:
    """Describe an OS error in a few words."""
    if error.errno == errno.ELOOP:
        return "symlink loop"
    if error.errno == errno.ENOENT:
        return "no such file or directory"
    return (error.strerror or str(error)).lower()


# -- reading one file ---------------------------------------------------------------------------


def _read_file(source: _Source) -> Iterator[Article | Skipped]:
    """Read the articles of one file, turning every failure into a Skipped."""
    suffix = source.path.suffix.lower()
    try:
        if suffix == ".jsonl":
            yield from _read_jsonl(source)
        elif suffix == ".csv":
            yield from _read_csv(source)
        else:
            data = _read_bytes(source.path)
            if suffix == ".json":
                yield from _read_json(source, _decode_text(data))
            elif suffix in _HTML_SUFFIXES:
                yield _record_article(source, _html_record(_decode_html(data)) | _category_of(source))
            else:
                yield _record_article(source, _text_record(_decode_text(data)) | _category_of(source))
    except ArticleError as e:
        yield source.skipped(str(e))
    except UnicodeDecodeError as e:  # in a UTF-16 or UTF-32 stream, bytes that surrogateescape cannot keep
        yield source.skipped(f"not {e.encoding.upper()} text")
    except OSError as e:
        yield source.skipped(_os_reason(e))


def _record_article(source: _Source, record: dict[str, Any]) -> Article:
    """Make the one article of a text or HTML file."""
    return article_from_record(record, fallback_id=source.base_id)


def _category_of(source: _Source) -> dict[str, str]:
    """Return the folder category of a source as a record field, if it has one."""
    return {"category": source.category} if source.category else {}


def _read_bytes(path: Path) -> bytes:
    """Read a whole file, refusing empty and oversize ones."""
    size = path.stat().st_size
    if size == 0:
        raise ArticleError("empty file")
    if size > MAX_FILE_BYTES:
        raise ArticleError(f"file too large ({size} bytes, limit {MAX_FILE_BYTES})")
    return path.read_bytes()


def _read_json(source: _Source, text: str) -> Iterator[Article | Skipped]:
    """Read a JSON file holding one article object or an array of them."""
    value = _parse_json(text)
    if isinstance(value, dict):
        yield article_from_record(value, fallback_id=source.base_id)
    elif isinstance(value, list):
        for number, item in enumerate(value, 1):
            yield _numbered_article(source, item, number, line=None)
    else:
        raise ArticleError(f"JSON must be an object or an array, not {_json_type(value)}")


def _read_jsonl(source: _Source) -> Iterator[Article | Skipped]:
    """Stream a JSONL file, one article a line; blank lines are passed over."""
    with _open_stream(source.path) as f:
        for number, line in enumerate(_bounded_lines(f), 1):
            if line is None:
                yield source.skipped(f"line too long (limit {MAX_FILE_BYTES} characters)", number)
                continue
            if not line.strip():
                continue
            try:
                # Without its line break, a parser's position stays in the record.
                record = _parse_json(_stream_line(line, f.encoding).rstrip("\r\n"))
            except ArticleError as e:
                yield source.skipped(str(e), number)
                continue
            yield _numbered_article(source, record, number, line=number)


def _numbered_article(source: _Source, record: object, number: int, *, line: int | None) -> Article | Skipped:
    """Make the article of the number-th record of a file, or a Skipped naming its line or item."""
    try:
        return article_from_record(record, fallback_id=f"{source.base_id}:{number}")
    except ArticleError as e:
        return source.skipped(str(e) if line is not None else f"item {number}: {e}", line)


def _open_stream(path: Path) -> TextIO:
    """Open a JSONL or CSV file as text in the encoding its start shows, refusing an empty or binary file.

    Bytes the encoding cannot decode are kept as lone surrogates, so that _stream_line refuses
    their line rather than the decoder the rest of the file. Lines end at "\\n" only, as in bytes.
    """
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    if not head:
        raise ArticleError("empty file")
    encoding, _ = _decode(head, start=True)
    return path.open(encoding=encoding, errors="surrogateescape", newline="\n")


def _bounded_lines(f: TextIO) -> Iterator[str | None]:
    """Yield the lines of a text file, or None for a line longer than MAX_FILE_BYTES characters."""
    while line := f.readline(MAX_FILE_BYTES + 1):
        if len(line) <= MAX_FILE_BYTES or line.endswith("\n"):
            yield line
            continue
        while (rest := f.readline(MAX_FILE_BYTES)) and not rest.endswith("\n"):
            pass
        yield None


def _stream_line(line: str, encoding: str) -> str:
    """Return a line of a stream without a byte order mark, refusing a line its encoding could not decode."""
    if _UNDECODED.search(line):
        raise ArticleError(f"not {encoding.upper()} text")
    return line.removeprefix("\ufeff")


def _read_csv(source: _Source) -> Iterator[Article | Skipped]:
    """Stream a CSV file with a header row; a bad record is skipped, an unreadable row ends the file."""
    # Bodies are longer than the csv module's default 128 KiB field limit.
    csv.field_size_limit(MAX_FILE_BYTES)
    reading = 1  # the row the reader is on, for its errors; the header is row 1
    with _open_stream(source.path) as f:
        rows = csv.reader(_csv_lines(f))
        try:
            header = [name.strip().lower() for name in next(rows, [])]
            if not {"title", *_BODY_KEYS} & set(header):
                yield source.skipped("CSV header has no title or body column", 1)
                return
            reading = 2
            for row in rows:
                number, reading = reading, reading + 1
                if not any(value.strip() for value in row):
                    continue
                record = {key: value for key, value in zip(header, row) if value.strip()}
                yield _numbered_article(source, record, number, line=number)
        except ArticleError as e:
            yield source.skipped(str(e), reading)
        except csv.Error as e:
            yield source.skipped(f"malformed CSV: {e}", reading)


def _csv_lines(f: TextIO) -> Iterator[str]:
    """Yield the lines of a CSV stream, raising ArticleError at an undecodable or overlong line."""
    for line in _bounded_lines(f):
        if line is None:
            raise ArticleError(f"line too long (limit {MAX_FILE_BYTES} characters)")
        yield _stream_line(line, f.encoding)


def _parse_json(text: str) -> Any:
    """Parse JSON text, raising ArticleError with the parser's reason."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        # Some messages end in "at", the position following them.
        position = f"line {e.lineno} column {e.colno}"
        raise ArticleError(f"malformed JSON: {e.msg.removesuffix(' at')} at {position}") from e
    except RecursionError as e:
        raise ArticleError("malformed JSON: nested too deeply") from e
    except ValueError as e:  # an integer too long to convert
        raise ArticleError(f"malformed JSON: {str(e).partition(';')[0]}") from e


# -- decoding -----------------------------------------------------------------------------------


def _is_binary(data: bytes) -> bool:
    """Tell binary data from text by the share of control bytes in its start."""
    head = data[:_SNIFF_BYTES]
    return len(_BINARY_BYTES.findall(head)) > len(head) * _MAX_BINARY_SHARE


def _decode_text(data: bytes) -> str:
    """Decode a text or JSON file: BOM, else UTF-8, else the charset-normalizer guess."""
    return _decode(data)[1]


def _decode_html(data: bytes) -> str:
    """Decode an HTML page: BOM, else UTF-8, else its declared charset, else a guess."""
    declared = EncodingDetector.find_declared_encoding(data, is_html=True)
    return _decode(data, declared=declared, is_html=True)[1]


def _decode(
    data: bytes, *, declared: str | None = None, is_html: bool = False, start: bool = False
) -> tuple[str, str]:
    """Decode bytes to (encoding, text), refusing binary and undecodable data.

    With start=True the bytes are the start of a stream read line by line: they may end inside a
    character, and a few bytes that UTF-8 cannot decode (a broken line, refused on its own) do
    not make a UTF-8 stream another encoding.
    """
    stripped, bom_encoding = EncodingDetector.strip_byte_order_mark(data)
    if bom_encoding:
        codec = codecs.lookup(bom_encoding)
        try:
            return codec.name, codec.incrementaldecoder().decode(stripped, not start)
        except UnicodeDecodeError as e:
            raise ArticleError(f"not {codec.name.upper()} text despite its byte order mark") from e
    if _is_binary(data):
        raise ArticleError("binary file")
    if start:
        text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(data, False)
        if _mostly_decoded(text):
            return "utf-8", text
    # Valid UTF-8 is trusted over a declaration: pages are often re-saved without updating it.
    known = ["utf-8"]
    if declared:
        known.append(declared)
    detector = EncodingDetector(data, known_definite_encodings=known, is_html=is_html)
    for encoding in detector.encodings:  # then the declaration, charset-normalizer, windows-1252
        try:
            codec = codecs.lookup(_CHARSET_SUPERSETS.get(encoding.lower(), encoding))
            return codec.name, codec.incrementaldecoder().decode(data, not start)
        except (UnicodeDecodeError, LookupError):
            continue
    raise ArticleError("undecodable text")


def _mostly_decoded(text: str) -> bool:
    """Tell whether text decoded with surrogateescape kept no more bad bytes than other non-ASCII characters.

    To UTF-8, text in GBK or Big5 is mostly bad bytes; a UTF-8 stream with a broken line has a few.
    """
    undecoded = len(_UNDECODED.findall(text))
    return undecoded <= sum(1 for char in text if char > "\x7f") - undecoded


# -- records ------------------------------------------------------------------------------------


def article_from_record(record: Any, *, fallback_id: str) -> Article:
    """Make an Article from a JSON-like record, raising ArticleError for a wrongly typed or empty one.

    Fields: title, body (or content, text), url, published (or date), source, category, author,
    tags (a list or a comma-separated string), captions (a list), id, lang; others are ignored.
    The id is the record's id, else "u" + 16 hex digits of the URL's SHA-1, else fallback_id.
    A body whose first line is only a date (a dateline) loses that line, which becomes the date
    when the record has none. A record without a title is titled with the start of its body.
    """
    if not isinstance(record, dict):
        raise ArticleError(f"record must be an object, not {_json_type(record)}")
    title = _clean_line(_string_field(record, "title"))
    body = _clean_body(_string_field(record, _first_present(record, _BODY_KEYS)))
    published = _date_field(record)
    body, dateline = _split_dateline(body)
    if not title and not body:
        raise ArticleError("record has neither title nor body")
    url = _clean_line(_string_field(record, "url"))
    return Article(
        id=_record_id(record.get("id"), url, fallback_id),
        title=title or _title_from_body(body),
        body=body,
        url=url,
        published=published or dateline,
        source=_clean_line(_string_field(record, "source")),
        category=_clean_line(_string_field(record, "category")),
        author=_clean_line(_string_field(record, "author")),
        lang=_lang_field(record) or detect_lang(f"{title}\n{body}"),
        tags=_list_field(record, "tags", split_commas=True),
        captions=_list_field(record, "captions", split_commas=False),
    )


def _first_present(record: dict, keys: Sequence[str]) -> str:
    """Return the first key the record has a non-null value for, else the first key."""
    return next((key for key in keys if record.get(key) is not None), keys[0])


def _string_field(record: dict, key: str) -> str:
    """Return a string field ("" when missing or null), raising ArticleError for another type."""
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ArticleError(f"field '{key}' must be a string, not {_json_type(value)}")
    return value


def _date_field(record: dict) -> datetime | None:
    """Return the record's publication date; a missing, mistyped or unparseable one is None."""
    value = record.get(_first_present(record, _DATE_KEYS))
    return parse_date(value) if isinstance(value, str) else None


def _list_field(record: dict, key: str, *, split_commas: bool) -> tuple[str, ...]:
    """Return a list-of-strings field, also accepting a single string, without empty items."""
    value = record.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        items = re.split(r"[,，]", value) if split_commas else [value]
    elif not isinstance(value, list):
        raise ArticleError(f"field '{key}' must be a list of strings, not {_json_type(value)}")
    elif not all(isinstance(item, str) for item in value):
        raise ArticleError(f"field '{key}' must hold only strings")
    else:
        items = value
    return tuple(item for item in map(_clean_line, items) if item)


def _lang_field(record: dict) -> str:
    """Return the record's lang if it is one of LANGS (any case), else ""."""
    value = record.get("lang")
    if not isinstance(value, str):
        return ""
    return next((lang for lang in LANGS if lang.lower() == value.strip().lower()), "")


def _record_id(value: object, url: str, fallback_id: str) -> str:
    """Return the given id, else one derived from the URL, else the fallback."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is not None and not isinstance(value, str):
        raise ArticleError(f"field 'id' must be a string or an integer, not {_json_type(value)}")
    if value and value.strip():
        return _clean_line(value)
    if url:
        return "u" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]
    return fallback_id


def _json_type(value: object) -> str:
    """Name a value's type as JSON does."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _split_dateline(body: str) -> tuple[str, datetime | None]:
    """Remove a first line that is only a date, returning the rest and that date."""
    first, _, rest = body.partition("\n")
    date = parse_date(first) if len(first) <= _MAX_DATE_LINE else None
    return (rest, date) if date else (body, None)


def _title_from_body(body: str) -> str:
    """Make a title from the body's first line, cut to about 60 characters."""
    first = body.partition("\n")[0]
    if len(first) <= _TITLE_CHARS:
        return first
    cut = first[:_TITLE_CHARS]
    if " " in cut[_TITLE_CHARS // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


# -- text cleaning ------------------------------------------------------------------------------


def _clean_body(text: str) -> str:
    """Strip control characters and every line, dropping empty lines: one paragraph a line."""
    text = _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line for line in (line.strip() for line in text.split("\n")) if line)


def _clean_line(text: str) -> str:
    """Strip control characters and collapse all whitespace to single spaces."""
    return " ".join(_CONTROL_CHARS.sub("", text).split())


# -- dates --------------------------------------------------------------------------------------


def parse_date(text: str) -> datetime | None:
    """Parse a date in one of the corpora's forms to a naive datetime, else None.

    A time zone is dropped, keeping the local time as written: the other sources give local
    times without a zone, and a date filter should see the day the article was dated.
    """
    text = " ".join(text.split()).rstrip("/.,")
    if not any(char.isdigit() for char in text):
        return None
    # Reuters-21578 glues SGML residue to some times: "…15:01:01.79RM", "…02:17:09.88T C".
    text = _GLUED_LETTERS.sub("", text)
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        pass
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text).replace(tzinfo=None)
    except (TypeError, ValueError, IndexError):
        return None


# -- language -----------------------------------------------------------------------------------


def detect_lang(text: str) -> str:
    """Tell "en", "zh-Hans" or "zh-Hant" from the letters and Han characters of a text.

    Latin letters count a third as much as Han characters (an English word is about three
    times as long), so English with a few Chinese names stays "en". Chinese is "zh-Hant" when
    its traditional-only characters outnumber its simplified-only ones (OpenCC's tables).
    """
    han = _HAN.findall(text)
    if not han or len(_LATIN.findall(text)) > 3 * len(han):
        return "en"
    traditional, simplified = _variant_chars()
    is_traditional = sum(map(traditional.__contains__, han)) > sum(map(simplified.__contains__, han))
    return "zh-Hant" if is_traditional else "zh-Hans"


@functools.cache
def _variant_chars() -> tuple[frozenset[str], frozenset[str]]:
    """Return the traditional-only and the simplified-only characters of OpenCC's tables."""
    traditional = _one_way_chars("TSCharacters.txt")
    simplified = _one_way_chars("STCharacters.txt")
    return traditional - simplified, simplified - traditional


def _one_way_chars(table: str) -> frozenset[str]:
    """Return the characters of an OpenCC table ("char<TAB>targets") that never map to themselves."""
    path = Path(opencc.__file__).parent / "dictionary" / table
    pairs = (line.partition("\t") for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(source for source, _, targets in pairs if source and source not in targets.split())


# -- text files ---------------------------------------------------------------------------------


def _text_record(text: str) -> dict[str, Any]:
    """Read a text article: an optional "date YYYY-MM-DD <caption>" line, the headline, paragraphs.

    Paragraphs ending in a photo credit ("…Photo by reporter X/Visual Chongqing", "…记者 李明 摄",
    "…图/新华社", "…受访者供图") are captions.
    """
    lines = [line for line in _clean_body(text).split("\n") if line]
    published = None
    header = _DATE_HEADER.fullmatch(lines[0]) if lines else None
    if header and parse_date(header[1]):
        published = header[1]
        lines = [header[2], *lines[1:]] if header[2] else lines[1:]
    captions = [line for line in lines if _is_caption(line)]
    paragraphs = [line for line in lines if not _is_caption(line)]
    if paragraphs and len(paragraphs[0]) <= _MAX_TEXT_TITLE_CHARS:
        title, paragraphs = paragraphs[0], paragraphs[1:]
    else:
        title = ""
    return {"title": title, "body": "\n".join(paragraphs), "published": published, "captions": captions}


def _is_caption(paragraph: str) -> bool:
    """Tell whether a paragraph is a photo caption, from the credit it ends with."""
    return _CAPTION_CREDIT.search(paragraph) is not None


# -- HTML ---------------------------------------------------------------------------------------


def _html_record(html: str) -> dict[str, Any]:
    """Read an article page: headline, date, URL, site, captions and the story without boilerplate."""
    try:
        soup = BeautifulSoup(html, "lxml")
    except ParserRejectedMarkup as e:
        raise ArticleError(f"unreadable HTML: {e}") from e
    meta = _meta_values(soup)
    head_title, head_site = _split_site(_element_text(soup.title))
    site = meta.get("og:site_name") or head_site
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_hidden):
        tag.decompose()
    container = _main_container(soup)
    h1 = container.find("h1")
    title = _without_site(meta.get("og:title", ""), site) or _element_text(h1) or head_title
    if h1:
        h1.decompose()
    captions = [_caption_text(figure) for figure in container.find_all("figure")]
    for figure in container.find_all("figure"):
        figure.decompose()
    published = _meta_date(meta) or _time_date(container)
    body_lines = _text_lines(container)
    if not published:
        match = _DATE_IN_TEXT.search("\n".join(body_lines))
        published = match[0] if match else None
    url = next((link["href"] for link in soup.find_all("link", rel="canonical", href=True)), "")
    return {
        "title": title,
        "body": "\n".join(line for line in body_lines if not _is_boilerplate_line(line, title)),
        "url": url or meta.get("og:url", ""),
        "published": published,
        "source": site,
        "author": meta.get("author", ""),
        "category": meta.get("article:section", ""),
        "tags": _meta_tags(soup, meta),
        "captions": [caption for caption in captions if caption],
    }


def _meta_values(soup: BeautifulSoup) -> dict[str, str]:
    """Map each meta name/property/itemprop (lower case) to its first content."""
    values: dict[str, str] = {}
    for tag in soup.find_all("meta", content=True):
        key = tag.get("property") or tag.get("name") or tag.get("itemprop")
        if isinstance(key, str) and isinstance(tag["content"], str):
            values.setdefault(key.strip().lower(), _clean_line(tag["content"]))
    return values


def _meta_tags(soup: BeautifulSoup, meta: dict[str, str]) -> str:
    """Return the page's tags as a comma-separated string: article:tag metas, else keywords."""
    tags = [tag["content"] for tag in soup.find_all("meta", property="article:tag", content=True)]
    return ",".join(tags) or meta.get("news_keywords") or meta.get("keywords", "")


def _meta_date(meta: dict[str, str]) -> str | None:
    """Return the first publication date in the meta tags that parses."""
    return next((meta[key] for key in _DATE_META if key in meta and parse_date(meta[key])), None)


def _time_date(container: Tag) -> str | None:
    """Return the first parseable <time> date, removing <time> elements that stand outside paragraphs."""
    found = None
    for time in container.find_all("time"):
        for text in (time.get("datetime"), time.get_text()):
            if found is None and isinstance(text, str) and parse_date(text):
                found = text
        if not time.find_parent("p"):
            time.decompose()
    return found


def _split_site(title: str) -> tuple[str, str]:
    """Split "Headline | Site" (or " - Site", "_Site") into the headline and the site name."""
    title = _clean_line(title)
    match = _TITLE_SITE.fullmatch(title)
    if not match:
        return title, ""
    return match["head"].strip(), match["site"].strip()


def _without_site(title: str, site: str) -> str:
    """Remove a " | Site" suffix from a title only when it names the known site."""
    head, suffix = _split_site(title)
    return head if suffix and suffix == site else _clean_line(title)


def _is_hidden(tag: Tag) -> bool:
    """Tell whether an element is hidden from readers."""
    style = tag.get("style")
    return (
        tag.has_attr("hidden")
        or tag.get("aria-hidden") == "true"
        or (isinstance(style, str) and re.search(r"display\s*:\s*none", style) is not None)
    )


def _main_container(soup: BeautifulSoup) -> Tag:
    """Find the element holding the story: the largest article/main, else the parent of most paragraph text."""
    candidates = soup.find_all(["article", "main"]) + soup.select('[role="main"], [itemprop="articleBody"]')
    if candidates:
        return max(candidates, key=lambda tag: len(tag.get_text(strip=True)))
    scores: dict[int, tuple[int, Tag]] = {}
    for paragraph in soup.find_all("p"):
        parent = paragraph.parent
        if isinstance(parent, Tag):
            score = scores.get(id(parent), (0, parent))[0]
            scores[id(parent)] = (score + len(paragraph.get_text(strip=True)), parent)
    if scores:
        return max(scores.values(), key=lambda pair: pair[0])[1]
    return soup.body or soup


def _caption_text(figure: Tag) -> str:
    """Return a figure's caption: its figcaption, else its text."""
    return _element_text(figure.find("figcaption") or figure)


def _element_text(tag: Tag | None) -> str:
    """Return an element's text on one line."""
    return _clean_line(tag.get_text(" ")) if tag else ""


def _text_lines(container: Tag) -> list[str]:
    """Return the container's text, a line per block, without lines made mostly of link text."""
    lines: list[str] = []
    parts: list[str] = []
    link_chars = 0
    link_depth = 0

    def flush() -> None:
        nonlocal link_chars
        line = _clean_line("".join(parts))
        if line and link_chars * 2 <= len(line.replace(" ", "")):
            lines.append(line)
        parts.clear()
        link_chars = 0

    stack: list[tuple[Any, bool]] = [(container, False)]
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):
                parts.append(str(node))
                link_chars += len("".join(node.split())) if link_depth else 0
        elif leaving:
            if node.name == "a":
                link_depth -= 1
            if node.name in _BLOCK_TAGS:
                flush()
        elif node.name == "br":
            flush()
        else:
            if node.name in _BLOCK_TAGS:
                flush()
            if node.name == "a":
                link_depth += 1
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return lines


def _is_boilerplate_line(line: str, title: str) -> bool:
    """Tell whether a body line is page furniture: the headline again, a lone date, a copyright notice."""
    if line == title or (len(line) <= _MAX_DATE_LINE and parse_date(line)):
        return True
    return len(line) <= _MAX_COPYRIGHT_LINE and _COPYRIGHT.search(line) is not None
