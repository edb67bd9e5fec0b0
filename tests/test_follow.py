"""Following a search: its Atom feed (/feed), its page of hits as CSV and JSON Lines (the API's
/api/search.csv and /api/search.jsonl, `qiao search --format csv|jsonl`), and their links on the page."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import feedparser
from click.testing import CliRunner
from flask.testing import FlaskClient
from lxml import etree

from search.cli import main as qiao
from search.export import CSV_FIELDS

ATOM = "{http://www.w3.org/2005/Atom}"
# /feed?q=醫藥費: the 8 seed articles with 醫藥費, newest first (one Sohu report, seven Apple Daily pages).
MEDICAL_BILLS = [
    ("u0e84d15e6913f544", "2016-02-19T19:14:00+00:00"), ("u548c16afe1c7adf9", "2013-04-30T00:00:00+00:00"),
    ("u7001781372441eea", "2013-02-01T00:00:00+00:00"), ("u8b584d6d65568eed", "2012-10-12T00:00:00+00:00"),
    ("u4c8c3f94bac1acdf", "2012-07-31T00:00:00+00:00"), ("u6eea6eceb3197ef1", "2012-03-13T00:00:00+00:00"),
    ("uaceead20420967e8", "2009-05-04T00:00:00+00:00"), ("u98fab581d6b9849a", "2008-04-10T00:00:00+00:00"),
]


def cli(*args: str) -> bytes:
    result = CliRunner().invoke(qiao, ["search", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


# --- the Atom feed ----------------------------------------------------------------------------

def test_feed_lists_a_search_newest_first(client: FlaskClient) -> None:
    response = client.get("/feed?q=醫藥費&xlang=off")
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert (feed.bozo, feed.version, feed.feed.title) == (False, "atom10", "Qiao: 醫藥費")
    assert [(e.id.rsplit("/", 1)[1], e.published) for e in feed.entries] == MEDICAL_BILLS
    assert feed.feed.updated == MEDICAL_BILLS[0][1]


def test_feed_has_what_atom_requires(client: FlaskClient) -> None:
    root = etree.fromstring(client.get("/feed?q=醫藥費&xlang=off").data)
    assert root.tag == f"{ATOM}feed"
    assert [root.findtext(f"{ATOM}{name}") for name in ("id", "title", "updated")] == [
        "http://localhost/feed?q=%E9%86%AB%E8%97%A5%E8%B2%BB&xlang=off", "Qiao: 醫藥費", "2016-02-19T19:14:00+00:00"]
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost/feed?q=醫藥費&xlang=off"
    entry = root.findall(f"{ATOM}entry")[1]
    assert {child.tag.removeprefix(ATOM) for child in entry} == {
        "id", "title", "updated", "published", "link", "summary", "author", "category"}
    assert entry.findtext(f"{ATOM}title") == "癌夫半盲 婦顧兒兩頭燒"
    assert [link.get("href") for link in entry.findall(f"{ATOM}link")] == [
        "http://www.appledaily.com.tw/appledaily/article/headline/20130430/34984712/",
        "http://localhost/articles/u548c16afe1c7adf9"]
    assert entry.findtext(f"{ATOM}summary") == "1歲幼子託鄰帶 借錢籌醫藥費…"  # the best sentence, as plain text
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "仲芝蓉"
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["暖流", "頭條要聞"]


def test_feed_is_newest_first_whatever_sort_says(client: FlaskClient) -> None:
    feed = feedparser.parse(client.get("/feed?q=醫藥費&xlang=off&sort=relevance").data)
    assert [(e.id.rsplit("/", 1)[1], e.published) for e in feed.entries] == MEDICAL_BILLS


def test_feed_of_filters_alone_lists_their_newest_articles(client: FlaskClient) -> None:
    feed = feedparser.parse(client.get("/feed?source=新浪&per_page=3").data)
    assert feed.feed.title == "Qiao: source: 新浪"
    assert [e.published for e in feed.entries] == [
        "2025-06-13T16:51:00+00:00", "2025-06-12T15:31:00+00:00", "2025-06-12T13:15:00+00:00"]


def test_feed_has_twenty_entries_unless_per_page_says(client: FlaskClient) -> None:
    assert len(feedparser.parse(client.get("/feed?q=election&lang=en").data).entries) == 20
    assert len(feedparser.parse(client.get("/feed?q=election&lang=en&per_page=7").data).entries) == 7


def test_undated_articles_come_last_dated_as_the_feed(client: FlaskClient) -> None:
    feed = feedparser.parse(client.get("/feed?q=election&lang=en&per_page=100").data)
    undated = [e for e in feed.entries if "published" not in e]
    assert [e.id.removeprefix("http://localhost/articles/")[:7] for e in undated] == ["en-bbc/"] * 14  # no dates
    assert feed.entries[-len(undated):] == undated
    assert {e.updated for e in undated} == {feed.feed.updated} == {"2020-12-15T00:00:00+00:00"}


def test_feed_of_a_search_without_hits_is_an_empty_valid_feed(client: FlaskClient) -> None:
    feed = feedparser.parse(client.get("/feed?q=xyzzyqq").data)
    assert (feed.bozo, feed.version, feed.entries) == (False, "atom10", [])


def test_feed_errors_are_the_api_error_body(client: FlaskClient) -> None:
    response = client.get("/feed?q=醫藥費&lang=xx")
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "bad_parameter")


# --- CSV and JSON Lines -----------------------------------------------------------------------

def test_cli_csv_is_a_header_and_a_row_a_hit_with_a_bom(seeds_index_dir: Path) -> None:
    out = cli("醫藥費", "--index", str(seeds_index_dir), "--format", "csv", "--limit", "3", "--no-xlang")
    assert out.startswith(b"\xef\xbb\xbfid,title,url,published,")
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_FIELDS
    assert [r["id"] for r in rows] == ["u98fab581d6b9849a", "u6eea6eceb3197ef1", "u8b584d6d65568eed"]
    assert {k: rows[0][k] for k in ("title", "published", "source", "lang", "author", "tags", "partial")} == {
        "title": "翁借錢醫癱妻 奔波守病榻", "published": "2008-04-10", "source": "蘋果日報", "lang": "zh-Hant",
        "author": "游竹君", "tags": "暖流,頭條要聞", "partial": "false"}
    assert "<mark>" not in rows[0]["snippet"] and "醫藥費" in rows[0]["snippet"]


def test_cli_csv_and_jsonl_hold_the_page_the_json_holds(seeds_index_dir: Path) -> None:
    args = ("香港", "--index", str(seeds_index_dir), "--limit", "5", "--page", "2")
    hits = json.loads(cli(*args, "--json"))["hits"]
    rows = list(csv.DictReader(io.StringIO(cli(*args, "--format", "csv").decode("utf-8-sig"))))
    lines = [json.loads(line) for line in cli(*args, "--format", "jsonl").decode().splitlines()]
    assert lines == hits
    assert [(r["id"], float(r["score"])) for r in rows] == [(h["id"], h["score"]) for h in hits]
    assert len(rows) == 5


def test_api_exports_are_the_cli_exports(client: FlaskClient, seeds_index_dir: Path) -> None:
    for suffix in ("csv", "jsonl"):
        response = client.get(f"/api/search.{suffix}?q=香港&per_page=20")
        assert response.headers["Content-Disposition"] == f'attachment; filename="qiao-search.{suffix}"'
        assert response.data == cli("香港", "--index", str(seeds_index_dir), "--limit", "20", "--format", suffix)


def test_csv_content_type_says_utf8(client: FlaskClient) -> None:
    assert client.get("/api/search.csv?q=香港").headers["Content-Type"] == "text/csv; charset=utf-8"


def test_cli_export_errors_are_the_json_error_body(seeds_index_dir: Path) -> None:
    result = CliRunner().invoke(qiao, ["search", "香港", "--index", str(seeds_index_dir), "--format", "csv",
                                       "--from", "2023-13"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "bad_parameter"


# --- on the page ------------------------------------------------------------------------------

def test_results_page_links_its_feed_and_exports(client: FlaskClient) -> None:
    page = client.get("/?q=醫藥費&source=蘋果日報&sort=date&page=2&per_page=5").get_data(as_text=True)
    feed = "/feed?q=%E9%86%AB%E8%97%A5%E8%B2%BB&amp;source=%E8%98%8B%E6%9E%9C%E6%97%A5%E5%A0%B1"
    assert f'<link rel="alternate" type="application/atom+xml" title="Atom feed: 醫藥費" href="{feed}">' in page
    links = re.findall(r'<a class="(?:feed|export)" href="([^"]+)"', page)
    query = ("q=%E9%86%AB%E8%97%A5%E8%B2%BB&amp;per_page=5&amp;source=%E8%98%8B%E6%9E%9C%E6%97%A5%E5%A0%B1"
             "&amp;sort=date&amp;page=2")
    assert links == [feed, f"/api/search.csv?{query}", f"/api/search.jsonl?{query}"]


def test_the_home_page_has_no_feed(client: FlaskClient) -> None:
    assert "application/atom+xml" not in client.get("/").get_data(as_text=True)
