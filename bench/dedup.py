"""One story once, measured: what near-duplicate detection (search.stories) finds and costs.

    .venv/bin/python bench/dedup.py --corpus ../shared/corpora/zh-news.jsonl [--repeat N] [--sample N]
    .venv/bin/python bench/dedup.py --corpus ../shared/corpora/zh-news.jsonl --pairs 0.6 0.7 --half first

In one run it prints:

- the build cost: the corpus indexed twice, first with stories replaced by one that gives every
  article a story of its own without reading it (the baseline), then as Qiao builds; articles
  per second of each, and the seconds spent finding stories in the second;
- the clusters: how many stories, how many of them hold two or more articles, their sizes;
- a sample of clustered pairs to check by eye: ``--sample`` articles that joined a story, drawn
  (seed 15) from those after the ``--split``-th article of the input, each printed beside its
  story's first article, with their estimated similarity, sources, titles and first words;
- the query cost of collapsing: each zh query of bench/queries.tsv searched with collapse on
  and off in turn, once untimed and then ``--repeat`` times each; p50 and p95 of both.

``--pairs LO HI`` prints instead a sample of candidate pairs (any two articles that share an
LSH band) whose estimated similarity is in [LO, HI), within the ``--half`` first or last
``--split`` articles: the pairs the threshold was chosen from (first half) and checked on.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from datasketch import MinHashLSH

from bench.queries import load_queries
from search import writing
from search.articles import Article, iter_articles
from search.index import QiaoIndex, build
from search.query.search import search
from search.stories import NUM_PERM, THRESHOLD, Stories, Story, signature, story_text

ROOT = Path(__file__).resolve().parents[1]
SIZES = ((2, 2), (3, 3), (4, 5), (6, 10), (11, 10**9))


class NoStories:
    """The baseline: every article a story of its own, nothing read."""

    def story(self, article: Article) -> Story:
        return Story(article.id)


@contextmanager
def timed_stories(spent: list[float]) -> Iterator[None]:
    """Stories as Qiao finds them, the seconds spent in ``Stories.story`` added to ``spent``."""
    original = Stories.story

    def story(self: Stories, article: Article) -> Story:
        started = time.perf_counter()
        try:
            return original(self, article)
        finally:
            spent[0] += time.perf_counter() - started

    with mock.patch.object(Stories, "story", story):
        yield


def cpu_seconds() -> float:
    """CPU seconds (user and system) of this process and its finished children (the build's writers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def build_cost(corpus: Path, tmp: Path) -> Path:
    """Build the corpus without and with stories; print both rates, by wall and CPU time. The index with stories."""
    cpu = cpu_seconds()
    with mock.patch.object(writing, "Stories", NoStories):
        plain = build([corpus], tmp / "plain")
    plain_cpu, cpu = cpu_seconds() - cpu, cpu_seconds()
    spent = [0.0]
    with timed_stories(spent):
        deduped = build([corpus], tmp / "stories")
    deduped_cpu = cpu_seconds() - cpu
    print(f"build without stories: {plain.indexed} articles in {plain.seconds:.1f} s wall, {plain.per_second:.0f} articles/s; "
          f"{plain_cpu:.1f} s CPU, {plain.indexed / plain_cpu:.0f} articles per CPU second")
    print(f"build with stories:    {deduped.indexed} articles in {deduped.seconds:.1f} s wall, {deduped.per_second:.0f} articles/s "
          f"({deduped.seconds / plain.seconds - 1:+.0%}); {deduped_cpu:.1f} s CPU, "
          f"{deduped.indexed / deduped_cpu:.0f} articles per CPU second ({deduped_cpu / plain_cpu - 1:+.0%}); "
          f"finding stories {spent[0]:.1f} s wall, {spent[0] / deduped.indexed * 1000:.2f} ms an article")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return tmp / "stories"


def articles(corpus: Path) -> list[Article]:
    """The corpus's articles in input order, the first of each id (as a build keeps them)."""
    seen: dict[str, Article] = {}
    for item in iter_articles([corpus]):
        if isinstance(item, Article) and item.id not in seen:
            seen[item.id] = item
    return list(seen.values())


def clusters(index_dir: Path, read: list[Article]) -> dict[str, list[str]]:
    """Each story's article ids, in input order; print how many stories and their sizes."""
    with QiaoIndex(index_dir) as ix:
        searcher = ix.searcher()
        story_of = {f["id"]: f["story"] for f in (searcher.stored_fields(d) for d in range(searcher.doc_count_all()))}
    stories: dict[str, list[str]] = defaultdict(list)
    for article in read:
        stories[story_of[article.id]].append(article.id)
    sizes = Counter(len(ids) for ids in stories.values())
    many = {story: ids for story, ids in stories.items() if len(ids) > 1}
    print(f"stories: {len(stories)} of {len(read)} articles; {len(many)} hold 2 or more "
          f"({sum(len(ids) for ids in many.values())} articles, {sum(len(ids) - 1 for ids in many.values())} collapsed away)")
    print("  sizes: " + ", ".join(
        f"{lo if lo == hi else f'{lo}+' if hi > 100 else f'{lo}-{hi}'}: {sum(n for s, n in sizes.items() if lo <= s <= hi)}"
        for lo, hi in SIZES))
    largest = max(stories.values(), key=len)
    by_id = {a.id: a for a in read}
    print(f"  largest: {len(largest)} articles, e.g. {by_id[largest[0]].title}")
    return stories


def show(n: int, similarity: float, a: Article, b: Article) -> None:
    """A pair of articles, to be read."""
    print(f"{n:>3}. similarity {similarity:.2f}")
    for x in (a, b):
        date = x.published.date().isoformat() if x.published else "-"
        print(f"     {x.source or '-'} {date} | {x.title} | {x.body[:80].replace(chr(10), ' ')}")


def sample(stories: dict[str, list[str]], read: list[Article], split: int, size: int) -> None:
    """Print ``size`` articles after the ``split``-th that joined a story, beside its first article."""
    position = {a.id: n for n, a in enumerate(read)}
    by_id = {a.id: a for a in read}
    joined = [(ids[0], other) for ids in stories.values() for other in ids[1:] if position[other] >= split]
    chosen = sorted(random.Random(15).sample(joined, min(size, len(joined))), key=lambda p: position[p[1]])
    print(f"\n{len(chosen)} of the {len(joined)} articles after the first {split} that joined a story, "
          "beside the story's first article (read them: same story or not?)")
    for n, (first, other) in enumerate(chosen, 1):
        a, b = by_id[first], by_id[other]
        similarity = signature(story_text(a.title, a.body)).jaccard(signature(story_text(b.title, b.body)))  # type: ignore[union-attr]
        show(n, similarity, a, b)


def candidate_pairs(read: list[Article], low: float, high: float, size: int) -> None:
    """Print a sample of candidate pairs of ``read`` with an estimated similarity in [low, high)."""
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    signatures = {}
    pairs = []
    for n, article in enumerate(read):
        sig = signature(story_text(article.title, article.body))
        if sig is None:
            continue
        for other in lsh.query(sig):
            if low <= (similarity := sig.jaccard(signatures[other])) < high:
                pairs.append((similarity, other, n))
        lsh.insert(n, sig)
        signatures[n] = sig
    print(f"{len(pairs)} candidate pairs with an estimated similarity in [{low}, {high})")
    for k, (similarity, i, j) in enumerate(random.Random(7).sample(pairs, min(size, len(pairs))), 1):
        show(k, similarity, read[i], read[j])


def query_cost(index_dir: Path, repeat: int) -> None:
    """p50 and p95 of the zh queries of bench/queries.tsv with collapse on and off, interleaved."""
    queries = [q for q in load_queries(ROOT / "bench" / "queries.tsv") if q["corpus"] == "zh"]
    times: dict[bool, list[float]] = {True: [], False: []}
    with QiaoIndex(index_dir) as ix:
        for query in queries:
            for collapse in (False, True):
                search(ix, query["q"], collapse=collapse, **query["options"])  # type: ignore[arg-type]
            for _ in range(repeat):
                for collapse in (False, True):
                    started = time.perf_counter()
                    search(ix, query["q"], collapse=collapse, **query["options"])  # type: ignore[arg-type]
                    times[collapse].append((time.perf_counter() - started) * 1000)
    for collapse in (False, True):
        ms = sorted(times[collapse])
        print(f"query, collapse {'on ' if collapse else 'off'}: {len(queries)} zh queries x {repeat}: "
              f"p50 {statistics.median(ms):.1f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="a JSONL corpus, e.g. ../shared/corpora/zh-news.jsonl")
    parser.add_argument("--repeat", type=int, default=5, help="timed searches of each query with collapse on and off")
    parser.add_argument("--sample", type=int, default=30, help="clustered pairs printed to be read")
    parser.add_argument("--split", type=int, default=10_000, help="the first half: the articles before this one")
    parser.add_argument("--pairs", type=float, nargs=2, metavar=("LO", "HI"), help="print candidate pairs instead")
    parser.add_argument("--half", choices=("first", "last"), default="first", help="the half --pairs reads")
    args = parser.parse_args()
    read = articles(args.corpus)
    if args.pairs:
        candidate_pairs(read[: args.split] if args.half == "first" else read[args.split :], *args.pairs, args.sample)
        return
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = build_cost(args.corpus, Path(tmp))
        stories = clusters(index_dir, read)
        query_cost(index_dir, args.repeat)
        sample(stories, read, args.split, args.sample)


if __name__ == "__main__":
    main()
