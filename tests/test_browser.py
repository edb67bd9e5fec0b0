"""The search page in real headless Chromium: Debian's /usr/bin/chromium driven by Playwright.

The app runs on a real `qiao serve` (two worker processes) over the seeds index. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

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
