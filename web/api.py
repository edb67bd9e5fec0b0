"""The JSON API: search, articles, stats, health and the OpenAPI document that describes them."""

from __future__ import annotations

import hmac
import json
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import BadRequest, Forbidden, Unauthorized

from search.articles import ArticleError, article_from_record
from search.errors import ArticleNotFound, QiaoError, error_body
from search.export import to_csv, to_jsonl
from search.index import Outcome, add_articles, delete, stats
from search.options import SearchOptions, integer_param
from search.query import complete, related
from search.query.results import SearchResult
from search.query.search import get_article
from web.cache import cached_search
from web.openapi import OPENAPI
from web.store import using_index

bp = Blueprint("api", __name__)

WRITE_STATUSES = ("added", "updated", "unchanged", "rejected")


@bp.get("/api/search")
def search_articles() -> dict[str, object]:
    """Exactly the JSON of ``qiao search --json``."""
    return _search().to_dict()


@bp.get("/api/search.csv")
def search_csv() -> Response:
    """The hits of the page asked for as CSV (search.export): UTF-8 with a BOM, a header row."""
    return _download(to_csv(_search()), "csv", "text/csv; charset=utf-8")


@bp.get("/api/search.jsonl")
def search_jsonl() -> Response:
    """The hits of the page asked for as JSON Lines, each hit as in /api/search."""
    return _download(to_jsonl(_search()), "jsonl", "application/jsonl; charset=utf-8")


def _search() -> SearchResult:
    """The search of this request's parameters, through the result cache."""
    options = SearchOptions.from_params(request.args)
    with using_index() as index:
        return cached_search(index, options)


def _download(text: str, suffix: str, content_type: str) -> Response:
    """An export as a file to save, named for the search."""
    response = Response(text, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="qiao-search.{suffix}"'
    return response


@bp.get("/api/suggest")
def suggest() -> dict[str, object]:
    """Suggestions for the text typed so far: the last word completed, and titles."""
    limit = integer_param(request.args, "limit", complete.DEFAULT_LIMIT)
    with using_index() as index:
        return complete.complete(index, request.args.get("q", ""), limit=limit).to_dict()


@bp.get("/api/articles/<path:article_id>/related")
def related_articles(article_id: str) -> dict[str, object]:
    """The articles most like one article, without it and its copies."""
    limit = integer_param(request.args, "limit", related.DEFAULT_LIMIT)
    with using_index() as index:
        return related.related(index, article_id, limit=limit).to_dict()


@bp.get("/api/articles/<path:article_id>")
def show_article(article_id: str) -> dict[str, object]:
    """One stored article; with ``q``, also its highlights."""
    with using_index() as index:
        article = get_article(index, article_id, q=request.args.get("q", ""))
    return {"ok": True, **article}


@bp.post("/api/articles")
def add() -> dict[str, object]:
    """Add or update articles (one object or a list) and say what happened to each, in order."""
    require_token()
    body = json_body()
    records = body if isinstance(body, list) else [body]
    results: list[Outcome | None] = []
    articles = []
    for record in records:
        try:
            article = article_from_record(record, fallback_id="")
            if not article.id:
                raise ArticleError("needs an id or a url")
        except ArticleError as e:
            results.append(Outcome(given_id(record), "rejected", str(e)))
        else:
            articles.append(article)
            results.append(None)  # filled from add_articles' outcomes, which keep input order
    written = iter(add_articles(articles, current_app.config["INDEX_DIR"]).outcomes)
    outcomes = [r if r is not None else next(written) for r in results]
    counts = {status: sum(o.status == status for o in outcomes) for status in WRITE_STATUSES}
    return {
        "ok": True,
        "results": [{"id": o.id or None, "status": o.status, "reason": o.reason} for o in outcomes],
        "counts": counts,
    }


@bp.delete("/api/articles/<path:article_id>")
def remove(article_id: str) -> dict[str, object]:
    """Delete one article."""
    require_token()
    outcome = delete([article_id], current_app.config["INDEX_DIR"]).outcomes[0]
    if outcome.status == "not_found":
        raise ArticleNotFound(f"no article with id {article_id!r}")
    return {"ok": True, "id": outcome.id, "status": outcome.status}


@bp.get("/api/stats")
def index_stats() -> dict[str, object]:
    """Documents by language and source, size, analyzer and last build."""
    with using_index() as index:
        data = stats(index)
    return {"ok": True, **data}


@bp.get("/healthz")
def health() -> tuple[dict[str, object], int]:
    """200 when the index is open and searchable, 503 otherwise."""
    try:
        with using_index() as index:
            documents = index.searcher().doc_count()
    except QiaoError:
        raise
    except Exception:  # noqa: BLE001 - an unreadable index is "unavailable", not a crash
        current_app.logger.exception("health check failed")
        return error_body(503, "index_unavailable", "the index cannot be read; see the server log"), 503
    return {"ok": True, "status": "ok", "documents": documents}, 200


@bp.get("/openapi.json")
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API."""
    return OPENAPI


def require_token() -> None:
    """Let the request through only with the server's bearer token (403 when none is set)."""
    expected = current_app.config["API_TOKEN"]
    if not expected:
        raise Forbidden("writing is disabled: start the server with QIAO_API_TOKEN set")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode("utf-8"), expected.encode("utf-8")
    ):
        raise Unauthorized(
            "send the server's token as the header Authorization: Bearer <token>",
            www_authenticate=WWWAuthenticate("bearer", {"realm": "qiao"}),
        )


def json_body() -> Any:
    """The request body parsed as JSON, or 400; a body over the size limit is 413."""
    data = request.get_data(cache=False)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as e:
        raise BadRequest(f"the body is not valid JSON: {e}") from None


def given_id(record: object) -> str:
    """The id a rejected record gave itself, if any, to name it in the answer."""
    value = record.get("id") if isinstance(record, dict) else None
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
