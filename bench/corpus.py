"""The datasets every engine reads: the first lines of each corpus, and the records the peers index."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATE_REUTERS = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})")
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


def record_date(value: object) -> dt.datetime | None:
    """The day of a zh-news (2020-3-30 23:37:00) or Reuters (26-FEB-1987 15:01:01.79) date."""
    text = str(value or "")
    try:
        if m := _DATE_ISO.search(text):
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]))
        if (m := _DATE_REUTERS.search(text)) and m[2].lower() in _MONTHS:
            return dt.datetime(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    except ValueError:
        return None
    return None


def read_records(path: Path, lang: str) -> Iterator[dict[str, object]]:
    """The peers' view of a JSONL line: id, title, body and the fields their filters use."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            r = json.loads(line)
            yield {
                "id": str(r.get("id") or r.get("url") or n),
                "title": r.get("title") or "",
                "body": r.get("body") or r.get("content") or r.get("text") or "",
                "category": r.get("category") or "",
                "source": r.get("source") or "",
                "lang": lang,
                "published": record_date(r.get("published") or r.get("date")),
            }


def text_bytes(path: Path) -> tuple[int, int]:
    """(records, UTF-8 bytes of title + body) of a JSONL file: the input size of every engine."""
    n = size = 0
    for r in read_records(path, ""):
        n += 1
        size += len(str(r["title"]).encode()) + len(str(r["body"]).encode())
    return n, size


def prepare(corpora: Path, data: Path, zh_small: int, zh_large: int, en: int) -> dict[str, dict]:
    """The datasets: the first lines of each corpus, as the JSONL files every engine reads."""
    plan = {
        f"zh-{_k(zh_small)}": ("zh-news.jsonl", zh_small, "zh"),
        f"zh-{_k(zh_large)}": ("zh-news.jsonl", zh_large, "zh"),
        f"en-reuters-{_k(en)}": ("en-reuters.jsonl", en, "en"),
    }
    datasets = {}
    data.mkdir(parents=True, exist_ok=True)
    for name, (file, limit, lang) in plan.items():
        source = corpora / file
        if not source.is_file():
            raise SystemExit(f"no corpus at {source}; pass --corpora DIR")
        path = _first_lines(source, data / f"{name}.jsonl", limit)
        records, size = text_bytes(path)
        if records < limit:  # the whole corpus: name it so
            name = file.removesuffix(".jsonl")
            path = path.rename(data / f"{name}.jsonl")
        datasets[name] = {"path": str(path), "lang": lang, "corpus": file, "records": records, "text_bytes": size}
    return datasets


def _first_lines(source: Path, path: Path, limit: int) -> Path:
    """The first ``limit`` lines of ``source``, written to ``path``."""
    with open(source, encoding="utf-8") as f, open(path, "w", encoding="utf-8") as out:
        for n, line in enumerate(f):
            if n >= limit:
                break
            out.write(line)
    return path


def _k(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)
