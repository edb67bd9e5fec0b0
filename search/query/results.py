"""What a search gives back: hits, a page of them with counts and facets, and stored articles."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from datetime import time as dtime

from search.bridge import Translation
from search.query.dates import DateWords


@dataclass(frozen=True)
class Report:
    """One of the similar reports of a hit: an article of its story that matched too."""

    id: str
    title: str
    source: str
    lang: str


@dataclass(frozen=True)
class Similar:
    """The other matching articles of a hit's story (search.stories), best-ranked first."""

    reports: tuple[Report, ...]

    @classmethod
    def of(cls, others: Sequence[Mapping[str, object]]) -> Similar:
        """The Similar of the stored fields of a story's other matches, best first."""
        return cls(tuple(Report(str(o["id"]), str(o.get("title", "")), str(o.get("source", "")), str(o.get("lang", "")))
                         for o in others))

    @property
    def count(self) -> int:
        """How many similar reports."""
        return len(self.reports)

    @property
    def sources(self) -> tuple[str, ...]:
        """Their sources, each once, best-ranked first."""
        return tuple(dict.fromkeys(r.source for r in self.reports if r.source))

    @property
    def ids(self) -> tuple[str, ...]:
        """Their ids, best-ranked first."""
        return tuple(r.id for r in self.reports)

    def to_dict(self) -> dict[str, object]:
        """As the JSON API shows it: how many, their sources, their ids."""
        return {"count": self.count, "sources": list(self.sources), "ids": list(self.ids)}


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
    similar: Similar | None = None  # its story's other matches, collapsed under it; None: not collapsing

    @classmethod
    def of(
        cls, stored: Mapping[str, object], score: float, highlights: dict[str, str], partial: bool,
        similar: Similar | None = None,
    ) -> Hit:
        """The hit of an article's stored fields."""
        article = article_fields(stored)
        described = {f.name: article[f.name] for f in fields(cls) if f.name in article}
        described["tags"] = tuple(described["tags"])  # type: ignore[arg-type]
        return cls(**described, score=round(score, 4), highlights=highlights, partial=partial, similar=similar)

    def to_dict(self) -> dict[str, object]:
        """The hit as the JSON API returns it (tags as a list, similar as an object or null)."""
        shown = {f.name: list(value) if isinstance(value := getattr(self, f.name), tuple) else value
                 for f in fields(self)}
        shown["similar"] = self.similar.to_dict() if self.similar else None
        return shown


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
    total_articles: int = 0  # the matching articles; total_hits counts stories when collapsed
    collapsed: bool = False  # one hit a story (search.stories), with its similar reports

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
            "total_articles": self.total_articles,
            "collapsed": self.collapsed,
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
