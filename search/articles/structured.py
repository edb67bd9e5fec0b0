"""The readers of structured files: JSON (one object or an array), JSONL (streamed) and CSV (streamed)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from search.articles.decoding import (
    MAX_FILE_BYTES,
    bounded_lines,
    open_stream,
    stream_line,
)
from search.articles.model import Article, ArticleError, Skipped, Source
from search.articles.records import BODY_KEYS, article_from_record, json_type


def read_json(source: Source, text: str) -> Iterator[Article | Skipped]:
    """Read a JSON file holding one article object or an array of them."""
    value = _parse_json(text)
    if isinstance(value, dict):
        yield article_from_record(value, fallback_id=source.base_id)
    elif isinstance(value, list):
        for number, item in enumerate(value, 1):
            yield _numbered_article(source, item, number, line=None)
    else:
        raise ArticleError(f"JSON must be an object or an array, not {json_type(value)}")


def read_jsonl(source: Source) -> Iterator[Article | Skipped]:
    """Stream a JSONL file, one article a line; blank lines are passed over."""
    with open_stream(source.path) as f:
        for number, line in enumerate(bounded_lines(f), 1):
            if isinstance(line, ArticleError):
                yield source.skipped(str(line), number)
                continue
            if not line.strip():
                continue
            try:
                # Without its line break, a parser's position stays in the record.
                record = _parse_json(stream_line(line, f.encoding).rstrip("\r\n"))
            except ArticleError as e:
                yield source.skipped(str(e), number)
                continue
            yield _numbered_article(source, record, number, line=number)


def read_csv(source: Source) -> Iterator[Article | Skipped]:
    """Stream a CSV file with a header row; a bad record is skipped, an unreadable row ends the file."""
    # Bodies are longer than the csv module's default 128 KiB field limit.
    csv.field_size_limit(MAX_FILE_BYTES)
    reading = 1  # the row the reader is on, for its errors; the header is row 1
    with open_stream(source.path) as f:
        rows = csv.reader(_csv_lines(f))
        try:
            header = [name.strip().lower() for name in next(rows, [])]
            if not {"title", *BODY_KEYS} & set(header):
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


def _numbered_article(source: Source, record: object, number: int, *, line: int | None) -> Article | Skipped:
    """Make the article of the number-th record of a file, or a Skipped naming its line or item."""
    try:
        return article_from_record(record, fallback_id=f"{source.base_id}:{number}")
    except ArticleError as e:
        return source.skipped(str(e) if line is not None else f"item {number}: {e}", line)


def _csv_lines(f: TextIO) -> Iterator[str]:
    """Yield the lines of a CSV stream, raising ArticleError at an undecodable or overlong line."""
    for line in bounded_lines(f):
        if isinstance(line, ArticleError):
            raise line
        yield stream_line(line, f.encoding)


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
