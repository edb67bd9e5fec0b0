"""Dates in words (search.query.dates) and time order both ways (sort=date_asc, relevance_recent).

The seeds' newest article is of 2025-06-14, so on any day after 2025-07-14 the seeds index is an
archive and relative words are read from that day; the tests that say so pass ``today`` too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from flask.testing import FlaskClient

from search.cli import main as qiao
from search.index import QiaoIndex, delete
from search.query.dates import ARCHIVE_DAYS, anchor, read_dates
from search.query.search import get_article, search
from search.query.syntax import plain_words
from search.ranking import RANKING

TODAY = date(2026, 12, 2)
NEWEST = date(2025, 6, 14)  # the seeds' newest article
SPAN = (date(2004, 1, 1), NEWEST)


def read(q: str, today: date = TODAY, span: tuple[date, date] | None = SPAN) -> tuple[str, str, str, str] | None:
    """(from, to, the date words, the query without them), or None."""
    dates = read_dates(q, today, lambda: span)
    if dates is None:
        return None
    return str(dates.start), str(dates.end), " | ".join(dates.words), dates.without


# --- the parser --------------------------------------------------------------------------------


@pytest.mark.parametrize(("q", "expected"), [
    ("香港 2023年10月", ("2023-10-01", "2023-10-31", "2023年10月", "香港")),
    ("2023年", ("2023-01-01", "2023-12-31", "2023年", "")),
    ("2023年10月5日 火灾", ("2023-10-05", "2023-10-05", "2023年10月5日", "火灾")),
    ("2023年10月份", ("2023-10-01", "2023-10-31", "2023年10月份", "")),
    ("２０２３年１０月 香港", ("2023-10-01", "2023-10-31", "2023年10月", "香港")),  # full-width digits
    ("2023-05", ("2023-05-01", "2023-05-31", "2023-05", "")),
    ("2023-05-11 Chongqing", ("2023-05-11", "2023-05-11", "2023-05-11", "Chongqing")),
    ("2023/5/11", ("2023-05-11", "2023-05-11", "2023/5/11", "")),
    ("May 2023 Hong Kong", ("2023-05-01", "2023-05-31", "May 2023", "Hong Kong")),
    ("Hong Kong in 2022", ("2022-01-01", "2022-12-31", "in 2022", "Hong Kong")),
    ("in May 2023", ("2023-05-01", "2023-05-31", "in May 2023", "")),
    ("flood May 11, 2023", ("2023-05-11", "2023-05-11", "May 11, 2023", "flood")),
    ("11 Sept 2019", ("2019-09-11", "2019-09-11", "11 Sept 2019", "")),
    ("since 2020 economy", ("2020-01-01", "None", "since 2020", "economy")),
    ("2022年 2023年", ("2022-01-01", "2023-12-31", "2022年 | 2023年", "")),  # several: from the first to the last
])
def test_absolute_dates_in_words(q: str, expected: tuple[str, str, str, str]) -> None:
    assert read(q) == expected


# Read from the seeds' newest article (2025-06-14, a Saturday), the anchor of an archive.
@pytest.mark.parametrize(("q", "expected"), [
    ("重庆 去年", ("2024-01-01", "2024-12-31", "去年", "重庆")),
    ("今年", ("2025-01-01", "2025-12-31", "今年", "")),
    ("前年", ("2023-01-01", "2023-12-31", "前年", "")),
    ("本月", ("2025-06-01", "2025-06-30", "本月", "")),
    ("上个月", ("2025-05-01", "2025-05-31", "上个月", "")),
    ("上個月", ("2025-05-01", "2025-05-31", "上個月", "")),
    ("上周 台风", ("2025-06-02", "2025-06-08", "上周", "台风")),  # the calendar week before, Monday to Sunday
    ("上週 颱風", ("2025-06-02", "2025-06-08", "上週", "颱風")),
    ("本週", ("2025-06-09", "2025-06-15", "本週", "")),
    ("最近一周", ("2025-06-08", "2025-06-14", "最近一周", "")),  # the 7 days up to the anchor
    ("近一个月", ("2025-05-15", "2025-06-14", "近一个月", "")),
    ("近一個月", ("2025-05-15", "2025-06-14", "近一個月", "")),
    ("近三个月", ("2025-03-15", "2025-06-14", "近三个月", "")),
    ("最近7天", ("2025-06-08", "2025-06-14", "最近7天", "")),
    ("近半年", ("2024-12-15", "2025-06-14", "近半年", "")),
    ("昨天", ("2025-06-13", "2025-06-13", "昨天", "")),
    ("10月", ("2024-10-01", "2024-10-31", "10月", "")),  # the latest October by the anchor day
    ("6月", ("2025-06-01", "2025-06-30", "6月", "")),
    ("yesterday", ("2025-06-13", "2025-06-13", "yesterday", "")),
    ("last week", ("2025-06-02", "2025-06-08", "last week", "")),
    ("Last Month", ("2025-05-01", "2025-05-31", "Last Month", "")),
    ("this year", ("2025-01-01", "2025-12-31", "this year", "")),
    ("past week", ("2025-06-08", "2025-06-14", "past week", "")),
    ("last 3 months", ("2025-03-15", "2025-06-14", "last 3 months", "")),
    ("in October", ("2024-10-01", "2024-10-31", "in October", "")),
])
def test_relative_dates_in_words(q: str, expected: tuple[str, str, str, str]) -> None:
    assert read(q) == expected


@pytest.mark.parametrize("q", [
    "5G", "2023 budget", "G20 2016", "2023", "COVID-19", "2019-nCoV",  # numbers that are not dates
    "2023年度 预算",  # a fiscal year: about 2023, published in 2022 or 2024
    "去年同期", "重庆去年",  # a date word inside a longer word is a word
    '"去年"', "-去年", "title:去年", "去年 OR 今年", "去年^2",  # quoted, excluded, a field, OR, a boost
    "(上周 台风)",  # inside parentheses
    "9月11日", "September 11", "May 4",  # a day without a year: an anniversary as often as a window
    "May", "Theresa May", "march",  # a month name alone
    "2023-13", "2023-02-30", "13月",  # no such month or day
    "香港 1997年",  # before the index's oldest article: words
])
def test_what_is_not_a_date(q: str) -> None:
    assert read(q) is None


def test_an_absolute_date_no_article_can_have_stays_words_but_a_relative_one_filters() -> None:
    assert read("2030年") is None
    assert read("去年", span=(date(2025, 1, 1), NEWEST)) == ("2024-01-01", "2024-12-31", "去年", "")
    assert read("2023年", span=None) is None  # no article has a date


def test_relative_dates_are_read_from_today_while_the_newest_article_is_recent() -> None:
    live = date(2025, 6, 20)  # six days after the newest article
    assert anchor(live, NEWEST).kind == "today"
    assert read("上周", today=live) == ("2025-06-09", "2025-06-15", "上周", "")
    later = date.fromordinal(NEWEST.toordinal() + ARCHIVE_DAYS + 1)
    assert anchor(later, NEWEST).day == NEWEST
    assert anchor(date.fromordinal(NEWEST.toordinal() + ARCHIVE_DAYS), NEWEST).day == date.fromordinal(
        NEWEST.toordinal() + ARCHIVE_DAYS)


def test_dates_say_what_they_are_relative_to() -> None:
    relative = read_dates("重庆 去年", TODAY, lambda: SPAN)
    absolute = read_dates("重庆 2023年", TODAY, lambda: SPAN)
    assert relative is not None and absolute is not None
    assert relative.to_dict() == {"from": "2024-01-01", "to": "2024-12-31", "words": ["去年"],
                                  "relative_to": "2025-06-14", "anchor": "newest article", "without": "重庆"}
    assert (absolute.relative_to, absolute.anchor) == (None, None)


def test_the_index_span_is_asked_only_for_a_query_with_a_date() -> None:
    def span() -> tuple[date, date]:
        raise AssertionError("asked")

    assert read_dates("香港 经济", TODAY, span) is None


def test_plain_words_are_top_level_unquoted_words_without_operators() -> None:
    runs = plain_words('last week -去年 "上周" a OR b (c) title:d e^2 May 2023')
    assert [[w for _, _, w in run] for run in runs] == [["last", "week"], ["May", "2023"]]


# --- on the seeds ------------------------------------------------------------------------------


def test_a_month_in_words_filters_the_seeds_to_that_month(seeds: QiaoIndex) -> None:
    result = search(seeds, "香港 2023年10月", today=TODAY)
    assert result.total_hits == 5
    assert {h.id for h in result.hits} == {
        "ua044a880231d6d03", "u7193ae498458cb63", "u289066ce94973f50", "u3936fc9f2e31dba1", "uccf83937f5ac47b2"}
    assert all(h.published.startswith("2023-10-") for h in result.hits)
    assert result.searched_as == ("香港",)
    same = search(seeds, "香港", date_from="2023-10", date_to="2023-10")
    assert [(h.id, h.score) for h in result.hits] == [(h.id, h.score) for h in same.hits]


def test_english_dates_in_words_filter_the_seeds(seeds: QiaoIndex) -> None:
    may = search(seeds, xlang=False, q="May 2023 Hong Kong", today=TODAY)
    assert [h.id for h in may.hits] == ["chongqing-hong-kong-2023-05-11.txt"]
    assert may.searched_as == ("Hong", "Kong")
    in_2020 = search(seeds, xlang=False, q="Hong Kong in 2020", today=TODAY)
    assert [h.id for h in in_2020.hits] == ["u453f0f8a55d44685", "ue34771c35ed8d17d"]


def test_relative_words_in_the_archive_are_read_from_its_newest_article(seeds: QiaoIndex) -> None:
    assert [h.id for h in search(seeds, "台风 最近一周", today=TODAY).hits] == ["ua3866c5e40716357"]  # 2025-06-13
    assert search(seeds, "台风 上周", today=TODAY).total_hits == 0  # 2025-06-02 to 06-08
    last_week = search(seeds, "last week", today=TODAY)
    assert last_week.total_hits == 14  # every article of 2025-06-02 to 06-08, newest first
    assert all("2025-06-02" <= h.published[:10] <= "2025-06-08" for h in last_week.hits)
    assert [h.published for h in last_week.hits] == sorted((h.published for h in last_week.hits), reverse=True)


def test_relative_words_in_a_live_index_are_read_from_today(seeds: QiaoIndex) -> None:
    result = search(seeds, "台风 上周", today=date(2025, 6, 20))  # the week of 2025-06-09 to 06-15
    assert [h.id for h in result.hits] == ["ua3866c5e40716357"]
    assert result.to_dict()["dates"] == {"from": "2025-06-09", "to": "2025-06-15", "words": ["上周"],
                                         "relative_to": "2025-06-20", "anchor": "today", "without": "台风"}


def test_from_and_to_apply_with_the_dates_in_words(seeds: QiaoIndex) -> None:
    both = search(seeds, "香港 2023年10月", date_from="2023-10-21", today=TODAY)
    assert {h.id for h in both.hits} == {"ua044a880231d6d03", "u289066ce94973f50", "uccf83937f5ac47b2"}
    assert search(seeds, "香港 2023年10月", date_from="2024", today=TODAY).total_hits == 0


def test_a_query_without_dates_has_none_and_is_searched_as_before(seeds: QiaoIndex) -> None:
    for q in ("去年同期", "5G", "2023 budget"):
        result = search(seeds, q, today=TODAY)
        assert result.dates is None and result.to_dict()["dates"] is None
    assert search(seeds, "2023 budget", today=TODAY).searched_as == ("2023", "budget")


def test_the_api_gives_the_dates(client: FlaskClient) -> None:
    body = client.get("/api/search", query_string={"q": "香港 2023年10月"}).get_json()
    assert body["dates"] == {"from": "2023-10-01", "to": "2023-10-31", "words": ["2023年10月"],
                             "relative_to": None, "anchor": None, "without": "香港"}
    assert body["total_hits"] == 5 and body["searched_as"] == ["香港"]
    assert client.get("/api/search", query_string={"q": "香港"}).get_json()["dates"] is None


def test_the_page_shows_the_dates_as_a_chip_that_removes_them(client: FlaskClient) -> None:
    soup = BeautifulSoup(client.get("/?q=香港 2023年10月&lang=zh&hl=en").data, "html.parser")
    chip = soup.select_one('.active a.chip[data-kind="dates"]')
    assert chip.get_text(" ", strip=True).startswith("2023年10月: 2023-10-01 – 2023-10-31")
    assert chip["href"] == "/?q=%E9%A6%99%E6%B8%AF&lang=zh"  # q=香港, the language filter kept
    assert soup.select_one(".searched-as").get_text(" ", strip=True) == (
        "Searched as: 香港 · dates 2023-10-01 – 2023-10-31 (from “2023年10月”)")
    clear = soup.find("a", string="Clear all")
    assert clear["href"] == "/?q=%E9%A6%99%E6%B8%AF"


def test_the_page_says_what_relative_dates_were_read_from(client: FlaskClient) -> None:
    soup = BeautifulSoup(client.get("/?q=上周&hl=zh").data, "html.parser")
    assert soup.select_one(".searched-as").get_text(" ", strip=True) == (
        "分词结果： 日期 2025-06-02 至 2025-06-08（来自“上周”，相对于最新一篇文章的日期 2025-06-14）")
    assert soup.select_one('.active a.chip[data-kind="dates"]')["href"] == "/"


def test_the_cli_prints_the_dates(seeds_index_dir: object) -> None:
    out = CliRunner().invoke(qiao, ["search", "香港 2023年10月", "--index", str(seeds_index_dir), "--limit", "1", "--no-xlang"])
    assert out.exit_code == 0
    assert out.output.splitlines()[:2] == [
        out.output.splitlines()[0],
        "Dates: 2023-10-01 – 2023-10-31 (from “2023年10月”; not searched as words)",
    ]
    assert out.output.startswith("5 results in ") and "searched as: 香港" in out.output.splitlines()[0]


# --- time order both ways ----------------------------------------------------------------------


def test_date_asc_lists_the_oldest_first_and_undated_articles_last(seeds: QiaoIndex) -> None:
    oldest = search(seeds, xlang=False, q="香港", sort="date_asc", per_page=3)
    assert [(h.id, h.published) for h in oldest.hits] == [
        ("uc33987dc7295e816", "2016-02-17T10:25:00"), ("u7ad295ecf2fa0d40", "2020-04-02T22:20:00"),
        ("u449260acd9d773f4", "2020-04-03T21:24:00")]
    election = search(seeds, xlang=False, q="election", sort="date_asc", per_page=100).hits
    dated = [h.published for h in election if h.published]
    assert len(election) == 84 and len(dated) == 70
    assert [h.published for h in election[:70]] == sorted(dated)  # the undated BBC articles come last
    newest = search(seeds, xlang=False, q="election", sort="date", per_page=100).hits
    assert [h.published for h in newest[:70]] == sorted(dated, reverse=True)


def test_date_asc_without_words_lists_the_oldest_first(seeds: QiaoIndex) -> None:
    hits = search(seeds, "", lang="en", sort="date_asc", per_page=2).hits
    assert [h.published for h in hits] == ["2019-01-04", "2019-01-04"]


def test_relevance_recent_raises_newer_articles_over_near_ties_only(seeds: QiaoIndex) -> None:
    plain = search(seeds, "香港", per_page=100).hits
    recent = search(seeds, "香港", sort="relevance_recent", per_page=100, today=TODAY).hits
    assert [h.id for h in recent[:6]] == [
        "u99068b45e9be5cd2", "uf17be0383529bafa", "ua044a880231d6d03", "u7193ae498458cb63",
        "u1bd1b5ff68c86827",  # 2025-06-12, 8th by relevance (7.67): within 5 % of the 2023 articles it passes
        "u289066ce94973f50"]
    assert {h.id for h in recent} == {h.id for h in plain}
    score = {h.id: h.score for h in plain}
    published = {h.id: h.published or "" for h in plain}
    rank = {h.id: n for n, h in enumerate(plain)}
    for n, above in enumerate(recent):  # an article passes another only if newer and within 5 %
        for below in recent[n + 1:]:
            if rank[below.id] < rank[above.id]:
                assert published[above.id] > published[below.id]
                assert score[above.id] * (1 + RANKING.recency_weight) >= score[below.id]


def test_relevance_recent_puts_the_newer_of_equal_scores_first() -> None:
    ages = np.array([0.0, 180.0, 360.0, np.nan, -3.0])
    assert RANKING.recency(ages) == pytest.approx([1.05, 1.025, 1.0125, 1.0, 1.05])


def test_every_sort_is_offered_on_the_page(client: FlaskClient) -> None:
    soup = BeautifulSoup(client.get("/?q=香港&xlang=off&sort=date_asc").data, "html.parser")
    options = soup.select('select[name="sort"] option')
    assert [o["value"] for o in options] == ["relevance", "relevance_recent", "date", "date_asc"]
    assert soup.select_one('select[name="sort"] option[selected]')["value"] == "date_asc"
    assert [h.get_text() for h in soup.select("li.hit time")][:2] == ["2016-02-17", "2020-04-02"]


def test_an_article_opened_from_a_dated_search_marks_its_words_not_its_dates(seeds: QiaoIndex) -> None:
    article = get_article(seeds, "u7193ae498458cb63", q="香港 2023年10月")
    assert "<mark>香港</mark>" in article["highlights"]["title"]
    assert "<mark>" not in article["highlights"]["body"].replace("<mark>香港</mark>", "")
    assert "<mark>" not in get_article(seeds, "u7193ae498458cb63", q="上周")["highlights"]["body"]


def test_the_anchor_is_the_newest_article_still_in_the_index(small_index_dir: Path) -> None:
    with QiaoIndex(small_index_dir) as index:  # newest: hk-en of 2024-02-03, then evil of 2024-01-02
        assert [h.id for h in search(index, "本月", today=TODAY).hits] == ["hk-en"]
    delete(["hk-en"], small_index_dir)
    with QiaoIndex(small_index_dir) as index:
        result = search(index, "本月", today=TODAY)
        assert [h.id for h in result.hits] == ["evil"]
        assert (str(result.dates.start), str(result.dates.relative_to)) == ("2024-01-01", "2024-01-02")
