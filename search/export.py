"""A page of search results as CSV or JSON Lines: what `qiao search --format csv|jsonl` prints and
`GET /api/search.csv` and `/api/search.jsonl` answer, for researchers.

Both hold the hits of the page asked for (``page`` and ``per_page``, at most 100 a page, as the
JSON does), in their order. CSV has a header row and one row a hit, UTF-8 with a byte order
mark, so Excel reads its Chinese as UTF-8; tags are joined by commas inside their cell and the
body's best sentences (``snippet``) are plain text. A JSON Lines row is a hit exactly as in the
JSON's ``hits``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re

from search.query.results import Hit, SearchResult

FORMATS = ("text", "json", "csv", "jsonl")  # how `qiao search` prints a result
CSV_FIELDS = ("id", "title", "url", "published", "source", "category", "lang", "author", "tags", "score",
              "partial", "snippet")
BOM = "\ufeff"
_MARKS = re.compile(r"</?mark>")


def plain(highlight: str) -> str:
    """A highlight's text without its marks, its entities decoded.

    >>> plain("银行&amp;<mark>保险</mark>")
    '银行&保险'
    """
    return html.unescape(_MARKS.sub("", highlight))


def csv_row(hit: Hit) -> dict[str, object]:
    """One hit as a CSV row: the fields of CSV_FIELDS, tags joined by commas, the snippet plain."""
    return {
        "id": hit.id, "title": hit.title, "url": hit.url, "published": hit.published or "",
        "source": hit.source, "category": hit.category, "lang": hit.lang, "author": hit.author,
        "tags": ",".join(hit.tags), "score": hit.score, "partial": str(hit.partial).lower(),
        "snippet": plain(hit.highlights.get("body", "")),
    }


def to_csv(result: SearchResult) -> str:
    """The hits of a result as CSV: a byte order mark, the header, a row a hit (CRLF line ends, RFC 4180)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(csv_row(hit) for hit in result.hits)
    return out.getvalue()


def to_jsonl(result: SearchResult) -> str:
    """The hits of a result as JSON Lines: each hit's JSON object on a line of its own."""
    return "".join(json.dumps(hit.to_dict(), ensure_ascii=False) + "\n" for hit in result.hits)
