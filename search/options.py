"""What a search is asked for, in one type: the query and its options, validated once.

The CLI's options, the web's URL parameters, the OpenAPI parameters, the result cache's key and
the benchmark are all read off ``SearchOptions``: each field carries an ``Option`` (its URL
name, its command-line flag, its help and its JSON schema), so a new option is added here and
nowhere else.

>>> SearchOptions(q="香港", sort="DATE").sort
'date'
>>> SearchOptions.from_params({"q": "Hong Kong", "per_page": "20", "from": "2023-05"}).to_params()
{'q': 'Hong Kong', 'per_page': '20', 'from': '2023-05'}
>>> SearchOptions(page=0)
Traceback (most recent call last):
search.errors.QueryError: page must be 1 or more, not 0
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from datetime import time as dtime
from typing import Any

from search.errors import QueryError

MAX_PER_PAGE = 100
MAX_QUERY_CHARS = 2000
SORTS = ("relevance", "relevance_recent", "date", "date_asc")
DATE_SORTS = ("date", "date_asc")  # by date: newest first, oldest first (undated articles last in both)
SWITCH = {"on": True, "off": False}  # the URL values of a yes-or-no option
FILTERS = ("lang", "source", "category", "author", "tags")  # the options that are field filters
LANGS = {"zh": ("zh-Hans", "zh-Hant"), "zh-hans": ("zh-Hans",), "zh-hant": ("zh-Hant",), "en": ("en",)}
_INTEGER = re.compile(r"[+-]?\d{1,9}")
_DATE_HELP = "YYYY-MM-DD, YYYY-MM or YYYY"
_QUERY_HELP = (
    'The query: words (all must match, else any), "phrases", -exclusions, OR, AND (all, never any), '
    'word^N and "phrase"^N boosts, title:/source:/category:/lang:/author:/tags: prefixes; dates in words '
    "(2023年10月, 去年, 上周, May 2023, last week) filter by date instead of matching as words. Empty or "
    "without words to rank by, with a filter: the matching articles, newest first (oldest with "
    "sort=date_asc); empty without a filter: no hits."
)


@dataclass(frozen=True)
class Option:
    """How one search option is named and described outside Python."""

    url: str  # the URL parameter (API and page)
    flag: str | None  # the CLI's option; None: the CLI takes it as its argument
    help: str
    schema: dict[str, Any]


def _option(default: Any, url: str, flag: str | None, help: str, schema: dict[str, Any]) -> Any:
    return field(default=default, metadata={"option": Option(url, flag, help, schema)})


_STRING = {"type": "string"}


@dataclass(frozen=True)
class SearchOptions:
    """One search: the query text, the page wanted and the filters."""

    q: str = _option("", "q", None, _QUERY_HELP, _STRING)
    page: int = _option(1, "page", "--page", "Page number; past the last page of the hits an error, unless "
                        "there are no hits.", {"type": "integer", "minimum": 1, "default": 1})
    per_page: int = _option(10, "per_page", "--limit", f"Hits per page (at most {MAX_PER_PAGE}).",
                            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 10})
    lang: str | None = _option(None, "lang", "--lang", "zh, zh-Hans, zh-Hant or en, in any case.", _STRING)
    source: str | None = _option(None, "source", "--source", "Exact source, e.g. 中国新闻网.", _STRING)
    category: str | None = _option(None, "category", "--category", "Exact category.", _STRING)
    author: str | None = _option(None, "author", "--author", "Author (a name, or one word of an English "
                                 "name), in any case or script: 韩旭尔 finds 韓旭爾.", _STRING)
    tags: str | None = _option(None, "tags", "--tag", "A tag, in any case or script: 头条要闻 finds 頭條要聞.",
                               _STRING)
    date_from: str | None = _option(None, "from", "--from", f"Earliest date: {_DATE_HELP}.", _STRING)
    date_to: str | None = _option(None, "to", "--to", f"Latest date, inclusive: {_DATE_HELP}.", _STRING)
    sort: str = _option("relevance", "sort", "--sort", "relevance; relevance_recent (relevance, newer articles "
                        "first among near-ties: a score within 5 % of another's); date (newest first); date_asc "
                        "(oldest first). In any case.", {"enum": list(SORTS), "default": "relevance"})
    collapse: bool = _option(True, "collapse", "--collapse/--no-collapse",
                             "on: one hit a story, its near-duplicate reports listed under it as similar "
                             "(total_hits counts stories); off: every article.",
                             {"enum": list(SWITCH), "default": "on"})
    xlang: bool = _option(True, "xlang", "--xlang/--no-xlang", "Cross-language search: on (the default) also "
                          "finds the articles of the other language through the query's translations, when "
                          "the query is in one language and the index has both; off turns it off.",
                          {"enum": list(SWITCH), "default": "on"})

    def __post_init__(self) -> None:
        if self.page < 1:
            raise QueryError(f"page must be 1 or more, not {self.page}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}, not {self.per_page}")
        if self.sort.lower() not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}")
        object.__setattr__(self, "sort", self.sort.lower())
        if len(self.q) > MAX_QUERY_CHARS:
            raise QueryError(f"the query is {len(self.q)} characters long; the limit is {MAX_QUERY_CHARS}")
        start, end = self.dates
        if start and end and start > end:
            raise QueryError(f"from ({self.date_from}) is after to ({self.date_to})")

    @property
    def dates(self) -> tuple[datetime | None, datetime | None]:
        """The first and the last moment of the date range (None where open)."""
        start = parse_date(self.date_from, "from", end=False) if self.date_from else None
        end = parse_date(self.date_to, "to", end=True) if self.date_to else None
        return start, end

    @property
    def filters(self) -> dict[str, str]:
        """The field filters given: lang, source, category, author and tags."""
        return {name: value for name in FILTERS if (value := getattr(self, name))}

    @property
    def narrowed(self) -> bool:
        """Whether a filter or a date bound is given: then even an empty query lists articles."""
        return bool(self.filters or self.date_from or self.date_to)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> SearchOptions:
        """The options of URL parameters; empty ones are left out, whole numbers parsed strictly."""
        given: dict[str, Any] = {}
        for f, option in _options():
            value = params.get(option.url, "")
            value = value if f.name == "q" else value.strip()
            if not value:
                continue
            if f.type == "bool":
                if value.lower() not in SWITCH:
                    raise QueryError(f"{option.url} must be on or off, not {value!r}")
                given[f.name] = SWITCH[value.lower()]
            elif option.schema.get("type") == "integer":
                if not _INTEGER.fullmatch(value):
                    raise QueryError(f"{option.url} must be a whole number, not {value!r}")
                given[f.name] = int(value)
            else:
                given[f.name] = value
        return cls(**given)

    def to_params(self) -> dict[str, str]:
        """The URL parameters of these options, those at their default left out."""
        return {option.url: _param(value) for f, option in _options()
                if (value := getattr(self, f.name)) != f.default and value is not None}

    def key(self) -> tuple[tuple[str, str], ...]:
        """A hashable key: equal for two searches that must give the same result."""
        return tuple(sorted(self.to_params().items()))


def _param(value: object) -> str:
    """An option's value as a URL parameter: a yes-or-no as on or off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def integer_param(params: Mapping[str, str], name: str, default: int) -> int:
    """A whole-number URL parameter, parsed as strictly as SearchOptions' (``default`` when empty).

    >>> integer_param({"limit": "5"}, "limit", 8), integer_param({}, "limit", 8)
    (5, 8)
    """
    value = params.get(name, "").strip()
    if not value:
        return default
    if not _INTEGER.fullmatch(value):
        raise QueryError(f"{name} must be a whole number, not {value!r}")
    return int(value)


def _options() -> Iterator[tuple[Any, Option]]:
    """Each field of SearchOptions with its Option."""
    for f in fields(SearchOptions):
        yield f, f.metadata["option"]


def options() -> list[tuple[str, Option]]:
    """(field name, Option) of every search option, in order: what the CLI and OpenAPI list."""
    return [(f.name, option) for f, option in _options()]


def lang_value(value: str) -> str:
    """A lang filter's value as Qiao spells it (EN -> en, ZH-HANT -> zh-Hant); an unknown one as given."""
    langs = LANGS.get(value.lower())
    if langs is None:
        return value
    return langs[0] if len(langs) == 1 else value.lower()


def parse_date(value: str, name: str, end: bool) -> datetime:
    """A from/to bound: YYYY-MM-DD, YYYY-MM or YYYY; ``to`` includes its whole day, month or year."""
    v = value.strip()
    try:
        if re.fullmatch(r"\d{4}", v):
            d = date(int(v), 12 if end else 1, 31 if end else 1)
        elif re.fullmatch(r"\d{4}-\d{1,2}", v):
            y, m = map(int, v.split("-"))
            d = date(y, m, calendar.monthrange(y, m)[1] if end else 1)
        else:
            d = date.fromisoformat(v)
    except ValueError:
        raise QueryError(f"{name} must be a date like 2023-05-11, not {value!r}") from None
    return datetime.combine(d, dtime.max if end else dtime.min)
