"""Dates in words: ``香港 2023年10月``, ``重庆 去年``, ``上周 台风``, ``May 2023 Hong Kong``, ``last week``.

A query's date words become a date filter and leave its search words. They are found by a small
exact grammar over the query's plain words (``search.query.syntax.plain_words``: top-level,
unquoted, without a field, a boost, a minus or an OR/AND beside them), so a date is always a word
of its own: ``重庆 去年`` filters, ``去年同期`` stays a word, ``"去年"`` and ``-去年`` are words.

What is a date (and what is not):

- a year with 年 or with a month name or ``in``/``since``: ``2023年``, ``May 2023``, ``in 2022``;
  a bare year is not (``2023 budget``, ``G20 2016``), nor ``2023年度`` (a fiscal year);
- a month: ``2023年10月``, ``2023-05``, ``10月`` or ``in October`` (the latest October up to the
  day dates are relative to, below); a day: ``2023年10月5日``, ``2023-05-11``, ``May 11, 2023``;
  a day without a year is not (``9月11日``, ``September 11``: an anniversary more often than a window);
- relative words: 今天 昨天 前天, 本周 上周, 本月 上个月, 今年 去年 前年, 最近一周, 近一个月, 近三个月,
  近7天, 过去一年 (and their Traditional forms: 上週, 上個月, 近一個月…); today, yesterday,
  this/last week, month, year; past week, month, year; past/last N days, weeks, months, years.
  A week starts on Monday; ``上周`` and ``last week`` are the calendar week before this one, ``最近一周``
  and ``past week`` the 7 days up to the anchor day.

Relative words are relative to an anchor day (``anchor``): today, unless the index's newest
article is more than ARCHIVE_DAYS old; then the index is an archive and the anchor is its newest
article's day, so that ``上周`` in a collection that ends in 2025 is its last week, not an empty
week of today. An absolute date that no article of the index can have (before the oldest or after
the newest) stays words: ``香港 1997年`` finds the articles that mention 1997, not none.

Several dates in one query make one filter from the earliest start to the latest end.

Why a grammar of our own: dateparser 1.5.0's ``search_dates``, tried on these queries, gives a
day rather than a range, reads ``2023 budget``, ``Theresa May`` and the 去年 of ``去年同期`` as
dates and ``2023年10月`` as a day of the year 1, finds none in ``last week`` or ``近一个月``, and
took 40-500 ms a query (8 s for the first); README.md, "Dates in words", has the numbers.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime

from search.query.syntax import normalized, plain_words

ARCHIVE_DAYS = 30  # an index whose newest article is older than this is an archive
YEARS = range(1900, 2100)  # the years a date in words may name

Bounds = tuple[date | None, date | None]  # first and last day, None where open


@dataclass(frozen=True)
class DateWords:
    """The date filter a query's words make, and the query left without them."""

    words: tuple[str, ...]  # as written in the query: 2023年10月, May 2023, 上周
    start: date | None
    end: date | None  # inclusive; None: open (since 2020)
    without: str  # the query without its date words: what the search matches
    relative_to: date | None  # the anchor day relative words were read from; None when none is relative
    anchor: str | None  # "today" or "newest article": what relative_to is

    @property
    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The first and last moment of the range (None where open)."""
        return (datetime.combine(self.start, dtime.min) if self.start else None,
                datetime.combine(self.end, dtime.max) if self.end else None)

    def to_dict(self) -> dict[str, object]:
        """As the JSON API shows it."""
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "words": list(self.words),
            "relative_to": self.relative_to.isoformat() if self.relative_to else None,
            "anchor": self.anchor,
            "without": self.without,
        }


@dataclass(frozen=True)
class Anchor:
    """The day relative dates are read from, and why: "today", or "newest article" for an archive."""

    day: date
    kind: str


def anchor(today: date, newest: date | None) -> Anchor:
    """Today; the newest article's day when it is more than ARCHIVE_DAYS before today (an archive).

    >>> anchor(date(2026, 12, 2), date(2025, 6, 14))
    Anchor(day=datetime.date(2025, 6, 14), kind='newest article')
    >>> anchor(date(2026, 12, 2), date(2026, 11, 30)).kind
    'today'
    """
    if newest is not None and (today - newest).days > ARCHIVE_DAYS:
        return Anchor(newest, "newest article")
    return Anchor(today, "today")


@dataclass(frozen=True)
class _Found:
    """One date expression of a query: where it stands, and its days given the anchor day."""

    start: int
    end: int
    days: Callable[[date], Bounds]
    relative: bool


def read_dates(
    text: str, today: date, span: Callable[[], tuple[date, date] | None],
) -> DateWords | None:
    """The dates in the words of a query, or None when it has none (or none the index can have).

    ``span`` gives the days of the index's oldest and newest articles (None: no article has a
    date), asked only when the query has a date.
    """
    text = normalized(text)
    found = [f for run in plain_words(text) for f in _expressions(text, run)]
    if not found:
        return None
    days = span()
    if days is None:
        return None
    oldest, newest = days
    at = anchor(today, newest)
    kept = []
    for f in found:
        start, end = f.days(at.day)
        if f.relative or ((start is None or start <= newest) and (end is None or end >= oldest)):
            kept.append((f, start, end))
    if not kept:
        return None
    starts = [s for _, s, _ in kept]
    ends = [e for _, _, e in kept]
    relative = any(f.relative for f, _, _ in kept)
    return DateWords(
        words=tuple(text[f.start:f.end] for f, _, _ in kept),
        start=None if None in starts else min(starts),  # type: ignore[type-var]
        end=None if None in ends else max(ends),  # type: ignore[type-var]
        without=_without(text, [(f.start, f.end) for f, _, _ in kept]),
        relative_to=at.day if relative else None,
        anchor=at.kind if relative else None,
    )


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the spans cut out, the spaces left around them made one."""
    pieces, at = [], 0
    for start, end in sorted(spans):
        pieces.append(text[at:start])
        at = end
    pieces.append(text[at:])
    return " ".join("".join(pieces).split())


# --- the grammar ----------------------------------------------------------------------------------

Word = tuple[int, int, str]  # a plain word's start, end and text

_MONTHS = {name: n for n in range(1, 13)
           for name in (calendar.month_name[n].lower(), calendar.month_abbr[n].lower())}
_MONTHS["sept"] = 9
_UNITS = {"day": "day", "days": "day", "week": "week", "weeks": "week",
          "month": "month", "months": "month", "year": "year", "years": "year"}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "twelve": 12, "a": 1}
_HAN_NUMBERS = {"一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                "九": 9, "十": 10, "十二": 12}

_ISO = re.compile(r"(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?")
_HAN_DATE = re.compile(r"(\d{4})年(?:(\d{1,2})月份?(?:(\d{1,2})[日号號])?)?")
_HAN_MONTH = re.compile(r"(\d{1,2})月份?")
_HAN_RECENT = re.compile(r"(?:最近|近|过去|過去)(\d{1,3}|十二|[一二两兩三四五六七八九十]|半)[个個]?(天|日|周|週|星期|月|年)")


def _day(offset: int) -> Callable[[date], Bounds]:
    return lambda a: (a - timedelta(offset), a - timedelta(offset))


def _week(back: int) -> Callable[[date], Bounds]:
    def days(a: date) -> Bounds:
        monday = a - timedelta(a.weekday() + 7 * back)
        return monday, monday + timedelta(6)
    return days


def _month_back(back: int) -> Callable[[date], Bounds]:
    def days(a: date) -> Bounds:
        first = _shift_months(a.replace(day=1), -back)
        return _month(first.year, first.month)
    return days


def _year_back(back: int) -> Callable[[date], Bounds]:
    return lambda a: _year(a.year - back)


# Chinese relative words, Simplified and Traditional, and the days each names.
_HAN_WORDS: dict[str, Callable[[date], Bounds]] = {
    word: days
    for words, days in (
        (("今天", "今日"), _day(0)), (("昨天", "昨日"), _day(1)), (("前天",), _day(2)),
        (("本周", "本週", "这周", "這週", "本星期", "这个星期", "這個星期"), _week(0)),
        (("上周", "上週", "上星期", "上个星期", "上個星期"), _week(1)),
        (("本月", "这个月", "這個月"), _month_back(0)), (("上个月", "上個月", "上月"), _month_back(1)),
        (("今年", "本年"), _year_back(0)), (("去年",), _year_back(1)), (("前年",), _year_back(2)),
    )
    for word in words
}


def _year(y: int) -> Bounds:
    return date(y, 1, 1), date(y, 12, 31)


def _month(y: int, m: int) -> Bounds:
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def _shift_months(d: date, months: int) -> date:
    """``d`` moved by whole months, its day kept where the month has it (else the month's last)."""
    n = d.year * 12 + d.month - 1 + months
    y, m = divmod(n, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _latest_month(m: int) -> Callable[[date], Bounds]:
    """The latest month ``m`` that has begun by the anchor day: 10月 read on 2025-06-14 is 2024-10."""
    return lambda a: _month(a.year if m <= a.month else a.year - 1, m)


def _past(n: int, unit: str, half: bool = False) -> Callable[[date], Bounds]:
    """The n days, weeks, months or years up to the anchor day, the anchor included."""
    def days(a: date) -> Bounds:
        if unit == "day":
            first = a - timedelta(n - 1)
        elif unit == "week":
            first = a - timedelta(7 * n - 1)
        elif half:  # 半个月: 15 days; 半年: 6 months
            first = a - timedelta(14) if unit == "month" else _shift_months(a, -6) + timedelta(1)
        else:
            first = _shift_months(a, -n * (12 if unit == "year" else 1)) + timedelta(1)
        return first, a
    return days


def _absolute(y: int, m: int | None = None, d: int | None = None) -> Callable[[date], Bounds] | None:
    """The days of a year, month or day, or None when it is no calendar date (2023-13, 2023-02-30)."""
    if y not in YEARS or (m is not None and not 1 <= m <= 12):
        return None
    if m is None:
        bounds = _year(y)
    elif d is None:
        bounds = _month(y, m)
    else:
        if not 1 <= d <= calendar.monthrange(y, m)[1]:
            return None
        bounds = (date(y, m, d), date(y, m, d))
    return lambda a: bounds


def _year_of(word: str) -> int | None:
    return int(word) if re.fullmatch(r"\d{4}", word) and int(word) in YEARS else None


def _count(word: str) -> int | None:
    if word.isdigit() and 0 < int(word) < 1000:
        return int(word)
    return _NUMBERS.get(word)


def _one(word: str) -> tuple[Callable[[date], Bounds], bool] | None:
    """A date written as one word, and whether it is relative."""
    if (m := _ISO.fullmatch(word)) or (m := _HAN_DATE.fullmatch(word)):
        y, mo, d = (int(g) if g else None for g in m.groups())
        found = _absolute(y, mo, d)  # type: ignore[arg-type]
        return (found, False) if found else None
    if (m := _HAN_MONTH.fullmatch(word)) and 1 <= int(m.group(1)) <= 12:
        return _latest_month(int(m.group(1))), True
    if word in _HAN_WORDS:
        return _HAN_WORDS[word], True
    if m := _HAN_RECENT.fullmatch(word):
        amount, unit = m.groups()
        unit = {"天": "day", "日": "day", "周": "week", "週": "week", "星期": "week", "月": "month", "年": "year"}[unit]
        if amount == "半":
            return (_past(1, unit, half=True), True) if unit in ("month", "year") else None
        n = int(amount) if amount.isdigit() else _HAN_NUMBERS[amount]
        return (_past(n, unit), True) if n else None
    lower = word.lower()
    if lower == "today":
        return _day(0), True
    if lower == "yesterday":
        return _day(1), True
    return None


def _english(words: list[str]) -> tuple[Callable[[date], Bounds], bool] | None:
    """A date written as two or three English words (lower case, a comma after a day dropped)."""
    first, *rest = words
    if len(words) == 2:
        second = rest[0]
        if first in ("this", "last") and second in ("week", "month", "year"):
            back = 0 if first == "this" else 1
            return {"week": _week, "month": _month_back, "year": _year_back}[second](back), True
        if first == "past" and second in ("week", "month", "year"):
            return _past(1, second), True
        if first in ("in", "since") and (y := _year_of(second)):
            return _since(_absolute(y), first), False
        if first == "in" and second in _MONTHS:
            return _latest_month(_MONTHS[second]), True
        if first in _MONTHS and (y := _year_of(second)):
            return _absolute(y, _MONTHS[first]), False  # type: ignore[return-value]
        return None
    third = rest[1]
    if first in ("past", "last") and (n := _count(rest[0])) and third in _UNITS:
        return _past(n, _UNITS[third]), True
    if first in ("in", "since") and rest[0] in _MONTHS and (y := _year_of(third)):
        return _since(_absolute(y, _MONTHS[rest[0]]), first), False
    day = None
    if first in _MONTHS and rest[0].isdigit():  # May 11, 2023
        day = _absolute(_year_of(third) or 0, _MONTHS[first], int(rest[0]))
    elif first.isdigit() and rest[0] in _MONTHS:  # 11 May 2023
        day = _absolute(_year_of(third) or 0, _MONTHS[rest[0]], int(first))
    return (day, False) if day else None


def _since(found: Callable[[date], Bounds] | None, word: str) -> Callable[[date], Bounds] | None:
    """``since X``: from X's first day on, with no end; ``in X``: X."""
    if found is None or word == "in":
        return found
    return lambda a: (found(a)[0], None)


def _expressions(text: str, run: list[Word]) -> list[_Found]:
    """The date expressions of a run of plain words, longest first from left to right."""
    found: list[_Found] = []
    i = 0
    while i < len(run):
        for size in (3, 2, 1):
            words = run[i:i + size]
            if len(words) < size:
                continue
            if size == 1:
                read = _one(words[0][2])
            else:
                read = _english([w[2].lower().removesuffix(",") for w in words])
            if read is not None and read[0] is not None:
                found.append(_Found(words[0][0], words[-1][1], read[0], read[1]))
                i += size
                break
        else:
            i += 1
    return found
