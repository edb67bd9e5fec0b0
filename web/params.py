"""Search parameters from a query string, shared by the API and the search page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from search.errors import QueryError

# URL parameter -> keyword of search.querying.search
OPTIONS = {
    "page": "page", "per_page": "per_page", "lang": "lang", "source": "source",
    "category": "category", "from": "date_from", "to": "date_to", "sort": "sort",
}
INTEGERS = ("page", "per_page")
_INTEGER = re.compile(r"[+-]?\d{1,9}")


def search_options(args: Mapping[str, str]) -> dict[str, Any]:
    """Keyword options for ``search()``; empty parameters are left out, integers parsed strictly."""
    options: dict[str, Any] = {}
    for name, keyword in OPTIONS.items():
        value = args.get(name, "").strip()
        if not value:
            continue
        if name in INTEGERS:
            if not _INTEGER.fullmatch(value):
                raise QueryError(f"{name} must be a whole number, not {value!r}")
            options[keyword] = int(value)
        else:
            options[keyword] = value
    return options
