"""The reader of article pages: headline, date, URL, site, captions and the story without boilerplate.

>>> record = html_record('<title>Rates held | Daily</title><nav>Home</nav><article><h1>Rates held</h1>'
...                      '<p>2023-05-11</p><p>The bank kept its rate.</p><p>© Daily</p></article>')
>>> record["title"], record["body"], record["published"], record["source"]
('Rates held', 'The bank kept its rate.', '2023-05-11', 'Daily')
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, NavigableString, ParserRejectedMarkup, Tag
from bs4.element import PreformattedString

from search.articles.dates import date_line, parse_date
from search.articles.model import ArticleError, clean_line

_DROPPED_TAGS = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "form", "select", "button", "input", "textarea", "label", "nav", "aside", "footer", "menu",
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    "address article aside blockquote dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section table tbody thead tfoot "
    "tr td th ul".split()
)
_DATE_META = (
    "article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
    "publish-date", "publish_date", "date", "dc.date", "dc.date.issued", "dcterms.created",
    "parsely-pub-date", "sailthru.date",
)  # fmt: skip
_DATE_IN_TEXT = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}[-/]\d{1,2}[-/]\d{1,2}")
_TITLE_SITE = re.compile(r"(?P<head>.+)(?:\s+[-–—]\s+|\s*[|_｜]\s*)(?P<site>[^|_｜]{1,30})")
_COPYRIGHT = re.compile(r"©|\bcopyright\b|版權所有|版权所有|著作權|著作权", re.IGNORECASE)
_MAX_COPYRIGHT_LINE = 120
# A Chinese byline names the reporter: 報導．攝影╱韓旭爾 (the name after the slash), or
# 【向高彬╱新北報導】, 記者向高彬╱新北報導 (the name before the place).
_BYLINE = re.compile(
    r"(?:報導|报道|撰文|採訪|采访)(?:\s*[．.・·˙‧、?]?\s*(?:攝影|摄影))?\s*[╱／/]\s*(?P<after>[\u4e00-\u9fff]{2,4})(?![\u4e00-\u9fff])"
    r"|(?:記者|记者|【)(?P<before>[\u4e00-\u9fff]{2,4})\s*[╱／/]\s*[\u4e00-\u9fff]{1,8}(?:報導|报道)"
)


def html_record(html: str) -> dict[str, Any]:
    """Read an article page: headline, date, URL, site, captions and the story without boilerplate."""
    try:
        soup = BeautifulSoup(html, "lxml")
    except ParserRejectedMarkup as e:
        raise ArticleError(f"unreadable HTML: {e}") from e
    meta = _meta_values(soup)
    head_title, head_site = _split_site(_element_text(soup.title))
    site = meta.get("og:site_name") or head_site
    _drop_unread(soup)
    container = _main_container(soup)
    h1 = container.find("h1")
    title = _without_site(meta.get("og:title", ""), site) or _element_text(h1) or head_title
    if h1:
        h1.decompose()
    captions = _take_captions(container)
    published = _meta_date(meta) or _time_date(container)
    body_lines = _text_lines(container)
    if not published:
        match = _DATE_IN_TEXT.search("\n".join(body_lines))
        published = match[0] if match else None
    url = next((link["href"] for link in soup.find_all("link", rel="canonical", href=True)), "")
    return {
        "title": title,
        "body": "\n".join(line for line in body_lines if not _is_boilerplate_line(line, title)),
        "url": url or meta.get("og:url", ""),
        "published": published,
        "source": site,
        "author": meta.get("author") or _byline(body_lines),
        "category": meta.get("article:section", ""),
        "tags": _meta_tags(soup, meta),
        "captions": captions,
    }


def _drop_unread(soup: BeautifulSoup) -> None:
    """Remove what a reader does not read as the story: scripts, forms, navigation, hidden elements."""
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_hidden):
        tag.decompose()


def _take_captions(container: Tag) -> list[str]:
    """Remove the figures from the story, returning their non-empty captions."""
    captions = [_caption_text(figure) for figure in container.find_all("figure")]
    for figure in container.find_all("figure"):
        figure.decompose()
    return [caption for caption in captions if caption]


def _meta_values(soup: BeautifulSoup) -> dict[str, str]:
    """Map each meta name/property/itemprop (lower case) to its first content."""
    values: dict[str, str] = {}
    for tag in soup.find_all("meta", content=True):
        key = tag.get("property") or tag.get("name") or tag.get("itemprop")
        if isinstance(key, str) and isinstance(tag["content"], str):
            values.setdefault(key.strip().lower(), clean_line(tag["content"]))
    return values


def _byline(lines: list[str]) -> str:
    """The reporter a Chinese byline in the text names (報導．攝影╱韓旭爾: 韓旭爾), else ""."""
    match = _BYLINE.search("\n".join(lines))
    return (match["after"] or match["before"]) if match else ""


def _meta_tags(soup: BeautifulSoup, meta: dict[str, str]) -> str:
    """Return the page's tags as a comma-separated string: article:tag metas, else keywords."""
    tags = [tag["content"] for tag in soup.find_all("meta", property="article:tag", content=True)]
    return ",".join(tags) or meta.get("news_keywords") or meta.get("keywords", "")


def _meta_date(meta: dict[str, str]) -> str | None:
    """Return the first publication date in the meta tags that parses."""
    return next((meta[key] for key in _DATE_META if key in meta and parse_date(meta[key])), None)


def _time_date(container: Tag) -> str | None:
    """Return the first parseable <time> date, removing <time> elements that stand outside paragraphs."""
    found = None
    for time in container.find_all("time"):
        for text in (time.get("datetime"), time.get_text()):
            if found is None and isinstance(text, str) and parse_date(text):
                found = text
        if not time.find_parent("p"):
            time.decompose()
    return found


def _split_site(title: str) -> tuple[str, str]:
    """Split "Headline | Site" (or " - Site", "_Site") into the headline and the site name.

    >>> _split_site("夫猝逝 婦扛20萬債茫然 | 蘋果日報")
    ('夫猝逝 婦扛20萬債茫然', '蘋果日報')
    """
    title = clean_line(title)
    match = _TITLE_SITE.fullmatch(title)
    if not match:
        return title, ""
    return match["head"].strip(), match["site"].strip()


def _without_site(title: str, site: str) -> str:
    """Remove a " | Site" suffix from a title only when it names the known site."""
    head, suffix = _split_site(title)
    return head if suffix and suffix == site else clean_line(title)


def _is_hidden(tag: Tag) -> bool:
    """Tell whether an element is hidden from readers."""
    style = tag.get("style")
    return (
        tag.has_attr("hidden")
        or tag.get("aria-hidden") == "true"
        or (isinstance(style, str) and re.search(r"display\s*:\s*none", style) is not None)
    )


def _main_container(soup: BeautifulSoup) -> Tag:
    """Find the element holding the story: the largest article/main, else the parent of most paragraph text."""
    candidates = soup.find_all(["article", "main"]) + soup.select('[role="main"], [itemprop="articleBody"]')
    if candidates:
        return max(candidates, key=lambda tag: len(tag.get_text(strip=True)))
    scores: dict[int, tuple[int, Tag]] = {}
    for paragraph in soup.find_all("p"):
        parent = paragraph.parent
        if isinstance(parent, Tag):
            score = scores.get(id(parent), (0, parent))[0]
            scores[id(parent)] = (score + len(paragraph.get_text(strip=True)), parent)
    if scores:
        return max(scores.values(), key=lambda pair: pair[0])[1]
    return soup.body or soup


def _caption_text(figure: Tag) -> str:
    """Return a figure's caption: its figcaption, else its text."""
    return _element_text(figure.find("figcaption") or figure)


def _element_text(tag: Tag | None) -> str:
    """Return an element's text on one line."""
    return clean_line(tag.get_text(" ")) if tag else ""


def _text_lines(container: Tag) -> list[str]:
    """Return the container's text, a line per block, without lines made mostly of link text."""
    lines: list[str] = []
    parts: list[str] = []
    link_chars = 0
    link_depth = 0

    def flush() -> None:
        nonlocal link_chars
        line = clean_line("".join(parts))
        if line and link_chars * 2 <= len(line.replace(" ", "")):
            lines.append(line)
        parts.clear()
        link_chars = 0

    stack: list[tuple[Any, bool]] = [(container, False)]
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):
                parts.append(str(node))
                link_chars += len("".join(node.split())) if link_depth else 0
        elif leaving:
            if node.name == "a":
                link_depth -= 1
            if node.name in _BLOCK_TAGS:
                flush()
        elif node.name == "br":
            flush()
        else:
            if node.name in _BLOCK_TAGS:
                flush()
            if node.name == "a":
                link_depth += 1
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return lines


def _is_boilerplate_line(line: str, title: str) -> bool:
    """Tell whether a body line is page furniture: the headline again, a lone date, a copyright notice."""
    if line == title or date_line(line):
        return True
    return len(line) <= _MAX_COPYRIGHT_LINE and _COPYRIGHT.search(line) is not None
