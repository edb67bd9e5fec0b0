"""What a search gives back: hits, a page of them with counts and facets, and stored articles."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from datetime import time as dtime

from search.bridge import Translation
from search.query.dates import DateWords


@dataclass(frozen=True)
class Hit:
    """One result."""

    id: str
    title: str
    url: str
    source: str
    category: str
    lang: str
    published: str | None
    score: float
    highlights: dict[str, str]
    partial: bool = False  # has some of the query's words, listed after the articles with all of them
    author: str = ""
    tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, stored: Mapping[str, object], score: float, highlights: dict[str, str], partial: bool) -> Hit:
        """The hit of an article's stored fields."""
        article = article_fields(stored)
        described = {f.name: article[f.name] for f in fields(cls) if f.name in article}
        described["tags"] = tuple(described["tags"])  # type: ignore[arg-type]
        return cls(**described, score=round(score, 4), highlights=highlights, partial=partial)

    def to_dict(self) -> dict[str, object]:
        """The hit as the JSON API returns it (tags as a list)."""
        return {f.name: list(value) if isinstance(value := getattr(self, f.name), tuple) else value
                for f in fields(self)}


@dataclass(frozen=True)
class SearchResult:
    """A page of results with counts, facets and how the query was read."""

    query: str
    page: int
    per_page: int
    total_hits: int
    processing_time_ms: int
    hits: tuple[Hit, ...]
    facets: dict[str, dict[str, int]]
    fallback: str | None
    searched_as: tuple[str, ...]
    suggestion: str | None = None  # the query with misspelled words corrected (search.query.suggest)
    translations: tuple[Translation, ...] = ()  # the query's words in the other language or region (search.bridge)
    dates: DateWords | None = None  # the date filter the query's words made (search.query.dates)

    @property
    def total_pages(self) -> int:
        """Pages needed for all hits."""
        return math.ceil(self.total_hits / self.per_page)

    def to_dict(self) -> dict[str, object]:
        """The result as ``qiao search --json`` and ``GET /api/search`` return it."""
        return {
            "ok": True,
            "query": self.query,
            "page": self.page,
            "per_page": self.per_page,
            "total_hits": self.total_hits,
            "total_pages": self.total_pages,
            "processing_time_ms": self.processing_time_ms,
            "hits": [h.to_dict() for h in self.hits],
            "facets": self.facets,
            "fallback": self.fallback,
            "searched_as": list(self.searched_as),
            "translations": [t.to_dict() for t in self.translations],
            "suggestion": self.suggestion,
            "dates": self.dates.to_dict() if self.dates else None,
        }


def article_fields(stored: Mapping[str, object]) -> dict[str, object]:
    """An article's stored fields as the API shows them, in its order: a missing text as "", the
    date in ISO 8601, captions and tags as lists."""
    return {
        "id": stored["id"],
        "title": stored.get("title", ""),
        "body": stored.get("body", ""),
        "published": format_published(stored.get("published")),  # type: ignore[arg-type]
        "source": stored.get("source", ""),
        "category": stored.get("category", ""),
        "lang": stored.get("lang", ""),
        "url": stored.get("url", ""),
        "author": stored.get("author", ""),
        "captions": [c for c in str(stored.get("captions", "")).split("\n") if c],
        "tags": [t for t in str(stored.get("tags", "")).split(",") if t],
    }


def format_published(value: datetime | None) -> str | None:
    """ISO 8601: the date alone when no time of day is known."""
    if value is None:
        return None
    if value.time() == dtime.min:
        return value.date().isoformat()
    return value.isoformat(timespec="seconds")
