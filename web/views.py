"""The search page and the article page: HTML over the same search function as the API."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup

from search.errors import NotServedByRay, QiaoError, QueryError
from search.index import QiaoIndex
from search.options import FILTERS, SORTS, SearchOptions, lang_value
from search.options import options as search_options
from search.query.related import related
from search.query.results import Hit, SearchResult
from search.query.search import get_article
from web.cache import cached_search
from web.i18n import error_message, lang_name, translate as _
from web.store import using_index

bp = Blueprint("ui", __name__)

# The URL parameters a link to another page of this search keeps: every option but the page.
KEPT = tuple(option.url for name, option in search_options() if name != "page")
EXAMPLES = ("重庆 香港 合作", "新冠肺炎", "蘋果", "Hong Kong", "election", '"oil prices"')
PAGE_WINDOW = 2  # page links shown either side of the current page
FACET_SHOWN = 8  # values of a facet shown before "n more"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class FacetValue:
    """One line of a facet list: a link that narrows the search, or removes the narrowing."""

    label: str
    count: int
    selected: bool
    url: str


@dataclass(frozen=True)
class ActiveFilter:
    """A filter in force, with the link that removes it."""

    label: str
    url: str
    kind: str = "filter"  # or "dates": the query's date words


@bp.get("/")
def index() -> tuple[str, int]:
    """The search box; with a query or a filter, a page of results with facets."""
    q = request.args.get("q", "")
    result: SearchResult | None = None
    error: str | None = None
    documents: int | None = None
    status = 200
    try:
        options = SearchOptions.from_params(request.args)
        with using_index() as ix:
            if options.q.strip() or options.narrowed:
                result = cached_search(ix, options)
            else:
                documents = ix.searcher().doc_count()
    except QiaoError as e:  # a bad parameter, or no index yet: said on the page itself
        error, status = error_message(e), e.status
    return render_template(
        "search.html", result=result, error=error, documents=documents,
        facets=facet_lists(result) if result else {}, active=active_filters(result),
        pages=page_links(result) if result else [], examples=EXAMPLES, follow=follow_links(),
        form={name: request.args.get(name, "") for name in KEPT}, autofocus=not q.strip(),
        facet_shown=FACET_SHOWN, sorts=SORTS, unfiltered=unfiltered_url(result),
    ), status


@bp.get("/articles/<path:article_id>")
def article(article_id: str) -> str:
    """The whole article; with ``q``, the query's words marked."""
    q = request.args.get("q", "")
    with using_index() as ix:
        try:
            shown = get_article(ix, article_id, q=q)
        except QueryError:  # e.g. lang:xx in the query: show the article unmarked
            shown = get_article(ix, article_id)
        alike = related_hits(ix, article_id)
    return render_template("article.html", article=shown, q=q, form={"q": q}, related=alike)


def related_hits(ix: QiaoIndex, article_id: str) -> tuple[Hit, ...]:
    """The article's related articles for its page; none when their search cannot be run (it
    timed out), which the page does without rather than fail."""
    try:
        return related(ix, article_id).hits
    except (QueryError, NotServedByRay):
        current_app.logger.warning("related articles of %r not shown", article_id, exc_info=True)
        return ()


@bp.after_app_request
def security_headers(response: Response) -> Response:
    """Defence in depth: no inline script or foreign content, and pages vary by language."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def url_with(changes: dict[str, object]) -> str:
    """This search's URL with some parameters changed; None removes one; page 1 unless given."""
    args = {name: value for name in KEPT if (value := request.args.get(name, "").strip())}
    for name, value in changes.items():
        if value is None or value == "":
            args.pop(name, None)
        else:
            args[name] = str(value)
    if args.get("page") == "1":
        del args["page"]
    return "/?" + urlencode(args) if args else "/"


def switch_url(language: str) -> str:
    """This page in another interface language."""
    args = {**request.args.to_dict(), "hl": language}
    return f"{request.path}?{urlencode(args)}"


def year_bounds(year: str) -> dict[str, str]:
    """The from/to parameters of one whole year."""
    return {"from": f"{year}-01-01", "to": f"{year}-12-31"}


def selected_year() -> str | None:
    """The year the from/to parameters span exactly, if they do."""
    start = request.args.get("from", "")
    if len(start) == 10 and year_bounds(start[:4]) == {"from": start, "to": request.args.get("to", "")}:
        return start[:4]
    return None


def facet_lists(result: SearchResult) -> dict[str, list[FacetValue]]:
    """Each facet's values with counts; a link narrows to a value, or removes it when selected."""
    lists: dict[str, list[FacetValue]] = {}
    for name, counts in result.facets.items():
        if name == "year":
            chosen = selected_year()
            lists[name] = [
                FacetValue(year, n, year == chosen,
                           url_with({"from": None, "to": None} if year == chosen else year_bounds(year)))
                for year, n in sorted(counts.items(), reverse=True)
            ]
            continue
        chosen = request.args.get(name, "")
        if name == "lang":
            chosen = lang_value(chosen)
        lists[name] = [
            FacetValue(lang_name(value) if name == "lang" else value, n, value == chosen,
                       url_with({name: None if value == chosen else value}))
            for value, n in counts.items()
        ]
    return {name: values for name, values in lists.items() if values}


def active_filters(result: SearchResult | None) -> list[ActiveFilter]:
    """The filters in force, each with a link that removes it; the query's date words are one,
    removed by searching the query without them."""
    active = []
    if result is not None and (dates := result.dates) is not None:
        label = f"{' '.join(dates.words)}: {dates.start or '…'} – {dates.end or '…'}"
        active.append(ActiveFilter(label, url_with({"q": dates.without}), "dates"))
    for name in FILTERS:
        if value := request.args.get(name, "").strip():
            label = lang_name(lang_value(value)) if name == "lang" else value
            active.append(ActiveFilter(f"{_('facet_' + name)}: {label}", url_with({name: None})))
    start, end = request.args.get("from", "").strip(), request.args.get("to", "").strip()
    if start or end:
        label = selected_year() or f"{start or '…'} – {end or '…'}"
        active.append(ActiveFilter(label, url_with({"from": None, "to": None})))
    return active


def unfiltered_url(result: SearchResult | None) -> str:
    """This search without its filters, its date range and its query's date words."""
    changes: dict[str, object] = {name: None for name in (*FILTERS, "from", "to")}
    if result is not None and result.dates is not None:
        changes["q"] = result.dates.without
    return url_with(changes)


def follow_links() -> dict[str, str]:
    """This search as an Atom feed (newest first, without page or sort) and this page as CSV and JSONL."""
    args = {name: value for name in KEPT if (value := request.args.get(name, "").strip())}
    page = {**args, "page": value} if (value := request.args.get("page", "").strip()) else args
    feed = {name: value for name, value in args.items() if name not in ("sort", "per_page")}
    return {
        "feed": url_for("feed.search_feed", **feed),
        "csv": url_for("api.search_csv", **page),
        "jsonl": url_for("api.search_jsonl", **page),
    }


def page_links(result: SearchResult) -> list[int | None]:
    """Page numbers to link, None where some are left out: 1 … 4 5 [6] 7 8 … 20."""
    last, here = result.total_pages, result.page
    if last <= 1:
        return []
    shown = {1, last, *range(max(1, here - PAGE_WINDOW), min(last, here + PAGE_WINDOW) + 1)}
    pages: list[int | None] = []
    previous = 0
    for n in sorted(shown):
        if n - previous > 1:
            pages.append(None)
        pages.append(n)
        previous = n
    return pages


@bp.app_template_filter("paragraphs")
def paragraphs(marked: Markup) -> list[Markup]:
    """Escaped text with <mark>s, one item per non-empty line; a mark across lines is split in two."""
    if not isinstance(marked, Markup):
        raise TypeError("paragraphs takes markup: |e plain text, or |safe the core's highlights")
    out = []
    inside = False
    for line in marked.split("\n"):
        if inside:
            line = "<mark>" + line
        inside = line.count("<mark>") > line.count("</mark>")
        if inside:
            line += "</mark>"
        if line.replace("<mark>", "").replace("</mark>", "").strip():
            out.append(Markup(line))
    return out


@bp.app_context_processor
def link_helpers() -> dict[str, object]:
    """Link builders for templates."""
    return {"url_with": url_with, "switch_url": switch_url}
