"""One story once: near-duplicate articles found when they are indexed, grouped into stories.

Wire copy is published many times (zh-news carries one report on 中国新闻网, 新浪 and 搜狐 with
another header line). Each article's text (its body, or its title when it has none) is folded
as queries are (search.analysis.fold: NFKC, lower case, Traditional to Simplified), stripped to
its letters, digits and Han characters, and cut into character shingles of SHINGLE characters.
Their MinHash signature (datasketch, NUM_PERM permutations) estimates the Jaccard similarity of
two articles' shingle sets; locality-sensitive hashing (datasketch's MinHashLSH bands) finds the
candidates without comparing every pair.

An article joins the story of the most similar earlier article whose estimated similarity is at
least THRESHOLD (ties: the smallest story id); otherwise it starts a story of its own, whose id
is the article's id. "Earlier" is input order within a build, and anything already indexed for
``add``, ``watch`` and ``POST /api/articles``: their candidates are looked up by the band keys
every article stores in the index (the field ``bands``), in every shard, so the story never
depends on the shard an article lives in. THRESHOLD was chosen by reading pairs of the first
10,000 zh-news articles and checked on the last 10,000 (bench/dedup.py, README "Performance").
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from search.analysis import fold_text
from search.articles import Article

SHINGLE = 5  # characters a shingle
NUM_PERM = 128  # MinHash permutations: a similarity estimate within about ±0.04 at 0.7
THRESHOLD = 0.7  # estimated Jaccard similarity from which two articles are one story
MIN_SHINGLES = 50  # a text with fewer shingles (under about 55 characters) is a story of its own
SEED = 1  # the MinHash permutations' seed: band keys in an index depend on it
SCHEME = "affine32"  # datasketch's: 32-bit values (ours), mixed by MurmurHash3's finaliser, then permuted
_KEPT = re.compile(r"\w+")  # letters, digits and Han characters of folded text
_MULTIPLIER = np.uint32(0x01000193)  # FNV-1's prime: a shingle's code points hashed as a polynomial mod 2**32


@dataclass(frozen=True)
class Story:
    """The story an article belongs to (the id of its first article) and its LSH band keys."""

    id: str
    bands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Indexed:
    """An article already in the index, found by a band key: its id, its text and its story."""

    id: str
    text: str
    story: str


def story_text(title: str, body: str) -> str:
    """The text an article's story is told from: its body, or its title when it has no body."""
    return body if body.strip() else title


def signature(text: str) -> MinHash | None:
    """The MinHash of the text's shingles; None for a text too short to compare.

    >>> a = signature("中新网3月30日电据外媒报道，迪拜世博会指导委员会发布声明称，由于新冠肺炎疫情在全球蔓延，2020年迪拜世博会将考虑推迟一年举行。")
    >>> b = signature("新浪3月30日电据外媒报道，迪拜世博会指导委员会发布声明称，由于新冠肺炎疫情在全球蔓延，2020年迪拜世博会将考虑推迟一年举行。")
    >>> round(a.jaccard(b), 1), signature("太短") is None
    (0.9, True)
    """
    kept = "".join(_KEPT.findall(fold_text(text)))
    codes = np.frombuffer(kept.encode("utf-32-le"), np.uint32)
    count = len(codes) - SHINGLE + 1
    if count < MIN_SHINGLES:
        return None
    hashes = np.zeros(count, np.uint32)
    for offset in range(SHINGLE):  # each shingle of SHINGLE characters as one 32-bit number
        hashes = hashes * _MULTIPLIER + codes[offset : offset + count]
    shingles = np.unique(hashes)
    if len(shingles) < MIN_SHINGLES:
        return None
    sig = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=int, permutations=_permutations(), scheme=SCHEME)
    sig.update_batch(shingles)
    return sig


@functools.cache
def _permutations() -> object:
    """datasketch's permutations for NUM_PERM and SEED, made once (a MinHash makes them anew each time)."""
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


@functools.cache
def _bands() -> list[tuple[int, int]]:
    """The (start, end) of each LSH band of a signature, as datasketch's MinHashLSH chooses them for THRESHOLD."""
    return MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM).hashranges


def band_keys(sig: MinHash) -> tuple[str, ...]:
    """One key a band: two articles with an equal key are candidates (as in MinHashLSH's buckets)."""
    values = sig.hashvalues
    return tuple(
        f"{n:02d}{hashlib.blake2b(values[start:end].tobytes(), digest_size=8).hexdigest()}"
        for n, (start, end) in enumerate(_bands())
    )


class Stories:
    """Gives each article its story, in the order they are given: a build's input order, or an
    add's, after what the index holds (``indexed``: the indexed articles with any of some band keys)."""

    def __init__(self, indexed: Callable[[Iterable[str]], Iterable[Indexed]] = lambda keys: ()) -> None:
        self._indexed = indexed
        self._lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        self._seen: dict[str, tuple[MinHash, str]] = {}  # id: signature, story

    def story(self, article: Article, *, new: str | None = None) -> Story:
        """The story of ``article``: the most similar earlier article's, or a new one, whose id is
        ``new`` (default: the article's id; an updated article's other copies keep that one)."""
        new = new or article.id
        sig = signature(story_text(article.title, article.body))
        if sig is None:
            return Story(new)
        keys = band_keys(sig)
        candidates = [(other, *self._seen[other]) for other in self._lsh.query(sig) if other != article.id]
        for found in self._indexed(keys):
            if found.id != article.id and found.id not in self._seen and (other := signature(found.text)):
                candidates.append((found.id, other, found.story))
        similar = [(sig.jaccard(other), story) for _, other, story in candidates]
        best = min((s for s in similar if s[0] >= THRESHOLD), key=lambda s: (-s[0], s[1]), default=None)
        story = best[1] if best else new
        if article.id not in self._seen:  # an id given twice keeps its first place
            self._lsh.insert(article.id, sig)
        self._seen[article.id] = (sig, story)
        return Story(story, keys)

