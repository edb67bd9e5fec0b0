"""An Atom feed of any search (``/feed?q=…``), newest first, so a reader can follow a topic."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, request, url_for

from search.export import plain
from search.options import FILTERS, SearchOptions
from search.query.results import Hit, SearchResult
from web.cache import cached_search
from web.store import using_index

bp = Blueprint("feed", __name__)

FEED_ENTRIES = 20  # entries of a feed unless per_page says otherwise
ATOM = "application/atom+xml; charset=utf-8"


@bp.get("/feed")
def search_feed() -> Response:
    """The search of the URL's parameters as an Atom 1.0 feed, sorted by date whatever ``sort`` says."""
    params = request.args.to_dict()
    params.setdefault("per_page", str(FEED_ENTRIES))
    options = replace(SearchOptions.from_params(params), sort="date", page=1)
    with using_index() as index:
        result = cached_search(index, options)
        built = index.meta.built_at
    return Response(atom(result, options, built), mimetype=ATOM)


def atom(result: SearchResult, options: SearchOptions, built_at: str) -> bytes:
    """The feed of a result: the search as its title and id, each hit an entry linking to the article.

    The feed is updated when its newest article was published (the index's build time when no
    hit has a date); an entry without a date is dated as the feed.
    """
    search_page = url_for("ui.index", _external=True, **options.to_params())
    dates = [published(hit) for hit in result.hits if hit.published]
    updated = max(dates) if dates else datetime.fromisoformat(built_at).astimezone(UTC)
    fg = FeedGenerator()
    fg.id(url_for("feed.search_feed", _external=True) + _query(options))
    fg.title(f"Qiao: {title(options)}")
    fg.subtitle(f"{result.total_hits} articles, newest first")
    fg.link(href=request.url, rel="self", type="application/atom+xml")
    fg.link(href=search_page, rel="alternate", type="text/html")
    fg.updated(updated)
    fg.generator("Qiao")
    for hit in result.hits:
        entry = fg.add_entry(order="append")
        page = url_for("ui.article", article_id=hit.id, _external=True)
        entry.id(page)
        entry.title(hit.title or hit.id)
        entry.link(href=hit.url or page, rel="alternate")
        if hit.url:
            entry.link(href=page, rel="related", type="text/html")
        entry.updated(published(hit) if hit.published else updated)
        if hit.published:
            entry.published(published(hit))
        entry.summary(plain(hit.highlights.get("body", "")))
        if hit.author:
            entry.author(name=hit.author)
        for tag in hit.tags:
            entry.category(term=tag)
    return fg.atom_str(pretty=True)


def title(options: SearchOptions) -> str:
    """How a feed names its search: the query, then its filters (香港 · source: 新浪)."""
    parts = [options.q.strip()] if options.q.strip() else []
    parts += [f"{name}: {value}" for name in FILTERS if (value := getattr(options, name))]
    start, end = options.date_from, options.date_to
    if start or end:
        parts.append(f"{start or '…'} – {end or '…'}")
    return " · ".join(parts) or "no search"


def published(hit: Hit) -> datetime:
    """A hit's date as an aware datetime (Qiao's dates carry no zone: read as UTC)."""
    assert hit.published is not None
    return datetime.fromisoformat(hit.published).replace(tzinfo=UTC)


def _query(options: SearchOptions) -> str:
    """The search's parameters, in SearchOptions' order, as a stable query string (the feed's id)."""
    params = {name: value for name, value in options.to_params().items() if name not in ("sort", "page", "per_page")}
    return "?" + urlencode(params) if params else ""
