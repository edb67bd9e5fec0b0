"""The JSON API: search, articles, stats, health, writes, errors, and its OpenAPI document."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from .conftest import SMALL, TOKEN, qiao_command, qiao_serve
from search.cli import main as qiao
from search.index import build
from search.query.results import SearchResult
from search.query.search import search as real_search
from web import create_app
from web.cache import ResultCache
from web.openapi import OPENAPI
from web.server import close

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEED_ID = "chongqing-hong-kong-2023-05-11.txt"
SEED_TITLE = ("Actively serve the national strategy and strengthen all-round cooperation "
              "between Chongqing and Hong Kong")
SEARCH_KEYS = ["ok", "query", "page", "per_page", "total_hits", "total_pages", "processing_time_ms",
               "hits", "facets", "fallback", "searched_as", "translations", "suggestion", "dates", "total_articles",
               "collapsed"]


def error_of(response: TestResponse) -> tuple[int, str]:
    """The status and error code of a JSON error response, checking the body's shape."""
    body = response.get_json()
    assert response.mimetype == "application/json"
    assert list(body) == ["ok", "status", "error"]
    assert body["ok"] is False and body["status"] == response.status_code
    assert list(body["error"]) == ["code", "message"] and body["error"]["message"]
    return response.status_code, body["error"]["code"]


def cli_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(qiao, ["search", *args, "--json"])
    return json.loads(result.output)


# --- GET /api/search ------------------------------------------------------------------------


def test_search_answers_exactly_the_json_of_qiao_search_json(client: FlaskClient, seeds_index_dir: Path) -> None:
    api = client.get("/api/search", query_string={"q": "香港", "lang": "zh", "page": 2, "sort": "date"}).get_json()
    cli = cli_json("香港", "--index", str(seeds_index_dir), "--lang", "zh", "--page", "2", "--sort", "date")
    api.pop("processing_time_ms")
    cli.pop("processing_time_ms")
    assert api == cli


def test_search_error_is_the_json_of_qiao_search_json(client: FlaskClient, seeds_index_dir: Path) -> None:
    api = client.get("/api/search", query_string={"q": "香港", "to": "2023-13-01"}).get_json()
    assert api == cli_json("香港", "--index", str(seeds_index_dir), "--to", "2023-13-01")


def test_search_keys_are_in_a_fixed_order(client: FlaskClient) -> None:
    body = client.get("/api/search?q=香港").get_json()
    assert list(body) == SEARCH_KEYS
    assert list(body["hits"][0]) == ["id", "title", "url", "source", "category", "lang", "published",
                                     "score", "highlights", "partial", "author", "tags", "similar"]
    assert list(body["facets"]) == ["lang", "source", "category", "year", "author", "tags"]


def test_search_json_is_utf8_chinese_not_escaped(client: FlaskClient) -> None:
    response = client.get("/api/search?q=香港")
    assert response.mimetype == "application/json"
    assert '"query":"香港"'.encode() in response.data
    assert b"\\u" not in response.data


def test_search_finds_the_18_articles_with_hong_kong_in_chinese(client: FlaskClient) -> None:
    body = client.get("/api/search?q=香港&xlang=off").get_json()
    assert (body["total_hits"], body["total_pages"], len(body["hits"])) == (18, 2, 10)
    assert "<mark>香港</mark>" in body["hits"][0]["highlights"]["title"]


def test_search_second_page_has_the_remaining_8(client: FlaskClient) -> None:
    body = client.get("/api/search?q=香港&xlang=off&page=2").get_json()
    assert (body["page"], len(body["hits"])) == (2, 8)


def test_search_per_page_sets_the_page_size(client: FlaskClient) -> None:
    body = client.get("/api/search?q=香港&xlang=off&per_page=5").get_json()
    assert (body["per_page"], body["total_pages"], len(body["hits"])) == (5, 4, 5)


def test_search_source_narrows_to_the_facet_count(client: FlaskClient) -> None:
    facets = client.get("/api/search?q=香港").get_json()["facets"]
    body = client.get("/api/search?q=香港&source=新浪").get_json()
    assert body["total_hits"] == facets["source"]["新浪"] == 2


def test_search_from_and_to_narrow_to_the_year_facet_count(client: FlaskClient) -> None:
    body = client.get("/api/search?q=香港&xlang=off&from=2023-01-01&to=2023-12-31").get_json()
    assert body["total_hits"] == 11
    assert {h["published"][:4] for h in body["hits"]} == {"2023"}


def test_search_category_and_lang_filter(client: FlaskClient) -> None:
    assert client.get("/api/search?q=香港&xlang=off&category=大湾区").get_json()["total_hits"] == 10
    assert client.get("/api/search?q=香港&xlang=off&lang=en").get_json()["total_hits"] == 0


def test_search_sort_date_puts_newest_first(client: FlaskClient) -> None:
    hits = client.get("/api/search?q=香港&sort=date").get_json()["hits"]
    published = [h["published"] for h in hits]
    assert published == sorted(published, reverse=True)
    assert published[0] == "2025-06-12T12:55:00"


@pytest.mark.parametrize(("query", "message"), [
    ("page=0", "page must be 1 or more, not 0"),
    ("page=abc", "page must be a whole number, not 'abc'"),
    ("per_page=101", "per_page must be between 1 and 100, not 101"),
    ("per_page=1.5", "per_page must be a whole number, not '1.5'"),
    ("from=2023-02-30", "from must be a date like 2023-05-11, not '2023-02-30'"),
    ("to=yesterday", "to must be a date like 2023-05-11, not 'yesterday'"),
    ("sort=newest", "sort must be one of relevance, relevance_recent, date, date_asc, not 'newest'"),
    ("lang=fr", "unknown language 'fr'; use one of: zh, zh-Hans, zh-Hant, en"),
    ("page=999", "page must be at most 2, the last page, not 999"),
])
def test_search_bad_parameter_is_400(client: FlaskClient, query: str, message: str) -> None:
    response = client.get(f"/api/search?q=香港&xlang=off&{query}")
    assert error_of(response) == (400, "bad_parameter")
    assert response.get_json()["error"]["message"] == message


def test_search_lang_and_sort_values_are_case_insensitive(client: FlaskClient) -> None:
    upper = client.get("/api/search?q=Hong Kong&lang=EN&sort=DATE").get_json()
    lower = client.get("/api/search?q=Hong Kong&lang=en&sort=date").get_json()
    assert (upper["total_hits"], upper["hits"]) == (11, lower["hits"])


def test_search_page_past_the_last_of_no_hits_is_an_empty_page(client: FlaskClient) -> None:
    body = client.get("/api/search?q=xyzzyqq&page=3").get_json()
    assert (body["page"], body["total_hits"], body["total_pages"], body["hits"]) == (3, 0, 0, [])


def test_search_with_only_a_filter_lists_its_articles_newest_first(client: FlaskClient) -> None:
    body = client.get("/api/search?source=新浪&per_page=100").get_json()
    published = [h["published"] for h in body["hits"]]
    assert (body["total_hits"], body["facets"]["source"], body["searched_as"]) == (32, {"新浪": 32}, [])
    assert published == sorted(published, reverse=True)


def test_search_without_query_or_filter_has_no_hits(client: FlaskClient) -> None:
    body = client.get("/api/search?q=").get_json()
    assert (body["ok"], body["total_hits"], body["hits"]) == (True, 0, [])


def test_search_without_index_is_503_index_not_found(no_index_client: FlaskClient) -> None:
    assert error_of(no_index_client.get("/api/search?q=香港")) == (503, "index_not_found")


# --- GET /api/articles/<id>, /api/stats, /healthz ------------------------------------------


def test_article_answers_the_stored_article(client: FlaskClient) -> None:
    body = client.get(f"/api/articles/{SEED_ID}").get_json()
    assert list(body) == ["ok", "id", "title", "body", "published", "source", "category", "lang", "url",
                          "author", "captions", "tags"]
    assert (body["id"], body["title"], body["published"], body["lang"]) == (SEED_ID, SEED_TITLE, "2023-05-11", "en")
    assert len(body["captions"]) == 4
    assert body["body"].startswith("Yuan Jiajun and Hu Henghua met with the Hong Kong")


def test_article_id_may_contain_slashes(client: FlaskClient) -> None:
    body = client.get("/api/articles/en-bbc/business/004.txt").get_json()
    assert (body["id"], body["title"]) == ("en-bbc/business/004.txt", "High fuel prices hit BA's profits")


def test_article_with_q_adds_escaped_highlights(writer: FlaskClient) -> None:
    body = writer.get("/api/articles/evil?q=Hong Kong").get_json()
    assert body["highlights"]["title"] == '&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt; <mark>Hong Kong</mark>'
    assert body["highlights"]["captions"] == ["&lt;svg onload=alert(2)&gt;"]


def test_unknown_article_is_404_not_found(client: FlaskClient) -> None:
    response = client.get("/api/articles/no-such-article")
    assert error_of(response) == (404, "not_found")
    assert response.get_json()["error"]["message"] == "no article with id 'no-such-article'"


def test_stats_counts_the_seeds(client: FlaskClient) -> None:
    body = client.get("/api/stats").get_json()
    assert (body["ok"], body["documents"]) == (True, 846)
    assert body["by_lang"] == {"en": 446, "zh-Hans": 300, "zh-Hant": 100}


def test_healthz_is_200_when_the_index_is_searchable(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"ok": True, "status": "ok", "documents": 846})


def test_healthz_is_503_without_an_index(no_index_client: FlaskClient) -> None:
    assert error_of(no_index_client.get("/healthz")) == (503, "index_not_found")


def test_healthz_turns_200_once_the_index_is_built(tmp_path: Path) -> None:
    app = create_app({"INDEX_DIR": tmp_path / "later"})
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    (tmp_path / "one.json").write_text('{"id": "one", "title": "One"}', encoding="utf-8")
    build([tmp_path / "one.json"], tmp_path / "later")
    assert client.get("/healthz").get_json() == {"ok": True, "status": "ok", "documents": 1}


# --- errors ---------------------------------------------------------------------------------


def test_unknown_api_path_is_404_json(client: FlaskClient) -> None:
    response = client.get("/api/nothing-here")
    assert error_of(response) == (404, "not_found")
    assert response.get_json()["error"]["message"] == "no such endpoint: /api/nothing-here; the API is described at /openapi.json"


def test_wrong_method_is_405_json_with_allow(client: FlaskClient) -> None:
    response = client.put("/api/search?q=香港")
    assert error_of(response) == (405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_unexpected_exception_is_500_json_without_details(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("web.cache.search", explode)
    response = client.get("/api/search?q=香港")
    assert error_of(response) == (500, "internal")
    assert b"secret" not in response.data and b"Traceback" not in response.data
    assert "secret internals" in caplog.text


# --- POST and DELETE /api/articles ------------------------------------------------------------


def test_writes_are_403_when_the_server_has_no_token(client: FlaskClient) -> None:
    assert error_of(client.post("/api/articles", json={"id": "x", "title": "t"}, headers=AUTH)) == (403, "forbidden")
    assert error_of(client.delete(f"/api/articles/{SEED_ID}", headers=AUTH)) == (403, "forbidden")


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": f"Bearer {TOKEN}x"},
], ids=["none", "wrong", "not-bearer", "longer"])
def test_writes_without_the_right_token_are_401(writer: FlaskClient, headers: dict[str, str]) -> None:
    response = writer.post("/api/articles", json={"id": "x", "title": "t"}, headers=headers)
    assert error_of(response) == (401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer realm=qiao"
    assert error_of(writer.delete("/api/articles/hk-en", headers=headers)) == (401, "unauthorized")


def test_post_one_article_adds_it(writer: FlaskClient) -> None:
    response = writer.post("/api/articles", json={"id": "new", "title": "澳门回归", "body": "澳门特区。"}, headers=AUTH)
    assert response.status_code == 200
    assert response.get_json() == {
        "ok": True,
        "results": [{"id": "new", "status": "added", "reason": ""}],
        "counts": {"added": 1, "updated": 0, "unchanged": 0, "rejected": 0},
    }


def test_posted_article_is_searchable_at_once(writer: FlaskClient) -> None:
    assert writer.get("/api/search?q=澳门&xlang=off").get_json()["total_hits"] == 0
    writer.post("/api/articles", json={"id": "new", "title": "澳门回归", "body": "澳门特区。"}, headers=AUTH)
    hits = writer.get("/api/search?q=澳门&xlang=off").get_json()["hits"]
    assert [h["id"] for h in hits] == ["new"]


def test_post_list_answers_each_article_in_order(writer: FlaskClient) -> None:
    records = [
        {"id": "hk-en", "title": "Hong Kong markets rally", "body": "Shares in Hong Kong fell."},
        {"title": "no id and no url", "body": "text"},
        {"url": "https://example.com/by-url", "title": "Found by its URL"},
        "not an object",
        {"id": "cq-hk", "title": 42},
        {"id": "second", "title": "第二篇"},
    ]
    body = writer.post("/api/articles", json=records, headers=AUTH).get_json()
    assert body["results"] == [
        {"id": "hk-en", "status": "updated", "reason": ""},
        {"id": None, "status": "rejected", "reason": "needs an id or a url"},
        {"id": "u17bb19e1d0c70b82", "status": "added", "reason": ""},
        {"id": None, "status": "rejected", "reason": "record must be an object, not a string"},
        {"id": "cq-hk", "status": "rejected", "reason": "field 'title' must be a string, not a number"},
        {"id": "second", "status": "added", "reason": ""},
    ]
    assert body["counts"] == {"added": 2, "updated": 1, "unchanged": 0, "rejected": 3}


def test_posting_an_article_again_leaves_it_unchanged(writer: FlaskClient) -> None:
    record = {"id": "new", "title": "澳门回归", "body": "澳门特区。"}
    writer.post("/api/articles", json=record, headers=AUTH)
    body = writer.post("/api/articles", json=record, headers=AUTH).get_json()
    assert body["results"] == [{"id": "new", "status": "unchanged", "reason": ""}]


def test_post_malformed_json_is_400(writer: FlaskClient) -> None:
    response = writer.post("/api/articles", data=b'{"id": "x",', headers={**AUTH, "Content-Type": "application/json"})
    assert error_of(response) == (400, "bad_request")
    assert response.get_json()["error"]["message"].startswith("the body is not valid JSON: ")


def test_post_body_over_10_mb_is_413(writer: FlaskClient) -> None:
    body = b"[" + b" " * (10 * 1024 * 1024) + b"]"
    response = writer.post("/api/articles", data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert error_of(response) == (413, "payload_too_large")


def test_delete_removes_the_article(writer: FlaskClient) -> None:
    response = writer.delete("/api/articles/hk-en", headers=AUTH)
    assert (response.status_code, response.get_json()) == (200, {"ok": True, "id": "hk-en", "status": "deleted"})
    assert writer.get("/api/articles/hk-en").status_code == 404
    assert writer.get("/api/search?q=markets").get_json()["total_hits"] == 0


def test_delete_unknown_article_is_404(writer: FlaskClient) -> None:
    response = writer.delete("/api/articles/no-such-article", headers=AUTH)
    assert error_of(response) == (404, "not_found")


# --- changes made by the CLI while the app runs ----------------------------------------------


def test_qiao_index_add_shows_up_without_restart(writer: FlaskClient, small_index_dir: Path, tmp_path: Path) -> None:
    assert writer.get("/api/search?q=澳门&xlang=off").get_json()["total_hits"] == 0
    new = tmp_path / "new.json"
    new.write_text(json.dumps({"id": "mo", "title": "澳门回归", "body": "澳门特区。"}, ensure_ascii=False), encoding="utf-8")
    assert CliRunner().invoke(qiao, ["index", "add", str(new), "--index", str(small_index_dir)]).exit_code == 0
    assert writer.get("/api/search?q=澳门&xlang=off").get_json()["total_hits"] == 1


def test_qiao_index_delete_shows_up_without_restart(writer: FlaskClient, small_index_dir: Path) -> None:
    assert writer.get("/api/articles/hk-en").status_code == 200
    assert CliRunner().invoke(qiao, ["index", "delete", "hk-en", "--index", str(small_index_dir)]).exit_code == 0
    assert writer.get("/api/articles/hk-en").status_code == 404


def test_qiao_index_build_shows_up_without_restart(writer: FlaskClient, small_index_dir: Path, tmp_path: Path) -> None:
    assert writer.get("/api/stats").get_json()["documents"] == len(SMALL)
    (tmp_path / "fresh").mkdir()
    (tmp_path / "fresh" / "one.json").write_text('{"id": "only", "title": "Only one"}', encoding="utf-8")
    result = CliRunner().invoke(
        qiao, ["index", "build", str(tmp_path / "fresh"), "--index", str(small_index_dir), "--drop-added"])
    assert result.exit_code == 0
    assert writer.get("/api/stats").get_json()["documents"] == 1
    assert writer.get("/api/search?q=only").get_json()["hits"][0]["id"] == "only"


# --- the OpenAPI document ---------------------------------------------------------------------

# One real request for every response the document promises: (method, path, request kwargs, status).
CASES: list[tuple[str, str, str, dict[str, Any], int]] = [
    ("get", "/api/search", "/api/search?q=香港", {}, 200),
    ("get", "/api/search", "/api/search?q=香港&page=0", {}, 400),
    ("get", "/api/search", "/api/search?q=香港", {"app": "no_index"}, 503),
    ("get", "/api/search", "/api/search?q=xyzzyqq", {}, 200),
    ("get", "/api/search", "/api/search?q=香港 2023年10月", {}, 200),  # with dates in words
    ("get", "/api/search", "/api/search?q=香港 上周&sort=relevance_recent", {}, 200),
    ("get", "/api/articles/{id}", f"/api/articles/{SEED_ID}", {}, 200),
    ("get", "/api/articles/{id}", "/api/articles/cq-hk?q=香港", {"app": "writable"}, 200),
    ("get", "/api/articles/{id}", "/api/articles/nope", {}, 404),
    ("get", "/api/articles/{id}", "/api/articles/nope", {"app": "no_index"}, 503),
    ("post", "/api/articles", "/api/articles", {"app": "writable", "json": [{"id": "a", "title": "t"}, {}], "headers": AUTH}, 200),
    ("post", "/api/articles", "/api/articles", {"app": "writable", "data": b"{", "headers": AUTH}, 400),
    ("post", "/api/articles", "/api/articles", {"app": "writable", "json": {}}, 401),
    ("post", "/api/articles", "/api/articles", {"json": {}, "headers": AUTH}, 403),
    ("post", "/api/articles", "/api/articles", {"app": "writable", "data": b" " * (10 * 1024 * 1024 + 1), "headers": AUTH}, 413),
    ("post", "/api/articles", "/api/articles", {"app": "writable_no_index", "json": {"id": "a", "title": "t"}, "headers": AUTH}, 503),
    ("delete", "/api/articles/{id}", "/api/articles/hk-en", {"app": "writable", "headers": AUTH}, 200),
    ("delete", "/api/articles/{id}", "/api/articles/nope", {"app": "writable", "headers": AUTH}, 404),
    ("delete", "/api/articles/{id}", "/api/articles/hk-en", {"app": "writable"}, 401),
    ("delete", "/api/articles/{id}", "/api/articles/hk-en", {"headers": AUTH}, 403),
    ("delete", "/api/articles/{id}", "/api/articles/hk-en", {"app": "writable_no_index", "headers": AUTH}, 503),
    ("get", "/api/suggest", "/api/suggest?q=香", {}, 200),
    ("get", "/api/suggest", "/api/suggest?q=香&limit=0", {}, 400),
    ("get", "/api/suggest", "/api/suggest?q=香", {"app": "no_index"}, 503),
    ("get", "/api/articles/{id}/related", f"/api/articles/{SEED_ID}/related", {}, 200),
    ("get", "/api/articles/{id}/related", f"/api/articles/{SEED_ID}/related?limit=x", {}, 400),
    ("get", "/api/articles/{id}/related", "/api/articles/nope/related", {}, 404),
    ("get", "/api/articles/{id}/related", "/api/articles/nope/related", {"app": "no_index"}, 503),
    ("get", "/api/stats", "/api/stats", {}, 200),
    ("get", "/api/stats", "/api/stats", {"app": "no_index"}, 503),
    ("get", "/healthz", "/healthz", {}, 200),
    ("get", "/healthz", "/healthz", {"app": "no_index"}, 503),
    ("get", "/openapi.json", "/openapi.json", {}, 200),
    ("put", "/api/search", "/api/search", {}, 405),
    ("get", "/api/search.csv", "/api/search.csv?q=醫藥費", {}, 200),
    ("get", "/api/search.csv", "/api/search.csv?q=醫藥費&lang=xx", {}, 400),
    ("get", "/api/search.csv", "/api/search.csv?q=醫藥費", {"app": "no_index"}, 503),
    ("get", "/api/search.jsonl", "/api/search.jsonl?q=醫藥費", {}, 200),
    ("get", "/api/search.jsonl", "/api/search.jsonl?q=醫藥費&page=0", {}, 400),
    ("get", "/api/search.jsonl", "/api/search.jsonl?q=醫藥費", {"app": "no_index"}, 503),
    ("get", "/feed", "/feed?q=醫藥費", {}, 200),
    ("get", "/feed", "/feed?q=醫藥費&from=2023-13", {}, 400),
    ("get", "/feed", "/feed?q=醫藥費", {"app": "no_index"}, 503),
]


def documented_content(method: str, template: str, status: int) -> tuple[str, dict[str, Any]]:
    """The documented media type and schema of a response, the schema resolvable on its own; the
    error body for other methods."""
    operation = OPENAPI["paths"][template].get(method)
    if operation is None:
        media, schema = "application/json", {"$ref": "#/components/schemas/Error"}
    else:
        response = operation["responses"].get(str(status), operation["responses"]["default"])
        media, content = next(iter(response["content"].items()))
        schema = content["schema"]
    return media, {**schema, "components": OPENAPI["components"]}


def documented_body(response: TestResponse, media: str) -> list[Any]:
    """The values of a response body to check against its documented schema: the JSON object, each
    JSON line, the CSV's text, the feed's text (the exports' and feed's shapes have tests of their own)."""
    text = response.get_data(as_text=True)
    if media == "application/json":
        return [response.get_json()]
    if media == "application/jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return [text]


@pytest.fixture
def clients(
    client: FlaskClient, writer: FlaskClient, no_index_client: FlaskClient, tmp_path: Path
) -> dict[str, FlaskClient]:
    writable_no_index = create_app({"INDEX_DIR": tmp_path / "none", "API_TOKEN": TOKEN}).test_client()
    return {"seeds": client, "writable": writer, "no_index": no_index_client, "writable_no_index": writable_no_index}


@pytest.mark.parametrize(("method", "template", "url", "kwargs", "status"), CASES,
                         ids=[f"{c[0]} {c[2]} {c[4]}" for c in CASES])
def test_real_response_matches_the_openapi_document(
    clients: dict[str, FlaskClient], method: str, template: str, url: str, kwargs: dict[str, Any], status: int
) -> None:
    kwargs = dict(kwargs)
    client = clients[kwargs.pop("app", "seeds")]
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == status
    media, schema = documented_content(method, template, status)
    assert response.mimetype == media
    for value in documented_body(response, media):
        jsonschema.validate(value, schema)


def test_every_documented_response_is_checked_against_a_real_one() -> None:
    documented = {
        (method, path, status)
        for path, operations in OPENAPI["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"] if status != "default"
    }
    checked = {(method, template, str(status)) for method, template, _, _, status in CASES}
    assert documented <= checked


def test_every_api_route_is_documented(app: Flask) -> None:
    routes = {
        (rule.rule.replace("<path:article_id>", "{id}"), method.lower())
        for rule in app.url_map.iter_rules() if rule.endpoint.startswith(("api.", "feed."))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, operations in OPENAPI["paths"].items() for method in operations}
    assert routes == documented


def test_openapi_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    for name, schema in document["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)


# --- the result cache ------------------------------------------------------------------------


def without_timing(response: TestResponse) -> dict[str, Any]:
    body = response.get_json()
    body.pop("processing_time_ms")
    return body


def test_repeated_search_is_answered_from_the_cache(client: FlaskClient) -> None:
    first, second = (client.get("/api/search?q=香港&page=2") for _ in range(2))
    assert (first.headers["X-Qiao-Cache"], second.headers["X-Qiao-Cache"]) == ("miss", "hit")
    assert without_timing(second) == without_timing(first)


def test_search_with_other_parameters_is_not_answered_from_the_cache(client: FlaskClient) -> None:
    client.get("/api/search?q=香港")
    other = client.get("/api/search?q=香港&sort=date")
    assert other.headers["X-Qiao-Cache"] == "miss"
    assert other.get_json()["hits"][0]["published"] == "2025-06-12T12:55:00"


def test_answers_with_and_without_the_cache_are_the_same(app: Flask, seeds_index_dir: Path) -> None:
    uncached = create_app({"INDEX_DIR": seeds_index_dir, "SEARCH_CACHE_SIZE": 0, "TESTING": True})
    searches = [{"q": "香港"}, {"q": "重庆 香港 合作"}, {"q": "Hong Kong"}, {"q": "香港", "lang": "zh", "page": 2},
                {"q": "经济", "sort": "date"}, {"q": "election", "per_page": 3}] * 2  # the second time cached

    def answers(app: Flask) -> list[dict[str, Any]]:
        client = app.test_client()
        return [without_timing(client.get("/api/search", query_string=s)) for s in searches]

    try:
        assert answers(app) == answers(uncached)
    finally:
        close(uncached)


def test_cache_size_0_searches_every_time(seeds_index_dir: Path) -> None:
    app = create_app({"INDEX_DIR": seeds_index_dir, "SEARCH_CACHE_SIZE": 0, "TESTING": True})
    try:
        client = app.test_client()
        responses = [client.get("/api/search?q=香港") for _ in range(2)]
        assert ["X-Qiao-Cache" in r.headers for r in responses] == [False, False]
    finally:
        close(app)


def test_cache_drops_the_least_recently_used_result() -> None:
    cache = ResultCache(2)
    result = cast(SearchResult, object())
    assert cache.get("state", "a") is None
    cache.put("state", "a", result)
    cache.put("state", "b", result)
    cache.get("state", "a")
    cache.put("state", "c", result)
    assert [cache.get("state", key) is result for key in ("a", "b", "c")] == [True, False, True]


def test_cache_forgets_the_results_of_an_older_index_state() -> None:
    cache = ResultCache(2)
    cache.get("old", "a")
    cache.put("old", "a", cast(SearchResult, object()))
    assert (cache.get("new", "a"), cache.get("old", "a")) == (None, None)


def test_posted_article_is_found_by_the_next_identical_search(writer: FlaskClient) -> None:
    assert writer.get("/api/search?q=Kowloon").get_json()["total_hits"] == 0
    assert writer.get("/api/search?q=Kowloon").headers["X-Qiao-Cache"] == "hit"
    writer.post("/api/articles", json={"id": "kowloon", "title": "Kowloon ferry", "lang": "en"}, headers=AUTH)
    after = writer.get("/api/search?q=Kowloon")
    assert (after.headers["X-Qiao-Cache"], [h["id"] for h in after.get_json()["hits"]]) == ("miss", ["kowloon"])


def test_deleted_article_is_gone_from_the_next_identical_search(writer: FlaskClient) -> None:
    assert writer.get("/api/search?q=markets").get_json()["total_hits"] == 1
    writer.delete("/api/articles/hk-en", headers=AUTH)
    assert writer.get("/api/search?q=markets").get_json()["total_hits"] == 0


@pytest.mark.system
def test_rebuild_by_another_process_is_seen_by_the_next_identical_search(
    writer: FlaskClient, small_index_dir: Path, tmp_path: Path
) -> None:
    assert writer.get("/api/search?q=Kowloon").get_json()["total_hits"] == 0
    (tmp_path / "fresh.json").write_text('{"id": "kowloon", "title": "Kowloon ferry"}', encoding="utf-8")
    subprocess.run([*qiao_command(), "index", "build", str(tmp_path / "fresh.json"), "--index", str(small_index_dir),
                    "--drop-added"],
                   check=True, capture_output=True, timeout=120)
    assert [h["id"] for h in writer.get("/api/search?q=Kowloon").get_json()["hits"]] == ["kowloon"]


def timed(ms: int) -> Callable[..., SearchResult]:
    """``search`` answering as if every search took ``ms`` milliseconds."""
    def search(*args: Any, **kwargs: Any) -> SearchResult:
        return dataclasses.replace(real_search(*args, **kwargs), processing_time_ms=ms)
    return search


def test_cached_answer_reports_the_time_of_the_search_that_found_it(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.cache.search", timed(25))
    first, second = (client.get("/api/search?q=香港") for _ in range(2))
    assert (second.headers["X-Qiao-Cache"], second.get_json()["processing_time_ms"]) == ("hit", 25)
    assert second.get_json() == first.get_json()


def test_page_of_a_cached_answer_shows_the_time_of_the_search_that_found_it(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.cache.search", timed(25))
    client.get("/?q=香港&xlang=off")
    cached = client.get("/?q=香港&xlang=off")
    summary = BeautifulSoup(cached.get_data(as_text=True), "html.parser").select_one("#summary").get_text()
    assert (cached.headers["X-Qiao-Cache"], summary) == ("hit", "18 results (25 ms) · page 1 of 2")


def test_search_page_shares_the_cache_with_the_api(client: FlaskClient) -> None:
    client.get("/api/search?q=香港")
    assert client.get("/?q=香港").headers["X-Qiao-Cache"] == "hit"


# --- qiao serve -------------------------------------------------------------------------------


@pytest.mark.system
def test_concurrent_searches_on_qiao_serve_match_serial_ones(live_server: str) -> None:
    queries = ["香港", "重庆 香港 合作", "Hong Kong", "election", "新冠肺炎", "蘋果", "football", "经济"] * 12

    def fetch(q: str) -> dict[str, Any]:
        url = f"{live_server}/api/search?" + urllib.parse.urlencode({"q": q, "per_page": 20})
        with urllib.request.urlopen(url, timeout=30) as r:
            body = json.load(r)
        body.pop("processing_time_ms")
        return body

    expected = {q: fetch(q) for q in set(queries)}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(fetch, queries))
    assert all(answer == expected[q] for q, answer in zip(queries, answers))


@pytest.mark.system
def test_qiao_serve_starts_and_answers_healthz(seeds_index_dir: Path) -> None:
    with qiao_serve(seeds_index_dir, "--workers", "1", "--threads", "2") as (_, url):
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as r:
            assert (r.status, json.load(r)["documents"]) == (200, 846)


@pytest.mark.system
def test_overlong_query_over_http_is_the_json_400(live_server: str) -> None:
    url = f"{live_server}/api/search?" + urllib.parse.urlencode({"q": "香港" * 1001})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(url, timeout=30)
    assert (raised.value.code, json.load(raised.value)["error"]["code"]) == (400, "bad_parameter")


def raw_get(url: str, target: bytes) -> http.client.HTTPResponse:
    """``GET target`` with the request line's bytes sent as they are, as curl sends them."""
    address = urllib.parse.urlsplit(url)
    sock = socket.create_connection((address.hostname, address.port), timeout=30)
    sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: qiao\r\nConnection: close\r\n\r\n")
    response = http.client.HTTPResponse(sock)
    response.begin()
    sock.close()  # the response reads from its own file of the socket
    return response


@pytest.mark.system
def test_raw_utf8_query_on_qiao_serve_is_searched_as_if_percent_encoded(live_server: str) -> None:
    with urllib.request.urlopen(f"{live_server}/api/search?q=%E9%A6%99%E6%B8%AF&xlang=off", timeout=30) as r:
        encoded = json.load(r)
    response = raw_get(live_server, "/api/search?q=香港&xlang=off".encode())
    assert (response.status, response.getheader("Content-Type")) == (200, "application/json")
    raw = json.load(response)
    assert (raw["query"], raw["total_hits"]) == ("香港", 18)
    del raw["processing_time_ms"], encoded["processing_time_ms"]
    assert raw == encoded


@pytest.mark.system
def test_raw_utf8_query_on_qiao_serve_shows_the_search_page(live_server: str) -> None:
    response = raw_get(live_server, "/?q=香港&xlang=off".encode())
    assert (response.status, response.getheader("Content-Type")) == (200, "text/html; charset=utf-8")
    assert 'data-total="18"' in response.read().decode()


def serving_pid(connection: http.client.HTTPConnection, master: int) -> int:
    """The worker process of ``master`` that holds the server end of a connection (Linux, IPv4)."""
    client_port, server_port = connection.sock.getsockname()[1], connection.sock.getpeername()[1]
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        ports = (int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16))
        if ports == (server_port, client_port):
            inode = fields[9]
    workers = [int(stat.parts[2]) for stat in Path("/proc").glob("[0-9]*/stat")
               if stat.read_text().rsplit(")", 1)[1].split()[1] == str(master)]
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
    raise AssertionError(f"no worker of {master} holds the connection from port {client_port}")


def one_connection_per_worker(url: str, master: int, workers: int) -> list[http.client.HTTPConnection]:
    """Keep-alive connections to ``url``, one to each worker process."""
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    found: dict[int, http.client.HTTPConnection] = {}
    for _ in range(100):
        connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        found.setdefault(serving_pid(connection, master), connection)
        if len(found) == workers:
            return list(found.values())
    raise AssertionError(f"100 connections reached only {len(found)} of {workers} workers")


def call(connection: http.client.HTTPConnection, method: str, path: str, body: object = None) -> dict[str, Any]:
    """One request on a keep-alive connection, its JSON answer."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    return json.load(connection.getresponse())


@pytest.mark.system
def test_writes_through_one_worker_are_seen_at_once_by_the_other(small_index_dir: Path) -> None:
    with qiao_serve(small_index_dir, "--workers", "2", token=TOKEN) as (process, url):
        a, b = one_connection_per_worker(url, process.pid, 2)

        def hits(connection: http.client.HTTPConnection) -> list[str]:
            return [h["id"] for h in call(connection, "GET", "/api/search?q=Kowloon")["hits"]]

        assert (hits(a), hits(b), hits(a), hits(b)) == ([], [], [], [])  # the second ones from the cache
        call(a, "POST", "/api/articles", {"id": "kowloon", "title": "Kowloon ferry", "lang": "en"})
        assert (hits(b), hits(a)) == (["kowloon"], ["kowloon"])
        call(b, "DELETE", "/api/articles/kowloon")
        assert (hits(a), hits(b)) == ([], [])


@pytest.mark.system
@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_qiao_serve_stops_cleanly(seeds_index_dir: Path, signal_number: int) -> None:
    with qiao_serve(seeds_index_dir, "--workers", "2") as (process, url):
        urllib.request.urlopen(f"{url}/api/search?q=Hong+Kong", timeout=30).read()
        process.send_signal(signal_number)
        _, stderr = process.communicate(timeout=30)
    assert (process.returncode, stderr) == (0, "")


@pytest.mark.system
def test_qiao_serve_without_an_index_says_how_to_build_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [*qiao_command(), "serve", "--index", str(tmp_path / "none"), "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == f"error: no index at {tmp_path / 'none'}; build one with: qiao index build --index {tmp_path / 'none'}\n"


@pytest.mark.system
def test_qiao_serve_on_a_taken_port_says_so(seeds_index_dir: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*qiao_command(), "serve", "--index", str(seeds_index_dir), "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_updated_article_is_found_once(writer: FlaskClient) -> None:
    assert writer.get("/api/search?q=markets").get_json()["total_hits"] == 1
    writer.post("/api/articles", json={"id": "hk-en", "title": "Hong Kong markets fall", "lang": "en"}, headers=AUTH)
    hits = writer.get("/api/search?q=markets").get_json()["hits"]
    assert [(h["id"], h["title"]) for h in hits] == [("hk-en", "Hong Kong markets fall")]
