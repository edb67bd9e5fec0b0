"""The Article record, the Skipped report of unusable input, and the cleaning every field gets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

LANGS = ("zh-Hans", "zh-Hant", "en")
# A terminal escape sequence (a colour code such as "\x1b[31m" that a crawler kept) goes whole;
# then control characters and lone surrogates.
_CONTROL_CHARS = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


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
class Source:
    """A file to read, with the id and category its articles fall back to."""

    path: Path
    base_id: str  # path relative to the folder being read, "/"-separated
    category: str = ""  # the folder name for text and HTML files in a category folder

    def skipped(self, reason: str, line: int | None = None) -> Skipped:
        """Return a Skipped for this file."""
        return Skipped(str(self.path), line, reason)


def clean_body(text: str) -> str:
    """Strip control characters and every line, dropping empty lines: one paragraph a line.

    >>> clean_body("  First line\\r\\n\\r\\n\\x07Second\\tline  ")
    'First line\\nSecond\\tline'
    """
    text = _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line for line in (line.strip() for line in text.split("\n")) if line)


def clean_line(text: str) -> str:
    """Strip control characters and collapse all whitespace to single spaces.

    >>> clean_line(" \\x1b[31mHong\\x1b[0m \\n Kong ")
    'Hong Kong'
    """
    return " ".join(_CONTROL_CHARS.sub("", text).split())
