"""Telling English, Simplified and Traditional Chinese apart."""

from __future__ import annotations

import functools
import re

from search.analysis import HAN_CHAR, opencc_table

_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def detect_lang(text: str) -> str:
    """Tell "en", "zh-Hans" or "zh-Hant" from the letters and Han characters of a text.

    Latin letters count a third as much as Han characters (an English word is about three
    times as long), so English with a few Chinese names stays "en". Chinese is "zh-Hant" when
    its traditional-only characters outnumber its simplified-only ones (OpenCC's tables).

    >>> detect_lang("The Hong Kong (香港) stock exchange")
    'en'
    >>> detect_lang("香港经济增长"), detect_lang("香港經濟增長")
    ('zh-Hans', 'zh-Hant')
    """
    han = HAN_CHAR.findall(text)
    if not han or len(_LATIN.findall(text)) > 3 * len(han):
        return "en"
    traditional, simplified = _variant_chars()
    is_traditional = sum(map(traditional.__contains__, han)) > sum(map(simplified.__contains__, han))
    return "zh-Hant" if is_traditional else "zh-Hans"


@functools.cache
def _variant_chars() -> tuple[frozenset[str], frozenset[str]]:
    """Return the traditional-only and the simplified-only characters of OpenCC's tables."""
    traditional = _one_way_chars("TSCharacters.txt")
    simplified = _one_way_chars("STCharacters.txt")
    return traditional - simplified, simplified - traditional


def _one_way_chars(table: str) -> frozenset[str]:
    """Return the characters of an OpenCC table that never map to themselves."""
    return frozenset(source for source, targets in opencc_table(table) if source and source not in targets)
