"""Publication dates in the forms the corpora write them."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d-%b-%Y %H:%M:%S.%f",
    "%d-%b-%Y %H:%M:%S",
    "%d-%b-%Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%A, %B %d, %Y",
    "%A, %d %B %Y",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日",
)
_GLUED_LETTERS = re.compile(r"(?<=:\d\d\.\d\d)[A-Z][A-Z ]*$")
_MAX_DATE_LINE = 40  # a longer line that starts with a date is a dateline with text, kept


def parse_date(text: str) -> datetime | None:
    """Parse a date in one of the corpora's forms to a naive datetime, else None.

    A time zone is dropped, keeping the local time as written: the other sources give local
    times without a zone, and a date filter should see the day the article was dated.

    >>> parse_date("2023年5月11日 09:30")
    datetime.datetime(2023, 5, 11, 9, 30)
    >>> parse_date("Thu, 11 May 2023 09:30:00 +0800")
    datetime.datetime(2023, 5, 11, 9, 30)
    >>> parse_date("last Thursday") is None
    True
    """
    text = " ".join(text.split()).rstrip("/.,")
    if not any(char.isdigit() for char in text):
        return None
    # Reuters-21578 glues SGML residue to some times: "…15:01:01.79RM", "…02:17:09.88T C".
    text = _GLUED_LETTERS.sub("", text)
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        pass
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text).replace(tzinfo=None)
    except (TypeError, ValueError, IndexError):
        return None


def date_line(line: str) -> datetime | None:
    """Return the date of a line that is only a date (a dateline), else None.

    >>> date_line("2019-01-04")
    datetime.datetime(2019, 1, 4, 0, 0)
    >>> date_line("2019-01-04 The building collapsed in the night, killing 39 people.") is None
    True
    """
    return parse_date(line) if len(line) <= _MAX_DATE_LINE else None
