"""JSON-like records (a JSON object, a JSONL line, a CSV row, what a page reader found) to Articles."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from search.articles.dates import date_line, parse_date
from search.articles.language import detect_lang
from search.articles.model import LANGS, Article, ArticleError, clean_body, clean_line

BODY_KEYS = ("body", "content", "text")
_DATE_KEYS = ("published", "date")
_TITLE_CHARS = 60  # length of a title made from the body when a record has none


def article_from_record(record: Any, *, fallback_id: str) -> Article:
    """Make an Article from a JSON-like record, raising ArticleError for a wrongly typed or empty one.

    Fields: title, body (or content, text), url, published (or date), source, category, author,
    tags (a list or a comma-separated string), captions (a list), id, lang; others are ignored.
    The id is the record's id, else "u" + 16 hex digits of the URL's SHA-1, else fallback_id.
    A body whose first line is only a date (a dateline) loses that line, which becomes the date
    when the record has none. A record without a title is titled with the start of its body.

    >>> article = article_from_record({"content": "2023-05-11\\n香港经济增长。", "tags": "经济,香港"}, fallback_id="a.json")
    >>> article.id, article.title, article.body, article.published, article.lang, article.tags
    ('a.json', '香港经济增长。', '香港经济增长。', datetime.datetime(2023, 5, 11, 0, 0), 'zh-Hans', ('经济', '香港'))
    """
    if not isinstance(record, dict):
        raise ArticleError(f"record must be an object, not {json_type(record)}")
    title = clean_line(_string_field(record, "title"))
    body = clean_body(_string_field(record, _first_present(record, BODY_KEYS)))
    published = _date_field(record)
    body, dateline = _split_dateline(body)
    if not title and not body:
        raise ArticleError("record has neither title nor body")
    url = clean_line(_string_field(record, "url"))
    return Article(
        id=_record_id(record.get("id"), url, fallback_id),
        title=title or _title_from_body(body),
        body=body,
        url=url,
        published=published or dateline,
        source=clean_line(_string_field(record, "source")),
        category=clean_line(_string_field(record, "category")),
        author=clean_line(_string_field(record, "author")),
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
        raise ArticleError(f"field '{key}' must be a string, not {json_type(value)}")
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
        raise ArticleError(f"field '{key}' must be a list of strings, not {json_type(value)}")
    elif not all(isinstance(item, str) for item in value):
        raise ArticleError(f"field '{key}' must hold only strings")
    else:
        items = value
    return tuple(item for item in map(clean_line, items) if item)


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
        raise ArticleError(f"field 'id' must be a string or an integer, not {json_type(value)}")
    if value and value.strip():
        return clean_line(value)
    if url:
        return "u" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]
    return fallback_id


def json_type(value: object) -> str:
    """Name a value's type as JSON does.

    >>> json_type(None), json_type(True), json_type(1.5), json_type([])
    ('null', 'a boolean', 'a number', 'an array')
    """
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
    date = date_line(first)
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
