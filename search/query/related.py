"""Related articles: the articles most like one article, as Lucene's MoreLikeThis finds them.

The article's own words are weighted by tf·idf (its frequency in the article, a title's word
counting ``title_weight`` times, by Lucene's classic idf ``1 + ln(N / (df + 1))``), keeping the
words of ``min_term_freq`` occurrences or more that other articles have too but not too many
(``min_doc_freq``, ``max_doc_share``); the ``words`` best make one query, each boosted by its
weight over the best one's (``香港^1 OR 合作^0.62 OR …``), which is searched through the one
search function like any other query (proximity and question feedback left out: the words are
not a sentence). The article itself is left out of what it finds, and so are copies: a hit
whose title and body share ``copy_overlap`` or more of their trigrams (Jaccard; a token is a
Chinese character, an English word or a number) with the article or with a hit listed before
it, as wire copy reprinted by another source does. The 70 % was chosen on zh-news (README).
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from dataclasses import dataclass, replace

from whoosh.searching import Searcher

from search.analysis import HAN, HAN_CHAR, fold
from search.errors import ArticleNotFound, NotServedByRay, QueryError
from search.index import QiaoIndex
from search.options import MAX_PER_PAGE, SearchOptions
from search.query.results import Hit
from search.query.search import search
from search.ranking import RANKING
from search.shards import RemoteShards

WORD_FIELDS = ("title", "body")
DEFAULT_LIMIT = 5
MAX_LIMIT = 20
_SHINGLE_TOKEN = re.compile(rf"[{HAN}]|[^\W_]+")  # a Chinese character, or a word of another script
# The words found are one query, not a sentence: no proximity bonus, no feedback round.
RELATED_RANKING = replace(RANKING, proximity_weight=0.0, feedback_docs=0)


@dataclass(frozen=True)
class MoreLikeThis:
    """Which of an article's words make its query, and what counts as a copy of it."""

    words: int = 20  # the query's words (Lucene's maxQueryTerms is 25; news articles are short)
    min_term_freq: int = 2  # in the article (Lucene's default)
    min_doc_freq: int = 2  # articles with the word, this one included: another must have it
    max_doc_share: float = 0.1  # a word in more of the articles does not tell this one apart
    min_latin_length: int = 3  # letters of an English word (Chinese words: 2 characters)
    title_weight: int = 2  # a title's word counts this many times
    copy_overlap: float = 0.7  # Jaccard of trigrams (``_shingles``) from which an article is a copy
    extra_hits: int = 10  # hits asked for beyond the limit, for the article itself and its copies


MORE_LIKE_THIS = MoreLikeThis()


@dataclass(frozen=True)
class Related:
    """The articles like one article, best first, and the query that found them."""

    id: str
    query: str
    hits: tuple[Hit, ...]
    processing_time_ms: int

    def to_dict(self) -> dict[str, object]:
        """As ``GET /api/articles/<id>/related`` returns it."""
        return {
            "ok": True,
            "id": self.id,
            "query": self.query,
            "hits": [h.to_dict() for h in self.hits],
            "processing_time_ms": self.processing_time_ms,
        }


def related(index: QiaoIndex, article_id: str, *, limit: int = DEFAULT_LIMIT, rule: MoreLikeThis = MORE_LIKE_THIS) -> Related:
    """The ``limit`` articles most like the article ``article_id``, without it and its copies.

    ArticleNotFound for an unknown id; a QueryError for a ``limit`` outside 1 to MAX_LIMIT.
    An article without distinctive words (too short, or only common words) has none.
    """
    started = time.perf_counter()
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be from 1 to {MAX_LIMIT}, not {limit}")
    searcher = index.searcher()
    if isinstance(searcher, RemoteShards):
        raise NotServedByRay("related articles are not served through Ray shard actors yet")
    stored = searcher.document(id=article_id)
    if stored is None:
        raise ArticleNotFound(f"no article with id {article_id!r}")
    weighted = distinctive_words(searcher, stored, rule)
    if not weighted:
        return Related(article_id, "", (), _ms(started))
    best = weighted[0][1]
    query = " OR ".join(f"{word}^{weight / best:.2f}" for word, weight in weighted)
    # Every article (collapse off): the copies are left out below, of the article itself too.
    options = SearchOptions(q=query, per_page=min(MAX_PER_PAGE, limit + rule.extra_hits), collapse=False)
    found = search(index, options, ranking=RELATED_RANKING).hits
    seen = [_shingles(stored)]  # the article's, then each hit's kept: a copy of any is left out
    hits = []
    for hit in found:
        if hit.id == article_id:
            continue
        trigrams = _shingles(searcher.document(id=hit.id) or {})
        if any(_overlap(trigrams, other) >= rule.copy_overlap for other in seen):
            continue
        hits.append(hit)
        seen.append(trigrams)
        if len(hits) == limit:
            break
    return Related(article_id, query, tuple(hits), _ms(started))


def distinctive_words(searcher: Searcher, stored: dict[str, object], rule: MoreLikeThis = MORE_LIKE_THIS) -> list[tuple[str, float]]:
    """An article's ``rule.words`` most distinctive words by tf·idf, best first: (word as folded
    text, weight). Each is the form of the word in the article that the query analyzer reads
    as the indexed term."""
    analyzer = searcher.schema["body"].analyzer
    counts: Counter[str] = Counter()
    spelled: dict[str, str] = {}
    for name in WORD_FIELDS:
        text = fold(str(stored.get(name, ""))).text
        weight = rule.title_weight if name == "title" else 1
        for token in analyzer(text, chars=True, mode="index"):
            word = text[token.startchar : token.endchar]
            if _is_candidate(word, rule):
                counts[token.text] += weight
                spelled.setdefault(token.text, word)
    total = searcher.doc_count()
    weighted = []
    for term, tf in counts.items():
        if tf < rule.min_term_freq:
            continue
        df = max(searcher.doc_frequency(name, term) for name in WORD_FIELDS)
        if df < rule.min_doc_freq or df > rule.max_doc_share * total:
            continue
        weighted.append((spelled[term], tf * (1 + math.log(total / (df + 1)))))
    weighted.sort(key=lambda w: (-w[1], w[0]))
    return weighted[: rule.words]


def _is_candidate(word: str, rule: MoreLikeThis) -> bool:
    """Whether a word of the article may be one of its distinctive words: a Chinese word of two
    characters or more, or an English word (not a number) of ``rule.min_latin_length`` letters."""
    if HAN_CHAR.search(word):
        return len(word) >= 2
    return len(word) >= rule.min_latin_length and word.isalpha()


def _shingles(stored: dict[str, object]) -> set[tuple[str, ...]]:
    """The trigrams of an article's folded title and body, a Chinese character or another word
    a token; spaces and punctuation left out. (Letter trigrams would not do for English: two
    long English articles share half of them whatever they are about.)"""
    tokens = _SHINGLE_TOKEN.findall(fold(f"{stored.get('title', '')} {stored.get('body', '')}").text)
    return set(zip(tokens, tokens[1:], tokens[2:]))


def _overlap(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    """The Jaccard similarity of two sets (0 for two empty ones)."""
    return len(a & b) / len(a | b) if a or b else 0.0


def _ms(started: float) -> int:
    """Milliseconds since ``started``."""
    return round((time.perf_counter() - started) * 1000)
