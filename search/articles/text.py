"""The reader of plain-text articles: an optional date line, the headline, paragraphs and captions."""

from __future__ import annotations

import re
from typing import Any

from search.articles.dates import parse_date
from search.articles.model import clean_body

_MAX_TEXT_TITLE_CHARS = 200  # a longer first line of a text file is a paragraph, not a headline
_DATE_HEADER = re.compile(r"date\s+(\S+)\s*(.*)", re.IGNORECASE)
# The photo credit a caption ends with. In Chinese: a photographer's 摄 after a credit word or a
# space (记者 李明 摄, 新华社发 李明 摄, 李明 摄/视觉重庆), but not 拍摄 ("filming") nor the
# byline 文并摄, 文/摄 ("text and photos") that ends a story; 图/ or 图片来源： after a sentence;
# …供图; a photo agency after a slash. A report's 记者从…获悉 is none of these.
_CAPTION_CREDIT = re.compile(
    r"(?:photo|photograph|picture|image)s?\s*(?:by\b|courtesy of\b|:|/)[^.!?。]{0,80}$"
    r"|[（(][^（）()]{0,30}(?:[摄攝]影?|供[图圖])[)）]$"
    r"|(?:(?:记者|記者|通讯员|通訊員|摄影|攝影|新华社发|新華社發|中新社发|中新社發)[^。！？!?，,；;：:]{0,20}?|[\s/／])"
    r"(?<![拍并並])(?<!文[/／])[摄攝]影?(?:[/／][^。！？!?/／]{1,12})?$"
    r"|(?:^|[。！？!?\s▲])[图圖]片?(?:来源|來源|源)?\s*[/／:：][^。！？!?]{1,24}$"
    r"|供[图圖]$"
    r"|[/／]\s*(?:视觉重庆|視覺重慶|视觉中国|視覺中國)$",
    re.IGNORECASE,
)


def text_record(text: str) -> dict[str, Any]:
    """Read a text article: an optional "date YYYY-MM-DD <caption>" line, the headline, paragraphs.

    Paragraphs ending in a photo credit ("…Photo by reporter X/Visual Chongqing", "…记者 李明 摄",
    "…图/新华社", "…受访者供图") are captions.

    >>> text_record("date 2023-05-11\\n成都东站新枢纽启用\\n\\n新枢纽将于本月底启用。\\n东站全景。记者 李明 摄")
    {'title': '成都东站新枢纽启用', 'body': '新枢纽将于本月底启用。', 'published': '2023-05-11', 'captions': ['东站全景。记者 李明 摄']}
    """
    lines = [line for line in clean_body(text).split("\n") if line]
    published = None
    header = _DATE_HEADER.fullmatch(lines[0]) if lines else None
    if header and parse_date(header[1]):
        published = header[1]
        lines = [header[2], *lines[1:]] if header[2] else lines[1:]
    captions = [line for line in lines if _is_caption(line)]
    paragraphs = [line for line in lines if not _is_caption(line)]
    if paragraphs and len(paragraphs[0]) <= _MAX_TEXT_TITLE_CHARS:
        title, paragraphs = paragraphs[0], paragraphs[1:]
    else:
        title = ""
    return {"title": title, "body": "\n".join(paragraphs), "published": published, "captions": captions}


def _is_caption(paragraph: str) -> bool:
    """Tell whether a paragraph is a photo caption, from the credit it ends with."""
    return _CAPTION_CREDIT.search(paragraph) is not None
