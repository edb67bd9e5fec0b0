#!/usr/bin/env python3
"""Build the demo sample corpus in seeds/ from the real corpora, keeping their original formats.

Usage: python scripts/make_seeds.py [CORPORA] [OUT]
(defaults: ../shared/corpora and seeds/, both relative to the repository root).

Every selected line or file is copied byte for byte; nothing is parsed and re-serialised.
The selection is deterministic: a fixed random seed, sorted inputs, original line order kept.
The hand-written seeds/README.md and the project's seed article are never touched.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import json
import math
import random
import re
import shutil
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

SEED = 20230511  # the date of the project's seed article
REPO = Path(__file__).resolve().parents[1]
PROTECTED = "chongqing-hong-kong-2023-05-11.txt"

ZH_NEWS_TOTAL = 300
ZH_NEWS_TERMS = ("人民银行", "香港", "5G", "罗塞夫")
ZH_NEWS_MIN_PER_TERM = 5
ZH_NEWS_MAX_LINE_BYTES = 20_000
ZH_NEWS_MIN_BODY_CHARS = 50

APPLE_TOTAL = 100
APPLE_TERMS = ("醫藥費",)
APPLE_MIN_PER_TERM = 5

BBC_PER_CATEGORY = 30

# The only names the script writes inside the output folder.
OUT_ZH_NEWS = "zh-news.jsonl"
OUT_APPLE = "zh-hant-appledaily"
OUT_BBC = "en-bbc"
OUT_WIKINEWS = "en-wikinews"

Stratum = tuple[str, ...]


def allocate(sizes: Mapping[Stratum, int], total: int, minimum: Mapping[Stratum, int]) -> dict[Stratum, int]:
    """Split total over strata: each gets its minimum, the rest by square root of size (largest remainder)."""
    quota = {s: min(minimum.get(s, 0), n) for s, n in sizes.items()}
    left = total - sum(quota.values())
    while left > 0:
        open_ = [s for s in sorted(sizes) if quota[s] < sizes[s]]
        if not open_:
            break
        weight = {s: math.sqrt(sizes[s]) for s in open_}
        scale = left / sum(weight.values())
        share = {s: min(weight[s] * scale, sizes[s] - quota[s]) for s in open_}
        whole = {s: int(share[s]) for s in open_}
        if sum(whole.values()) == 0:
            # Hand out the last few one by one, largest fractional share first.
            for s in sorted(open_, key=lambda s: (-share[s], s))[:left]:
                whole[s] = 1
        for s in open_:
            quota[s] += whole[s]
        left = total - sum(quota.values())
    return quota


def allocate_nested(sizes: Mapping[Stratum, int], total: int, minimum: Mapping[Stratum, int]) -> dict[Stratum, int]:
    """Allocate level by level: over the first key part (e.g. source), then within each group over the rest."""
    if all(len(s) <= 1 for s in sizes):
        return allocate(sizes, total, minimum)
    groups: dict[Stratum, dict[Stratum, int]] = defaultdict(dict)
    for s, n in sizes.items():
        groups[s[:1]][s[1:]] = n
    group_sizes = {g: sum(sub.values()) for g, sub in groups.items()}
    group_min = {g: sum(min(minimum.get(g + s, 0), n) for s, n in sub.items()) for g, sub in groups.items()}
    group_quota = allocate(group_sizes, total, group_min)
    quota: dict[Stratum, int] = {}
    for g, sub in groups.items():
        sub_min = {s: minimum.get(g + s, 0) for s in sub}
        for s, q in allocate_nested(sub, group_quota[g], sub_min).items():
            quota[g + s] = q
    return quota


def stratified_sample(
    items: list[int],
    stratum_of: Callable[[int], Stratum],
    total: int,
    required: Iterable[int],
    rng: random.Random,
) -> list[int]:
    """Pick total item indices across nested strata, always keeping the required ones; returns them sorted."""
    by_stratum: dict[Stratum, list[int]] = defaultdict(list)
    for i in items:
        by_stratum[stratum_of(i)].append(i)
    must: dict[Stratum, set[int]] = defaultdict(set)
    for i in required:
        must[stratum_of(i)].add(i)
    sizes = {s: len(v) for s, v in by_stratum.items()}
    minimum = {s: max(1, len(must[s])) for s in by_stratum}
    quota = allocate_nested(sizes, total, minimum)
    chosen: list[int] = []
    for s in sorted(by_stratum):
        kept = sorted(must[s])
        rest = [i for i in by_stratum[s] if i not in must[s]]
        chosen += kept + rng.sample(rest, max(0, quota[s] - len(kept)))
    return sorted(chosen)


def pick_required(
    candidates: list[int], texts: Mapping[int, str], terms: Iterable[str], per_term: int, rng: random.Random
) -> list[int]:
    """Choose up to per_term items for each demo term, at random among those whose text contains it."""
    picked: list[int] = []
    for term in terms:
        having = [i for i in candidates if term in texts[i]]
        picked += rng.sample(having, min(per_term, len(having)))
    return sorted(set(picked))


def year_of(published: str) -> str:
    """Return the four-digit year of a crawled date like `2020-3-30 23:37:00`."""
    return published.strip()[:4]


def read_zh_news(path: Path) -> list[bytes]:
    """Read the JSONL corpus as raw lines, each ending in its newline."""
    with path.open("rb") as f:
        return f.readlines()


def zh_news_eligible(lines: list[bytes]) -> tuple[list[int], dict[int, dict[str, str]]]:
    """Return indices of usable lines (first copy of each URL and body, not empty, not huge) and their records."""
    seen: set[str] = set()
    keep: list[int] = []
    records: dict[int, dict[str, str]] = {}
    for i, raw in enumerate(lines):
        rec = json.loads(raw)
        body = rec.get("body", "")
        keys = {"url:" + rec["url"], "body:" + hashlib.sha1(body.encode()).hexdigest()}
        if keys & seen:
            continue
        seen |= keys
        if len(raw) > ZH_NEWS_MAX_LINE_BYTES or len(body.strip()) < ZH_NEWS_MIN_BODY_CHARS:
            continue
        keep.append(i)
        records[i] = rec
    return keep, records


def sample_zh_news(corpora: Path, out: Path, rng: random.Random) -> dict[str, int]:
    """Write about 300 stratified lines of zh-news.jsonl, byte-identical and in original order."""
    lines = read_zh_news(corpora / "zh-news.jsonl")
    keep, records = zh_news_eligible(lines)
    texts = {i: records[i]["title"] + "\n" + records[i]["body"] for i in keep}

    def stratum(i: int) -> Stratum:
        rec = records[i]
        return (rec["source"], year_of(rec["published"]), rec.get("category") or "")

    required = pick_required(keep, texts, ZH_NEWS_TERMS, ZH_NEWS_MIN_PER_TERM, rng)
    chosen = stratified_sample(keep, stratum, ZH_NEWS_TOTAL, required, rng)
    with (out / OUT_ZH_NEWS).open("wb") as f:
        f.writelines(lines[i] for i in chosen)
    return {term: sum(term in texts[i] for i in chosen) for term in ZH_NEWS_TERMS} | {"lines": len(chosen)}


def apple_page_info(page: bytes) -> tuple[str, str, str]:
    """Return (canonical URL, date from the canonical URL, decoded text) of an Apple Daily page."""
    text = html.unescape(page.decode("utf-8"))
    m = re.search(r'<link rel="canonical" href="([^"]+)"', text)
    url = m.group(1) if m else ""
    d = re.search(r"/(\d{8})/", url)
    if d:
        return url, d.group(1), text
    t = re.search(r"(\d{4})年(\d{2})月(\d{2})日", text)
    return url, "".join(t.groups()) if t else "00000000", text


def sample_appledaily(corpora: Path, out: Path, rng: random.Random) -> dict[str, int]:
    """Copy about 100 Apple Daily HTML pages unchanged, spread evenly over the years."""
    src = corpora / "zh-hant-appledaily-html"
    files = sorted(p for p in src.iterdir() if p.is_file())
    seen: set[str] = set()
    keep: list[int] = []
    dates: dict[int, str] = {}
    texts: dict[int, str] = {}
    for i, p in enumerate(files):
        url, date, text = apple_page_info(p.read_bytes())
        if (url or p.name) in seen:
            continue
        seen.add(url or p.name)
        keep.append(i)
        dates[i], texts[i] = date, text
    required = pick_required(keep, texts, APPLE_TERMS, APPLE_MIN_PER_TERM, rng)
    chosen = stratified_sample(keep, lambda i: (dates[i][:4],), APPLE_TOTAL, required, rng)
    dest = out / OUT_APPLE
    dest.mkdir()
    for i in chosen:
        shutil.copyfile(files[i], dest / files[i].name)
    years: dict[str, int] = defaultdict(int)
    for i in chosen:
        years[dates[i][:4]] += 1
    return {"pages": len(chosen)} | {t: sum(t in texts[i] for i in chosen) for t in APPLE_TERMS} | dict(sorted(years.items()))


def sample_bbc(corpora: Path, out: Path, rng: random.Random) -> dict[str, int]:
    """Copy 30 distinct BBC text files per category folder unchanged, plus the dataset's README.TXT."""
    src = corpora / "en-bbc"
    dest = out / OUT_BBC
    dest.mkdir()
    seen: set[str] = set()
    counts: dict[str, int] = {}
    for category in sorted(p for p in src.iterdir() if p.is_dir()):
        distinct: list[Path] = []
        for p in sorted(category.glob("*.txt")):
            digest = hashlib.sha1(p.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                distinct.append(p)
        chosen = sorted(rng.sample(distinct, min(BBC_PER_CATEGORY, len(distinct))))
        (dest / category.name).mkdir()
        for p in chosen:
            shutil.copyfile(p, dest / category.name / p.name)
        counts[category.name] = len(chosen)
    for extra in sorted(src.glob("README*")):
        shutil.copyfile(extra, dest / extra.name)
    return counts


def copy_wikinews(corpora: Path, out: Path) -> dict[str, int]:
    """Copy the Wikinews CSV files unchanged; returns their row counts."""
    dest = out / OUT_WIKINEWS
    dest.mkdir()
    counts: dict[str, int] = {}
    for p in sorted((corpora / "en-wikinews").glob("*.csv")):
        shutil.copyfile(p, dest / p.name)
        with p.open(newline="", encoding="utf-8") as f:
            counts[p.name] = sum(1 for _ in csv.DictReader(f))
    return counts


def clear_outputs(out: Path) -> None:
    """Remove only this script's previous outputs, never the seed article or the README."""
    for name in (OUT_ZH_NEWS, OUT_APPLE, OUT_BBC, OUT_WIKINEWS):
        assert name != PROTECTED
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def rng_for(part: str) -> random.Random:
    """Return an independent, reproducible random generator for one part of the sample."""
    return random.Random(f"{SEED}:{part}")


def folder_size(path: Path) -> int:
    """Total size in bytes of the files under path."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the corpora and output folders from the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpora", nargs="?", type=Path, default=REPO / "../shared/corpora", help="real corpora folder")
    ap.add_argument("out", nargs="?", type=Path, default=REPO / "seeds", help="output folder (seeds/)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Rebuild the seed sample and print what was written."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    corpora, out = args.corpora.resolve(), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    clear_outputs(out)
    report = {
        "zh-news": sample_zh_news(corpora, out, rng_for("zh-news")),
        "zh-hant-appledaily": sample_appledaily(corpora, out, rng_for("zh-hant-appledaily")),
        "en-bbc": sample_bbc(corpora, out, rng_for("en-bbc")),
        "en-wikinews": copy_wikinews(corpora, out),
    }
    for part, counts in report.items():
        print(f"{part}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    print(f"seeds size: {folder_size(out):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
