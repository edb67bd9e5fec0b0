"""The search page in real headless Chromium: Debian's /usr/bin/chromium driven by Playwright.

The app runs on a real `qiao serve` (two worker processes) over the seeds index. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest

from .conftest import ARTIFACTS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.system  # a real Chromium on a real `qiao serve`

CHROMIUM = Path(os.environ.get("QIAO_CHROMIUM", "/usr/bin/chromium"))
MISSING = (f"{CHROMIUM} is missing: install Debian's browser with "
           "`sudo apt-get update && sudo apt-get install -y chromium fonts-noto-cjk`")
if not CHROMIUM.exists():  # checked before any live server starts, so this is what one reads
    if os.environ.get("CI"):
        pytest.fail(MISSING, pytrace=False)
    pytest.skip(MISSING, allow_module_level=True)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SCRIPT = "<script>alert(1)</script>"
# The search box's width for its placeholder's text (in the same font) and its own width: Chromium
# keeps room in the box for its clear button, which the placeholder's own width would not show.
PLACEHOLDER_FIT = """() => {
  const box = document.getElementById("q");
  box.value = box.placeholder;
  return [box.scrollWidth, box.clientWidth];
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of any alert() the page opened."""
    return []


@pytest.fixture
def page(browser: Browser, live_server: str, dialogs: list[str]) -> Iterator[Page]:
    """A fresh English-speaking tab on the live server."""
    context = browser.new_context(base_url=live_server, locale="en-US", viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    context.close()


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh English-speaking tab on a 375 × 812 touch screen."""
    context = browser.new_context(base_url=live_server, locale="en-US", viewport={"width": 375, "height": 812},
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def total(tab: Page) -> int:
    return int(tab.locator("#summary").get_attribute("data-total"))


def search_for(tab: Page, text: str) -> None:
    """Type a query in the box and press Enter, as a person would."""
    tab.locator("#q").fill(text)
    tab.locator("#q").press("Enter")
    tab.wait_for_load_state()


def test_a_misspelt_word_offers_its_correction_and_the_link_searches_for_it(page: Page) -> None:
    page.goto("/")
    search_for(page, "goverment")
    assert total(page) == 0
    notice = page.locator("p.suggestion")
    assert notice.inner_text() == "Did you mean government?"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "did-you-mean.png")
    notice.locator("a").click()
    page.wait_for_load_state()
    assert (page.locator("#q").input_value(), total(page)) == ("government", 249)
    assert page.locator("p.suggestion").count() == 0


def test_typing_a_chinese_query_shows_highlighted_results(page: Page) -> None:
    page.goto("/?xlang=off")  # the form keeps it: the Chinese articles alone (the bridge: below)
    search_for(page, "香港")
    assert total(page) == 18
    assert page.locator("li.hit").count() == 10
    first = page.locator("li.hit").first
    assert first.locator("h2 mark").first.inner_text() == "香港"
    assert first.locator(".snippet mark").first.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "results.png", full_page=True)


def test_clicking_a_facet_narrows_the_list(page: Page) -> None:
    page.goto("/?q=香港&xlang=off")
    page.locator('[data-facet="source"] a', has_text="中国新闻网").click()
    page.wait_for_load_state()
    assert total(page) == 15
    assert set(page.locator("li.hit .source").all_inner_texts()) == {"中国新闻网"}


def test_removing_a_facet_widens_the_list_again(page: Page) -> None:
    page.goto("/?q=香港&source=中国新闻网&xlang=off")
    page.locator(".active a.chip").click()
    page.wait_for_load_state()
    assert total(page) == 18


def test_next_page_shows_the_rest(page: Page) -> None:
    page.goto("/?q=香港&source=中国新闻网&xlang=off")
    page.locator('.pagination a[rel="next"]').click()
    page.wait_for_load_state()
    assert page.locator('.pagination a[aria-current="page"]').inner_text() == "2"
    assert page.locator("li.hit").count() == 5


def test_opening_a_result_shows_the_article_with_the_query_marked(page: Page) -> None:
    page.goto("/?q=香港&xlang=off")
    page.locator("li.hit h2 a").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/articles/u99068b45e9be5cd2?q=%E9%A6%99%E6%B8%AF")
    assert page.locator("article h1").inner_text() == "宁德时代落户香港 设国际总部与研发中心"
    assert page.locator("article .body mark").count() == 17  # every 香港 in the body
    assert set(page.locator("article .body mark").all_inner_texts()) == {"香港"}


def test_a_script_query_is_shown_as_text(page: Page, dialogs: list[str]) -> None:
    page.goto("/")
    search_for(page, SCRIPT)
    assert page.locator("#q").input_value() == SCRIPT
    assert page.title() == f"{SCRIPT} · Qiao news search"
    assert page.locator("script").count() == 1  # ours, qiao.js
    assert dialogs == []


def test_a_script_query_without_results_is_shown_as_text(page: Page, dialogs: list[str]) -> None:
    page.goto("/?lang=en")
    search_for(page, f'"{SCRIPT}"')
    assert page.locator(".no-results h1").inner_text() == f'No results for “"{SCRIPT}"”.'
    assert dialogs == []


def test_slash_focuses_the_search_box(page: Page) -> None:
    page.goto("/?q=香港&xlang=off")
    assert page.evaluate("document.activeElement.id") != "q"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    assert page.locator("#q").input_value() == "香港"


def test_results_fit_a_375px_wide_phone(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 375, "height": 812})
    tab = context.new_page()
    tab.goto("/?q=香港&xlang=off")
    assert tab.evaluate("document.documentElement.scrollWidth") == 375
    assert tab.locator("#summary").inner_text().startswith("找到 18 条结果")
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=ARTIFACTS / "results-375px.png", full_page=True)
    context.close()


def top_and_bottom(tab: Page, selector: str) -> tuple[float, float]:
    box = tab.locator(selector).first.bounding_box()
    return box["y"], box["y"] + box["height"]


def test_facets_are_a_closed_panel_above_the_results_on_a_phone(phone: Page) -> None:
    phone.goto("/?q=香港&xlang=off")
    assert top_and_bottom(phone, ".facets")[1] < top_and_bottom(phone, "li.hit")[0]
    assert phone.locator(".facets .panel > summary").inner_text() == "Filters"
    assert not phone.locator('[data-facet="year"]').is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=ARTIFACTS / "facets-375px.png", full_page=True)


def test_facet_panel_opens_and_narrows_the_list_on_a_phone(phone: Page) -> None:
    phone.goto("/?q=香港&xlang=off")
    phone.locator(".facets .panel > summary").tap()
    phone.locator('[data-facet="year"] a', has_text="2023").tap()
    phone.wait_for_load_state()
    assert total(phone) == 11


@pytest.mark.parametrize("language", ["en", "zh"])
def test_placeholder_fits_the_search_box_on_a_phone(phone: Page, language: str) -> None:
    phone.goto(f"/?hl={language}")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=ARTIFACTS / f"home-375px-{language}.png")
    needed, width = phone.evaluate(PLACEHOLDER_FIT)
    assert needed <= width, f"{phone.locator('#q').get_attribute('placeholder')!r} needs {needed} px of {width}"


def test_slash_hint_is_hidden_on_a_phone(phone: Page) -> None:
    phone.goto("/")
    assert phone.locator("footer").is_visible()
    assert not phone.locator("footer kbd").is_visible()


def test_facets_sit_beside_the_results_on_a_desktop(page: Page) -> None:
    page.goto("/?q=香港&xlang=off")
    facets, results = page.locator(".facets").bounding_box(), page.locator(".results").bounding_box()
    assert facets["x"] > results["x"] + results["width"]
    assert facets["y"] == results["y"]
    assert page.locator('[data-facet="year"] a').first.is_visible()
    assert not page.locator(".facets .panel > summary").is_visible()


def test_slash_hint_shows_on_a_desktop(page: Page) -> None:
    page.goto("/")
    assert page.locator("footer kbd").is_visible()


def test_search_works_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, locale="en-US", java_script_enabled=False)
    tab = context.new_page()
    tab.goto("/?xlang=off")
    search_for(tab, "香港")
    assert total(tab) == 18
    tab.locator('[data-facet="year"] a', has_text="2023").click()
    tab.wait_for_load_state()
    assert total(tab) == 11
    context.close()


def test_language_switch_changes_the_interface(page: Page) -> None:
    page.goto("/?q=香港&xlang=off")
    page.locator("nav.switch a").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator("#summary").inner_text().startswith("找到 18 条结果")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"


def test_the_bridge_shows_translations_and_results_in_both_languages(page: Page) -> None:
    page.goto("/")
    search_for(page, "Hong Kong cooperation")
    translations = page.locator(".translations .translation")
    assert translations.all_inner_texts() == ["Hong Kong → 香港", "cooperation → 合作 / 协同 / 协作 / 合力"]
    langs = page.locator("li.hit").evaluate_all("hits => hits.map(h => h.lang)")
    assert langs[0] == "en" and "zh-Hans" in langs
    assert page.locator('li.hit[lang="zh-Hans"] h2 mark').first.inner_text() == "香港"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "bridge.png", full_page=True)
    page.locator(".translations a").click()  # "only as typed"
    page.wait_for_load_state()
    assert set(page.locator("li.hit").evaluate_all("hits => hits.map(h => h.lang)")) == {"en"}
    assert page.locator(".translations").inner_text().startswith("Cross-language search is off.")
def test_author_and_tags_facets_narrow_and_the_feed_follows_the_narrowed_search(page: Page) -> None:
    page.goto("/?q=醫藥費")
    assert page.locator('[data-facet="author"] h2').inner_text() == "Author"
    assert page.locator('[data-facet="tags"] .value').all_inner_texts() == ["暖流", "頭條要聞"]
    assert page.locator('[data-facet="tags"] .count').all_inner_texts() == ["7", "7"]
    assert page.locator("a.feed").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "author-tags-feed.png", full_page=True)
    page.locator('[data-facet="author"] a', has_text="游竹君").click()
    page.wait_for_load_state()
    assert total(page) == 2
    assert set(page.locator("li.hit .author").all_inner_texts()) == {"游竹君"}
    href = page.locator("a.feed").get_attribute("href")
    assert page.locator('link[rel="alternate"][type="application/atom+xml"]').get_attribute("href") == href
    feed = feedparser.parse(page.request.get(href).body())
    assert (feed.bozo, feed.feed.title, [e.author for e in feed.entries]) == (
        False, "Qiao: 醫藥費 · author: 游竹君", ["游竹君", "游竹君"])


def test_the_csv_link_downloads_the_page_as_csv(page: Page, tmp_path: Path) -> None:
    page.goto("/?q=醫藥費&per_page=5")
    with page.expect_download() as download:
        page.locator("a.export", has_text="CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "qiao-search.csv"
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "\ufeff" + "id,title,url,published,source,category,lang,author,tags,score,partial,snippet"
    assert lines[1].startswith("u98fab581d6b9849a,翁借錢醫癱妻 奔波守病榻,")


def test_one_story_shows_its_similar_reports(browser: Browser, story_server: str) -> None:
    context = browser.new_context(base_url=story_server, locale="en-US", viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        tab.goto("/")
        search_for(tab, "尼泊尔 地震勘探")
        stories = total(tab)
        similar = tab.locator("li.hit details.similar")
        assert similar.count() == 1
        summary = similar.locator("summary").inner_text()
        assert summary.startswith("2 similar reports: ")
        similar.locator("summary").click()
        assert similar.locator("li a").count() == 2 and similar.locator("li a").first.is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=ARTIFACTS / "similar-reports.png", full_page=True)
        tab.locator(".collapse-note a", has_text="Show every article").click()
        tab.wait_for_load_state()
        assert tab.locator("li.hit details.similar").count() == 0
        assert total(tab) == stories + 2  # the two copies listed too
    finally:
        context.close()


def test_dates_in_words_show_a_chip_that_removes_them(page: Page) -> None:
    page.goto("/?xlang=off")
    search_for(page, "香港 2023年10月")
    assert total(page) == 5
    assert {t[:7] for t in page.locator("li.hit time").all_inner_texts()} == {"2023-10"}
    chip = page.locator('.active a.chip[data-kind="dates"]')
    assert chip.inner_text().startswith("2023年10月: 2023-10-01 – 2023-10-31")
    assert page.locator(".searched-as .dates").inner_text() == "dates 2023-10-01 – 2023-10-31 (from “2023年10月”)"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "dates-chip.png", full_page=True)
    chip.click()
    page.wait_for_load_state()
    assert total(page) == 18
    assert page.locator("#q").input_value() == "香港"


def test_choosing_oldest_first_in_the_sort_control_reorders_the_list(page: Page) -> None:
    page.goto("/?q=香港")
    page.locator("details.options summary").click()
    page.locator('select[name="sort"]').select_option("date_asc")
    page.locator("details.options button").click()
    page.wait_for_load_state()
    assert page.locator("li.hit time").first.inner_text() == "2016-02-17"
    assert page.locator('select[name="sort"]').input_value() == "date_asc"


# --- suggestions while typing, related articles -----------------------------------------------


def searched(url: str) -> str | None:
    """The query of a search page's URL (None for another page)."""
    parts = urlsplit(url)
    return parse_qs(parts.query).get("q", [None])[0] if parts.path == "/" else None


def suggestions(tab: Page) -> list[str]:
    """The texts of the suggestion list once it is open."""
    tab.locator("#q-suggestions li").first.wait_for()
    return tab.locator("#q-suggestions li .text").all_inner_texts()


def test_typing_opens_suggestions_and_the_arrows_and_enter_search_for_one(page: Page) -> None:
    page.goto("/")
    page.locator("#q").press_sequentially("香")
    assert suggestions(page)[:4] == ["香港", "香港特区政府", "香江", "香港特区"]
    box = page.locator("#q")
    assert (box.get_attribute("role"), box.get_attribute("aria-expanded")) == ("combobox", "true")
    assert page.locator("#q-suggestions").get_attribute("role") == "listbox"
    box.press("ArrowDown")
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "q-suggestion-1"
    assert page.locator("#q-suggestion-1").get_attribute("aria-selected") == "true"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "suggestions.png")
    box.press("Enter")
    page.wait_for_url(lambda url: searched(url) == "香港特区政府")
    assert box.input_value() == "香港特区政府"


def test_escape_closes_the_suggestions_and_enter_then_searches_as_typed(page: Page) -> None:
    page.goto("/")
    page.locator("#q").press_sequentially("Hong Kon")
    assert suggestions(page)[:2] == ["Hong Kong", "Hong Kong's"]
    page.locator("#q").press("Escape")
    assert page.locator("#q-suggestions").is_hidden()
    assert page.locator("#q").get_attribute("aria-expanded") == "false"
    page.locator("#q").press("Enter")
    page.wait_for_url(lambda url: searched(url) == "Hong Kon")


def test_choosing_a_suggested_title_opens_its_article(page: Page) -> None:
    page.goto("/")
    page.locator("#q").press_sequentially("hong kong pro")
    found = suggestions(page)
    assert found[6:] == ["Hong Kong protests continue through police opposition, rainstorms",
                         "Hong Kong protesters surround downtown police complex"]
    assert page.locator("#q-suggestion-6 .kind").inner_text() == "article"
    for _ in range(7):
        page.locator("#q").press("ArrowDown")
    page.locator("#q").press("Enter")
    page.wait_for_url("**/articles/u373a30f67c38b942")
    assert page.locator("h1").inner_text() == "Hong Kong protests continue through police opposition, rainstorms"


def test_the_page_has_no_suggestion_list_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, locale="en-US", java_script_enabled=False)
    tab = context.new_page()
    tab.goto("/")
    tab.locator("#q").fill("香")
    assert tab.locator("#q-suggestions").count() == 0
    assert tab.locator("#q").get_attribute("role") is None
    context.close()


def test_the_article_page_lists_related_articles_that_open(page: Page) -> None:
    page.goto("/articles/u5cf08c845c51ccad")
    related = page.locator("section.related")
    assert related.locator("h2").inner_text() == "Related articles"
    first = related.locator("li a").first
    assert first.inner_text() == "中方：对联合国前秘书长加利逝世深感悲痛"
    ARTIFACTS.mkdir(exist_ok=True)
    related.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "related.png", full_page=True)
    first.click()
    page.wait_for_url("**/articles/u25e8ac51580f2b2c")
