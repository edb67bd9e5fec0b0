"""The search page and the article page, through Flask's test client (so: without JavaScript)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from .conftest import TOKEN
from search.analysis import ANALYZER_VERSION
from web import create_app
from web.server import close

SEED_ID = "chongqing-hong-kong-2023-05-11.txt"
SCRIPT = "<script>alert(1)</script>"


def page(response: TestResponse) -> BeautifulSoup:
    assert response.mimetype == "text/html"
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def total(soup: BeautifulSoup) -> int:
    return int(soup.select_one("#summary")["data-total"])


def facet_link(soup: BeautifulSoup, facet: str, value: str) -> tuple[str, int]:
    """The href and count of a facet value."""
    for a in soup.select(f'[data-facet="{facet}"] a'):
        if a.select_one(".value").get_text() == value:
            return a["href"], int(a.select_one(".count").get_text())
    raise AssertionError(f"no {facet} facet value {value!r}")


# --- the empty state and the search box ----------------------------------------------------


def test_empty_state_counts_the_articles_and_offers_examples(client: FlaskClient) -> None:
    soup = page(client.get("/"))
    assert soup.h1.get_text() == "Search 846 news articles in Chinese and English"
    assert [a["href"] for a in soup.select("a.example")][0] == "/?q=%E9%87%8D%E5%BA%86+%E9%A6%99%E6%B8%AF+%E5%90%88%E4%BD%9C"
    assert soup.select_one("#q").has_attr("autofocus")


def test_search_box_is_labelled_and_keeps_the_query(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港"))
    box = soup.select_one("form[role=search] input#q")
    assert (box["name"], box["value"]) == ("q", "香港")
    assert soup.select_one('label[for="q"]').get_text() == "Search news"
    assert not box.has_attr("autofocus")


def test_page_is_made_for_phones_and_the_slash_shortcut(client: FlaskClient) -> None:
    soup = page(client.get("/"))
    assert soup.select_one('meta[name="viewport"]')["content"] == "width=device-width, initial-scale=1"
    assert soup.select_one("script")["src"] == "/static/qiao.js"
    assert soup.select_one("#q")["aria-keyshortcuts"] == "/"
    assert client.get("/static/qiao.js").status_code == 200


# --- results ----------------------------------------------------------------------------------


def test_results_say_how_many_and_how_long(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港&xlang=off"))
    assert total(soup) == 18
    assert soup.select_one("#summary").get_text().startswith("18 results (")
    assert soup.select_one("#summary").get_text().endswith(" ms) · page 1 of 2")


def test_result_shows_title_link_source_date_language_and_snippet(client: FlaskClient) -> None:
    hit = page(client.get("/?q=香港")).select_one("li.hit")
    link = hit.select_one("h2 a")
    assert link["href"] == "/articles/u99068b45e9be5cd2?q=%E9%A6%99%E6%B8%AF"
    assert link.decode_contents() == "宁德时代落户<mark>香港</mark> 设国际总部与研发中心"
    assert hit.select_one(".meta").get_text(" ", strip=True) == "中国新闻网 · 2023-12-07 · Simplified Chinese · 大湾区"
    assert [m.get_text() for m in hit.select(".snippet mark")][:2] == ["香港", "香港"]


def test_article_ids_with_slashes_link_to_their_page(client: FlaskClient) -> None:
    hit = page(client.get("/?q=fuel prices BA profits")).select_one("li.hit h2 a")
    assert hit["href"].startswith("/articles/en-bbc/business/004.txt?q=")


def test_searched_as_shows_how_the_query_was_segmented(client: FlaskClient) -> None:
    soup = page(client.get("/?q=重庆香港合作"))
    assert soup.select_one(".searched-as").get_text(" ", strip=True) == "Searched as: 重庆 / 香港 / 合作"


def test_searched_as_shows_exclusions(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港 -经济"))
    assert soup.select_one(".searched-as").get_text(" ", strip=True) == "Searched as: 香港 / -经济"


def test_articles_with_some_of_the_words_are_announced_where_they_start(client: FlaskClient) -> None:
    soup = page(client.get("/?q=Chongqing Hong Kong cooperation"))
    hits = soup.select("li.hit")
    assert (total(soup), len(hits), [h.select_one(".partial-from") is not None for h in hits[:3]]) == (
        1, 10, [False, True, False])
    assert hits[1].select_one(".partial-from").get_text() == (
        "The articles with all of the words end here; these have some of them.")


def test_or_fallback_is_announced(client: FlaskClient) -> None:
    soup = page(client.get("/?q=重庆 香港 合作&xlang=off"))
    assert total(soup) == 96
    assert soup.select_one(".fallback").get_text() == (
        "No article contains all of the words, so these contain any of them."
    )


def test_no_fallback_notice_when_all_words_matched(client: FlaskClient) -> None:
    assert page(client.get("/?q=香港")).select_one(".fallback") is None


def test_no_results_state(client: FlaskClient) -> None:
    response = client.get("/?q=xyzzyqq")
    soup = page(response)
    assert response.status_code == 200
    assert total(soup) == 0
    assert soup.select_one(".no-results h1").get_text() == "No results for “xyzzyqq”."
    assert soup.select("li.hit") == []


def test_no_results_with_filters_links_to_the_search_without_them(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港&xlang=off&lang=en"))
    assert soup.select_one(".no-results a")["href"] == "/?q=%E9%A6%99%E6%B8%AF&xlang=off"


# --- facets, filters, dates, sort, pages ------------------------------------------------------


def test_facets_list_language_source_category_and_year(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港"))
    assert [s["data-facet"] for s in soup.select("[data-facet]")] == ["lang", "source", "category", "year"]
    assert facet_link(soup, "lang", "Simplified Chinese")[1] == 18
    assert facet_link(soup, "source", "中国新闻网")[1] == 15


def test_source_facet_narrows_to_its_count(client: FlaskClient) -> None:
    href, count = facet_link(page(client.get("/?q=香港")), "source", "新浪")
    assert href == "/?q=%E9%A6%99%E6%B8%AF&source=%E6%96%B0%E6%B5%AA"
    assert total(page(client.get(href))) == count == 2


def test_selected_facet_links_back_to_the_wider_search(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港&xlang=off&source=新浪"))
    href, _ = facet_link(soup, "source", "新浪")
    assert soup.select_one('[data-facet="source"] li.selected a')["aria-current"] == "true"
    assert href == "/?q=%E9%A6%99%E6%B8%AF&xlang=off"
    assert total(page(client.get(href))) == 18


def test_active_filter_chip_removes_it(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港&source=新浪&category=大湾区"))
    chips = {a.get_text(" ", strip=True): a["href"] for a in soup.select(".active a.chip")}
    assert chips == {
        "Source: 新浪 × (Remove filter)": "/?q=%E9%A6%99%E6%B8%AF&category=%E5%A4%A7%E6%B9%BE%E5%8C%BA",
        "Category: 大湾区 × (Remove filter)": "/?q=%E9%A6%99%E6%B8%AF&source=%E6%96%B0%E6%B5%AA",
    }


def test_language_in_capitals_is_the_same_filter_and_facet(client: FlaskClient) -> None:
    soup = page(client.get("/?q=Hong Kong&lang=EN"))
    assert [a.get_text(" ", strip=True) for a in soup.select(".active a.chip")] == ["Language: English × (Remove filter)"]
    assert facet_link(soup, "lang", "English") == ("/?q=Hong+Kong", 11)


def test_language_facet_narrows_to_its_count(client: FlaskClient) -> None:
    href, count = facet_link(page(client.get("/?q=蘋果")), "lang", "Traditional Chinese")
    assert total(page(client.get(href))) == count == 98


def test_year_facet_narrows_to_that_year(client: FlaskClient) -> None:
    href, count = facet_link(page(client.get("/?q=香港&xlang=off")), "year", "2023")
    assert href == "/?q=%E9%A6%99%E6%B8%AF&xlang=off&from=2023-01-01&to=2023-12-31"
    soup = page(client.get(href))
    assert total(soup) == count == 11
    assert [a.get_text(" ", strip=True) for a in soup.select(".active a.chip")] == ["2023 × (Remove filter)"]


def test_date_range_and_sort_controls_keep_their_values(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港&from=2020-01-01&to=2020-12-31&sort=date&source=中国新闻网"))
    assert soup.select_one('input[name="from"]')["value"] == "2020-01-01"
    assert soup.select_one('input[name="to"]')["value"] == "2020-12-31"
    assert soup.select_one('select[name="sort"] option[selected]')["value"] == "date"
    assert soup.select_one('input[type="hidden"][name="source"]')["value"] == "中国新闻网"
    assert soup.select_one("details.options").has_attr("open")


def test_sort_by_date_puts_newest_first(client: FlaskClient) -> None:
    dates = [t["datetime"] for t in page(client.get("/?q=香港&sort=date")).select("li.hit time")]
    assert dates == sorted(dates, reverse=True)


def test_pagination_links_to_page_two(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港&xlang=off"))
    assert soup.select_one('.pagination a[aria-current="page"]').get_text() == "1"
    href = soup.select_one('.pagination a[rel="next"]')["href"]
    assert href == "/?q=%E9%A6%99%E6%B8%AF&xlang=off&page=2"
    second = page(client.get(href))
    assert len(second.select("li.hit")) == 8
    assert second.select_one("ol.hits")["start"] == "11"
    assert second.select_one('.pagination a[rel="prev"]')["href"] == "/?q=%E9%A6%99%E6%B8%AF&xlang=off"


def test_pagination_keeps_filters(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港&source=中国新闻网"))
    href = soup.select_one('.pagination a[rel="next"]')["href"]
    assert href == "/?q=%E9%A6%99%E6%B8%AF&source=%E4%B8%AD%E5%9B%BD%E6%96%B0%E9%97%BB%E7%BD%91&page=2"
    assert len(page(client.get(href)).select("li.hit")) == 5


def test_bad_date_is_said_on_the_page_with_400(client: FlaskClient) -> None:
    response = client.get("/?q=香港&from=2023-02-30")
    soup = page(response)
    assert response.status_code == 400
    assert soup.select_one(".notice.error").get_text() == "from must be a date like 2023-05-11, not '2023-02-30'"
    assert soup.select_one("#q")["value"] == "香港"


def test_page_past_the_last_is_said_on_the_page_with_400(client: FlaskClient) -> None:
    response = client.get("/?q=香港&xlang=off&page=999")
    assert response.status_code == 400
    assert page(response).select_one(".notice.error").get_text() == "page must be at most 2, the last page, not 999"


def test_a_filter_without_a_query_lists_its_articles_newest_first(client: FlaskClient) -> None:
    soup = page(client.get("/?source=新浪"))
    dates = [t["datetime"] for t in soup.select("li.hit time")]
    assert (total(soup), len(dates)) == (32, 10)
    assert dates == sorted(dates, reverse=True)


def test_a_filter_without_a_query_and_without_matches_says_so(client: FlaskClient) -> None:
    soup = page(client.get("/?source=nowhere"))
    assert (total(soup), soup.select_one(".no-results h1").get_text()) == (0, "No articles match these filters.")


def test_page_without_index_says_how_to_build_it(no_index_client: FlaskClient, tmp_path: Path) -> None:
    response = no_index_client.get("/")
    assert response.status_code == 503
    assert page(response).select_one(".notice.error").get_text() == (
        f"no index at {tmp_path / 'missing'}; build one with: qiao index build --index {tmp_path / 'missing'}"
    )


# --- the article page --------------------------------------------------------------------------


def test_article_page_shows_the_whole_article(client: FlaskClient) -> None:
    soup = page(client.get(f"/articles/{SEED_ID}"))
    article = soup.select_one("article")
    assert article.h1.get_text() == (
        "Actively serve the national strategy and strengthen all-round cooperation between Chongqing and Hong Kong"
    )
    assert article.select_one(".meta time")["datetime"] == "2023-05-11"
    assert len(article.select(".captions li")) == 4
    assert article.select_one(".body p").get_text() == (
        "Yuan Jiajun and Hu Henghua met with the Hong Kong Special Administrative Region Government "
        "Delegation led by Li Jiachao"
    )
    assert article.select("mark") == []


def test_article_page_shows_source_and_links_the_original(client: FlaskClient) -> None:
    article = page(client.get("/articles/u99068b45e9be5cd2")).select_one("article")
    assert article.select_one(".meta .source").get_text() == "中国新闻网"
    assert article.select_one(".original a")["href"] == "http://www.chinanews.com/dwq/2023/12-07/10124351.shtml"


def test_article_page_opened_from_a_result_marks_the_query(client: FlaskClient) -> None:
    soup = page(client.get(f"/articles/{SEED_ID}?q=Hong Kong"))
    assert soup.select_one("article h1 mark").get_text() == "Hong Kong"
    assert soup.select_one("article .body mark").get_text() == "Hong Kong"
    assert soup.select_one(".captions mark").get_text() == "Hong Kong"
    assert soup.select_one(".back a")["href"] == "/?q=Hong+Kong"


def test_unknown_article_page_is_404_html(client: FlaskClient) -> None:
    response = client.get("/articles/no-such-article")
    assert response.status_code == 404
    soup = page(response)
    assert soup.h1.get_text() == "Not found"
    assert soup.select_one(".notice.error").get_text() == "no article with id 'no-such-article'"


def test_unknown_page_is_404_html(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert page(response).h1.get_text() == "Not found"


# --- escaping ---------------------------------------------------------------------------------


def test_query_is_escaped_everywhere(client: FlaskClient) -> None:
    html = client.get("/", query_string={"q": SCRIPT}).get_data(as_text=True)
    assert SCRIPT not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; · Qiao news search</title>" in html


def test_search_page_shows_an_article_posted_since_the_same_search(writer: FlaskClient) -> None:
    assert total(page(writer.get("/?q=Kowloon"))) == 0
    writer.post("/api/articles", json={"id": "kowloon", "title": "Kowloon ferry", "lang": "en"},
                headers={"Authorization": f"Bearer {TOKEN}"})
    assert total(page(writer.get("/?q=Kowloon"))) == 1


def test_article_text_is_escaped_in_results(writer: FlaskClient) -> None:
    response = writer.get("/?q=Macau")
    html = response.get_data(as_text=True)
    hit = page(response).select_one("li.hit")
    assert "<script>alert" not in html and "<img" not in html and "<b>Evil" not in html
    assert hit.select_one("h2 a").decode_contents() == '&lt;script&gt;alert("title")&lt;/script&gt; Hong Kong'
    assert hit.select_one(".source").decode_contents() == "&lt;b&gt;Evil&lt;/b&gt;"


def test_article_text_is_escaped_on_its_page(writer: FlaskClient) -> None:
    response = writer.get("/articles/evil?q=Macau")
    html = response.get_data(as_text=True)
    soup = page(response)
    assert "<svg" not in html and "<img" not in html and "<u>t" not in html
    assert soup.select_one(".body p").decode_contents() == "&lt;img src=x onerror=alert(1)&gt; Hong Kong &amp; <mark>Macau</mark>"
    assert soup.select_one(".captions li").get_text() == "<svg onload=alert(2)>"


def test_javascript_url_is_not_linked(writer: FlaskClient) -> None:
    assert page(writer.get("/articles/evil")).select_one(".original") is None


def test_pages_forbid_inline_script(client: FlaskClient) -> None:
    response = client.get("/?q=香港")
    assert response.headers["Content-Security-Policy"] == "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- languages ---------------------------------------------------------------------------------


def test_english_by_default(client: FlaskClient) -> None:
    soup = page(client.get("/"))
    assert soup.html["lang"] == "en"
    assert soup.select_one("nav.switch a").get_text() == "中文"


def test_chinese_from_accept_language(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港&xlang=off", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}))
    assert soup.html["lang"] == "zh-Hans"
    assert soup.select_one("#summary").get_text().startswith("找到 18 条结果（用时 ")
    assert facet_link(soup, "lang", "简体中文")[1] == 18


def test_accept_language_follows_quality(client: FlaskClient) -> None:
    soup = page(client.get("/", headers={"Accept-Language": "en;q=0.5, zh-HK;q=0.9"}))
    assert soup.html["lang"] == "zh-Hans"


def test_switch_link_keeps_the_search(client: FlaskClient) -> None:
    soup = page(client.get("/?q=香港&page=2"))
    assert soup.select_one("nav.switch a")["href"] == "/?q=%E9%A6%99%E6%B8%AF&page=2&hl=zh"


def test_switch_is_remembered_in_a_cookie(client: FlaskClient) -> None:
    response = client.get("/?hl=zh", headers={"Accept-Language": "en"})
    assert page(response).html["lang"] == "zh-Hans"
    assert client.get_cookie("hl").value == "zh"
    assert page(client.get("/", headers={"Accept-Language": "en"})).html["lang"] == "zh-Hans"


@pytest.mark.parametrize(("language", "heading"), [("en", "Not found"), ("zh", "找不到页面")])
def test_error_pages_speak_the_chosen_language(client: FlaskClient, language: str, heading: str) -> None:
    assert page(client.get(f"/articles/nope?hl={language}")).h1.get_text() == heading


def error_notice(response: TestResponse) -> str:
    return page(response).select_one(".notice.error").get_text()


def test_chinese_page_says_a_bad_date_in_chinese(client: FlaskClient) -> None:
    response = client.get("/?q=香港&from=2023-02-30&hl=zh")
    assert response.status_code == 400
    assert error_notice(response) == "起始日期应为 2023-05-11 这样的日期，而不是“2023-02-30”"


def test_chinese_page_says_an_unknown_article_in_chinese(client: FlaskClient) -> None:
    response = client.get("/articles/no-such-article?hl=zh")
    assert response.status_code == 404
    assert error_notice(response) == "没有 ID 为“no-such-article”的文章"


@pytest.mark.parametrize(("query", "message"), [
    ("q=香港&xlang=off&to=2023-13", "截止日期应为 2023-05-11 这样的日期，而不是“2023-13”"),
    ("q=香港&xlang=off&from=2024&to=2023", "起始日期（2024）晚于截止日期（2023）"),
    ("q=香港&xlang=off&lang=xx", "未知的语言“xx”；可选：zh、zh-Hans、zh-Hant、en"),
    ("q=香港&xlang=off&page=0", "页码应为 1 或更大，而不是 0"),
    ("q=香港&xlang=off&page=two", "页码应为整数，而不是“two”"),
    ("q=香港&xlang=off&page=999", "页码最大为 2（最后一页），而不是 999"),
    ("q=香港&xlang=off&per_page=500", "每页条数应在 1 到 100 之间，而不是 500"),
    ("q=香港&xlang=off&sort=oldest", "排序方式应为 relevance、relevance_recent、date、date_asc 之一，而不是“oldest”"),
    ("q=" + "香" * 2001, "查询有 2001 个字符，上限是 2000 个"),
    ("q=" + " ".join(f"w{n}" for n in range(257)), "查询有 257 个不同的词，上限是 256 个"),
], ids=["to", "from-after-to", "lang", "page", "page-not-a-number", "page-past-the-last", "per_page", "sort", "characters", "words"])
def test_chinese_page_says_every_bad_parameter_in_chinese(client: FlaskClient, query: str, message: str) -> None:
    assert error_notice(client.get(f"/?{query}&hl=zh")) == message


def test_chinese_page_without_index_says_how_to_build_it_in_chinese(
    no_index_client: FlaskClient, tmp_path: Path
) -> None:
    assert error_notice(no_index_client.get("/?hl=zh")) == (
        f"{tmp_path / 'missing'} 还没有索引；请用这条命令建立：qiao index build --index {tmp_path / 'missing'}"
    )


def test_chinese_page_of_an_index_built_by_another_analyzer_is_chinese(small_index_dir: Path) -> None:
    meta = small_index_dir / "current" / "qiao.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text(encoding="utf-8")), "analyzer_version": "0"}), encoding="utf-8")
    app = create_app({"INDEX_DIR": small_index_dir, "TESTING": True})
    try:
        response = app.test_client().get("/?q=香港&hl=zh")
    finally:
        close(app)
    assert response.status_code == 503
    assert error_notice(response) == (
        f"{small_index_dir} 的索引是用分析器版本 0 建立的，当前 Qiao 使用版本 {ANALYZER_VERSION}；请运行：qiao index build"
    )


def test_chinese_page_of_an_unexpected_error_is_chinese(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("secret detail")

    monkeypatch.setattr("web.views.cached_search", broken)
    response = app.test_client().get("/?q=香港&hl=zh")
    assert response.status_code == 500
    assert error_notice(response) == "发生了意外错误，已记录在服务器日志中。"


def test_author_and_tags_facets_follow_the_others(client: FlaskClient) -> None:
    soup = page(client.get("/?q=醫藥費&xlang=off"))
    assert [s["data-facet"] for s in soup.select("[data-facet]")] == ["lang", "source", "year", "author", "tags"]
    assert [h.get_text() for h in soup.select("[data-facet=author] h2, [data-facet=tags] h2")] == ["Author", "Tags"]
    assert facet_link(soup, "tags", "暖流") == ("/?q=%E9%86%AB%E8%97%A5%E8%B2%BB&xlang=off&tags=%E6%9A%96%E6%B5%81", 7)


def test_author_facet_narrows_to_its_count_and_its_chip_removes_it(client: FlaskClient) -> None:
    href, count = facet_link(page(client.get("/?q=醫藥費&xlang=off")), "author", "游竹君")
    assert href == "/?q=%E9%86%AB%E8%97%A5%E8%B2%BB&xlang=off&author=%E6%B8%B8%E7%AB%B9%E5%90%9B"
    soup = page(client.get(href))
    assert total(soup) == count == 2
    chips = {a.get_text(" ", strip=True): a["href"] for a in soup.select(".active a.chip")}
    assert chips == {"Author: 游竹君 × (Remove filter)": "/?q=%E9%86%AB%E8%97%A5%E8%B2%BB&xlang=off"}


def test_a_hit_shows_its_author_and_tags(client: FlaskClient) -> None:
    hit = page(client.get("/?q=tag:頭條")).select_one("li.hit")
    assert (hit.select_one(".author").get_text(), [t.get_text() for t in hit.select(".tag")]) == (
        "向高彬", ["頭條", "頭條要聞"])


def test_clear_all_removes_author_and_tags_too(client: FlaskClient) -> None:
    soup = page(client.get("/?q=醫藥費&author=游竹君&tags=暖流"))
    clear = [a for a in soup.select(".active a") if a.get_text() == "Clear all"]
    assert clear[0]["href"] == "/?q=%E9%86%AB%E8%97%A5%E8%B2%BB"


def test_an_article_links_its_author_and_tags_to_their_searches(client: FlaskClient) -> None:
    soup = page(client.get("/articles/u4ec8d89524a038dc"))  # 丈夫久病過世 婆婆不良於行 (A1490.htm)
    assert (soup.select_one("a.author").get_text(), soup.select_one("a.author")["href"]) == (
        "By 孫敏聿", "/?author=%E5%AD%AB%E6%95%8F%E8%81%BF")
    assert [(a.get_text(), a["href"]) for a in soup.select("a.tag")] == [
        ("暖流", "/?tags=%E6%9A%96%E6%B5%81"), ("頭條要聞", "/?tags=%E9%A0%AD%E6%A2%9D%E8%A6%81%E8%81%9E")]
    assert total(page(client.get(soup.select_one("a.author")["href"]))) == 8
