"""The one search function: query text and options in, a SearchResult out, in named steps.

A search compiles its query, then runs in rounds: ``statistics`` (search.query.statistics:
the document counts, field lengths and word and string frequencies its scores read), ``rank``
(every match scored with them, the top ones kept, totals and facet counts) and ``fetch``
(stored fields and highlights of the page's hits). On one index they run back to back; over
shards, the statistics are summed before ranking, so each shard scores its words as one index
would (search.query.statistics says what does not follow yet).

Words that match nothing together are searched again as any of them (the OR fallback); a
relevance-ranked page short of hits goes on with articles that have some of the words; a
question is ranked by any of its words and then again with words of its best articles.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np
from whoosh import classify
from whoosh import query as wq
from whoosh.searching import Searcher

from search.analysis import has_han
from search.bridge import USER_GLOSSARY, Bridge
from search.errors import ArticleNotFound, QueryError
from search.index import QiaoIndex
from search.matching import TooSlow, WordQuery, evaluate
from search.options import DATE_SORTS, SearchOptions
from search.query.compile import CompiledQuery, compile_query, filter_query
from search.query.dates import DateWords, anchor, read_dates
from search.query.highlight import Highlighter
from search.query.results import Hit, SearchResult, Similar, article_fields
from search.query.statistics import Statistics
from search.query.suggest import suggest
from search.query.syntax import AllOf, AnyOf, Excluded, Node, Phrase, Words, parse
from search.ranking import RANKING, Ranking
from search.schema import FACET_FIELDS
from search.shard_search import (
    ShardedSearcher,
    best_first,
    facets_of,
    gather_statistics,
    rank_shards,
)
from search.shards import RemoteShards
from search.whoosh_glue import date_key, date_range, facet_codes, group_keys, sort_keys

MAX_QUERY_WORDS = 256
SEARCH_SECONDS = 2.0  # a search that runs longer is stopped and answered with a 400
# A query of this many different words or more is a question: ranked by any of its words, then
# again with words from its best articles (pseudo-relevance feedback, search.ranking's).
QUESTION_WORDS = 5
_LETTERS = re.compile("[A-Za-z]")


@dataclass(frozen=True)
class Ranked:
    """What ``rank`` finds: the top (document number, score) pairs, how many match (stories when
    collapsing), facet counts (articles), how many articles match, and the other matches of each
    top story (document numbers, best first) and its story."""

    top: list[tuple[int, float]]
    total: int
    facets: dict[str, dict[str, int]]
    articles: int = 0
    similar: dict[int, tuple[int, ...]] = field(default_factory=dict)
    stories: dict[int, int] = field(default_factory=dict)  # collapsing: each top hit's story key


@dataclass(frozen=True)
class Plan:
    """How one search ranks: its query and restriction, the order, how many hits it needs."""

    query: wq.Query
    restrict: wq.Query | None
    sort: str
    limit: int
    question: bool  # ranked by any word, then with feedback words; not raised by proximity
    collapse: bool = False  # one hit a story (search.stories), its other matches listed under it
    anchor: int | None = None  # sort=relevance_recent: the anchor day as a date sort key, ages count from it


@dataclass(frozen=True)
class Answer:
    """The ranked hits a page is cut from, with the search's totals, facets and fallback note."""

    ranked: Ranked
    fallback: str | None = None
    partial_from: float = math.inf  # the hits from this rank on have only some of the words


def search(
    index: QiaoIndex, q: str | SearchOptions = "", *, ranking: Ranking = RANKING, today: date | None = None,
    **options: object,
) -> SearchResult:
    """Search the index: ranked, highlighted hits of one page, with facet counts.

    ``q`` is the query text with ``options`` the other fields of SearchOptions (``page``,
    ``per_page``, ``lang``, ``source``, ``category``, ``date_from``, ``date_to``, ``sort``), or
    one SearchOptions. Dates in the query's words (search.query.dates) filter by date, with
    from/to if given too (both apply); relative ones are read from ``today`` (default: the
    clock's), or from the newest article's day in an archive. With no words to rank by (an
    empty query with filters, or a query of filters and exclusions), the matching articles are
    listed newest first (oldest first by date_asc). A page past the last one of the hits is a
    QueryError.
    """
    started = time.perf_counter()
    asked = q if isinstance(q, SearchOptions) else SearchOptions(q=q, **options)  # type: ignore[arg-type]
    searcher = index.searcher()
    today = today or date.today()
    dates = read_dates(asked.q, today, lambda: _days(searcher))
    restrict = _restriction(asked, dates)
    tree = parse(dates.without if dates else asked.q)
    bridge = _bridge(index, searcher, tree, asked, ranking)
    compiled = _checked(compile_query(tree, searcher.schema, ranking, bridge=bridge))
    plan = _plan(asked, compiled, restrict, ranking)
    if plan is None:
        return SearchResult(asked.q, asked.page, asked.per_page, 0, _ms(started), (),
                            {name: {} for name in FACET_FIELDS}, None, (), dates=dates, collapsed=asked.collapse)
    if plan.sort == "relevance_recent":
        plan = replace(plan, anchor=_anchor_key(searcher, today))
    stats = gather_statistics(searcher, plan.query)
    answer = _answer(searcher, tree, compiled, stats, plan, ranking, bridge)
    _check_page(answer.ranked.total, asked)
    similar = answer.ranked.similar if asked.collapse else None
    hits = fetch(searcher, _page_of(answer, asked), compiled.highlighter, similar)
    # Shards in other processes have no "did you mean" round yet (docs/scale-out.md).
    suggestion = None if isinstance(searcher, RemoteShards) else suggest(searcher, asked.q, answer.ranked.total, answer.fallback)
    return SearchResult(asked.q, asked.page, asked.per_page, answer.ranked.total, _ms(started), hits,
                        answer.ranked.facets, answer.fallback, compiled.searched_as, suggestion,
                        translations=compiled.translations, dates=dates, total_articles=answer.ranked.articles,
                        collapsed=asked.collapse)


def _bridge(index: QiaoIndex, searcher: Searcher, tree: Node | None, asked: SearchOptions, ranking: Ranking) -> Bridge | None:
    """The bridge of a search (search.bridge), None without one: with ``xlang`` on, Chinese words
    meet their regional variants in an index with Chinese, and in an index of both languages a
    query meets its translations: an English query's words, or a Chinese query's Chinese words
    (its Latin words are mostly names, brands and numbers, written the same in both)."""
    if not asked.xlang or tree is None or isinstance(searcher, RemoteShards):
        return None  # shards in other processes have no lexicon round for the bridge yet (docs/scale-out.md)
    langs = {str(v) for v in facet_codes(searcher, "lang")[0]}
    chinese_index = bool(langs & {"zh-Hans", "zh-Hant"})
    text = " ".join(_texts(tree))
    han, latin = has_han(text), bool(_LETTERS.search(text))
    if not chinese_index or not han and not latin:
        return None
    translate = "en" in langs
    if not translate and not han:
        return None
    segmenter = searcher.schema["body"].analyzer.items[0].segmenter()
    fields = list(ranking.with_parts(ranking.fields))
    return Bridge(searcher, segmenter, fields, translate=translate, chinese_query=han,
                  user_glossary=index.index_dir / USER_GLOSSARY, sources=ranking.translation_sources)


def _texts(node: Node) -> list[str]:
    """The text of the words and phrases of a query tree (filters left out)."""
    if isinstance(node, (Words, Phrase)):
        return [node.text]
    if isinstance(node, Excluded):
        return _texts(node.node)
    if isinstance(node, (AllOf, AnyOf)):
        return [t for n in node.nodes for t in _texts(n)]
    return []


def _days(searcher: Searcher) -> tuple[date, date] | None:
    """The days of the index's oldest and newest articles; None when none has a date."""
    found = searcher.date_range("published") if isinstance(searcher, RemoteShards) else date_range(searcher, "published")
    return None if found is None else (found[0].date(), found[1].date())


def _anchor_key(searcher: Searcher, today: date) -> int:
    """The day sort=relevance_recent counts ages from (search.query.dates.anchor), as a sort key."""
    days = _days(searcher)
    day = anchor(today, days[1] if days else None).day
    return date_key(datetime.combine(day, datetime.min.time()))


def _checked(compiled: CompiledQuery) -> CompiledQuery:
    """The compiled query, unless it has more different words than a search takes (a QueryError)."""
    if len(set(compiled.words)) > MAX_QUERY_WORDS:
        raise QueryError(
            f"the query has {len(set(compiled.words))} different words; the limit is {MAX_QUERY_WORDS}",
            code="query_too_long",
        )
    return compiled


def _plan(
    asked: SearchOptions, compiled: CompiledQuery, restrict: wq.Query | None, ranking: Ranking,
) -> Plan | None:
    """How to rank the search; None when it has nothing to search for and no filter.

    Filters alone list their articles; with no words to rank by, the newest come first. A
    question is ranked by any of its words: few articles have them all, and not the best.
    """
    query = compiled.query
    if query is None and restrict is None:
        return None
    if query is None:
        query, restrict = wq.ConstantScoreQuery(restrict, 0.0), None
    sort = asked.sort if compiled.words or asked.sort in DATE_SORTS else "date"
    question = sort not in DATE_SORTS and compiled.relaxable and len(set(compiled.words)) >= QUESTION_WORDS
    wanted = asked.page * asked.per_page
    limit = max(wanted, ranking.feedback_docs) if question else wanted
    return Plan(query, restrict, sort, limit, question, asked.collapse)


def _restriction(options: SearchOptions, dates: DateWords | None) -> wq.Query | None:
    """The query that results are restricted to: the filters and the date range, the range of
    from/to and that of the query's date words both (their intersection)."""
    parts: list[wq.Query] = [filter_query(name, value) for name, value in options.filters.items()]
    start, end = options.dates
    if dates is not None:
        first, last = dates.bounds
        start = max(start, first) if start and first else start or first
        end = min(end, last) if end and last else end or last
    if start or end:  # (start after end, when from/to and the date words share no day: none)
        parts.append(wq.DateRange("published", start, end))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _answer(
    searcher: Searcher, tree: Node | None, compiled: CompiledQuery, stats: Statistics, plan: Plan, ranking: Ranking,
    bridge: Bridge | None = None,
) -> Answer:
    """Strict first (every word); then, as the query and its matches ask, the OR fallback, the
    continuation with articles that have some of the words, or a question's feedback round.
    The relaxed query has the strict one's words: it scores with the same statistics."""
    strict = rank(searcher, plan, stats, ranking)
    if bridge is not None and compiled.translations and not plan.question and plan.sort not in DATE_SORTS:
        strict = _typed_first(searcher, tree, strict, stats, plan, ranking)
    if not compiled.relaxable:
        return Answer(strict)
    relaxed = replace(plan, query=compile_query(tree, searcher.schema, ranking, relaxed=True, bridge=bridge).query)
    if plan.question:
        answer = _or_fallback(searcher, strict, stats, relaxed, ranking)
        if bridge is not None and bridge.translate and compiled.translations and not ranking.translated_feedback:
            return answer  # its best articles are of both languages: their words would pull one way
        return _with_feedback(searcher, answer, stats, relaxed, ranking)
    if not strict.total:
        return _or_fallback(searcher, strict, stats, relaxed, ranking)
    if plan.sort not in DATE_SORTS and strict.total < plan.limit:
        return _continued(searcher, strict, stats, relaxed, ranking)
    return Answer(strict)


def _typed_first(
    searcher: Searcher, tree: Node | None, bridged: Ranked, stats: Statistics, plan: Plan, ranking: Ranking,
) -> Ranked:
    """The articles with every word as typed first, by their score as typed; then those that need
    a translation or a regional variant for some word (a match in the query's own words ranks
    above a translated one). Totals and facets stay the bridged search's."""
    own_query = compile_query(tree, searcher.schema, ranking).query
    if own_query is None:
        return bridged
    own = rank(searcher, replace(plan, query=own_query), stats, ranking)
    seen = {d for d, _ in own.top}
    rest = [(d, score) for d, score in bridged.top if d not in seen]
    return replace(bridged, top=(own.top + rest)[: plan.limit])


def _or_fallback(searcher: Searcher, strict: Ranked, stats: Statistics, relaxed: Plan, ranking: Ranking) -> Answer:
    """Ranked by any of the words; the fallback is noted when every word found nothing and any did."""
    found = rank(searcher, relaxed, stats, ranking)
    return Answer(found, fallback="or" if found.total and not strict.total else None)


def _continued(searcher: Searcher, strict: Ranked, stats: Statistics, relaxed: Plan, ranking: Ranking) -> Answer:
    """The strict hits, then those with some of the words (totals and facets stay the strict ones')."""
    more = rank(searcher, replace(relaxed, limit=relaxed.limit + strict.total), stats, ranking)
    # Collapsing, a story listed already is not listed again (not collapsing, no hit has a story:
    # each stands for itself).
    seen = {strict.stories.get(d, d) for d, _ in strict.top}
    extra = [(d, score) for d, score in more.top if more.stories.get(d, d) not in seen]
    extra = extra[: relaxed.limit - len(strict.top)]
    similar = strict.similar | {d: more.similar[d] for d, _ in extra if d in more.similar}
    stories = strict.stories | {d: more.stories[d] for d, _ in extra if d in more.stories}
    continued = replace(strict, top=strict.top + extra, similar=similar, stories=stories)
    return Answer(continued, partial_from=len(strict.top))


def _with_feedback(searcher: Searcher, answer: Answer, stats: Statistics, plan: Plan, ranking: Ranking) -> Answer:
    """A question ranked again, also by the words that mark its best articles (Bo1 feedback);
    a statistics round for those words first."""
    if not answer.ranked.total or not ranking.feedback_docs or not ranking.feedback_words:
        return answer
    best = [d for d, _ in answer.ranked.top[: ranking.feedback_docs]]
    asked = {text for _, text in plan.query.iter_all_terms()}
    found = searcher.key_terms(best, "body", numterms=ranking.feedback_words + len(asked), model=classify.Bo1Model)
    extra = [(word, weight) for word, weight in found if word not in asked][: ranking.feedback_words]
    if not extra:
        return answer
    words = wq.Or([WordQuery(word, ranking.fields, ranking.feedback_weight * weight, ranking) for word, weight in extra])
    stats = stats.including(gather_statistics(searcher, words))
    return replace(answer, ranked=rank(searcher, replace(plan, query=wq.AndMaybe(plan.query, words)), stats, ranking))


def rank(searcher: Searcher, plan: Plan, stats: Statistics, ranking: Ranking = RANKING) -> Ranked:
    """Every match of the plan's query within its restriction scored with ``stats``, the top
    ``plan.limit`` kept, with the total and the facet counts. By relevance, proximity raises the
    best unless the plan is a question's. Gives up with a QueryError after SEARCH_SECONDS."""
    query = plan.query
    if plan.restrict is not None:
        query = wq.And([query, wq.ConstantScoreQuery(plan.restrict, 0.0)])
    if isinstance(searcher, ShardedSearcher | RemoteShards):  # each shard ranked, the best merged (search.shard_search)
        best, docs, facets = rank_shards(searcher, query, stats, plan, ranking, _matches)
    else:
        docs, scores, dates = _matches(searcher, query, stats, by_date=plan.sort != "relevance")
        stories = group_keys(searcher, "story")[docs] if plan.collapse else None
        best = best_first(searcher, query, docs, scores, dates, stats, plan, ranking, stories)
        facets = facets_of(searcher, docs)
    top = list(zip(docs[best.top].tolist(), best.scores[best.top].tolist()))
    similar = {int(docs[p]): tuple(docs[others].tolist()) for p, others in best.similar.items()}
    keys = {} if best.stories is None else dict(zip(docs[best.top].tolist(), best.stories.tolist()))
    return Ranked(top, best.total, facets, best.articles, similar, keys)


def _matches(
    searcher: Searcher, query: wq.Query, stats: Statistics, *, by_date: bool, seconds: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Every match of ``query`` in the index: document numbers, scores and (``by_date``) dates,
    which the sorts by date and relevance_recent read, found within ``seconds`` (SEARCH_SECONDS
    by default)."""
    deadline = time.perf_counter() + (SEARCH_SECONDS if seconds is None else seconds)
    docs, scores, dates = [], [], []
    try:
        for leaf, offset in searcher.leaf_searchers():
            found = evaluate(leaf, query, stats, deadline)
            docs.append(found.docs + offset)
            scores.append(found.scores)
            if by_date:
                dates.append(sort_keys(leaf.reader(), "published")[found.docs])
    except TooSlow:
        raise QueryError(
            f"the search took longer than {SEARCH_SECONDS:g} s; use fewer or more specific words",
            code="query_timeout",
        ) from None
    return np.concatenate(docs), np.concatenate(scores), np.concatenate(dates) if by_date else None


def _check_page(total: int, asked: SearchOptions) -> None:
    """A page past the last one of the hits is a QueryError (no hits: any page is empty)."""
    last = math.ceil(total / asked.per_page)
    if 0 < last < asked.page:
        raise QueryError(f"page must be at most {last}, the last page, not {asked.page}")


def _page_of(answer: Answer, asked: SearchOptions) -> list[tuple[int, float, bool]]:
    """(document number, score, partial) of the hits on the page asked for."""
    first = (asked.page - 1) * asked.per_page
    chosen = answer.ranked.top[first : first + asked.per_page]
    return [(docnum, score, rank >= answer.partial_from) for rank, (docnum, score) in enumerate(chosen, first)]


def fetch(
    searcher: Searcher, chosen: Sequence[tuple[int, float, bool]], highlighter: Highlighter,
    similar: Mapping[int, Sequence[int]] | None = None,
) -> tuple[Hit, ...]:
    """The hits of (document number, score, partial): stored fields, with title and body
    highlighted; collapsing (``similar``: a hit's number, its story's other matches), the sources
    and ids of those others."""
    hits = []
    docnums = [docnum for docnum, _, _ in chosen]
    others = {docnum: list(similar.get(docnum, ())) for docnum in docnums} if similar is not None else {}
    wanted = docnums + [d for found in others.values() for d in found]
    if isinstance(searcher, RemoteShards):  # one call to each owning shard
        fields = dict(zip(wanted, searcher.stored_fields_of(wanted), strict=True))
    else:
        fields = {docnum: searcher.stored_fields(docnum) for docnum in wanted}
    for docnum, score, partial in chosen:
        stored = fields[docnum]
        highlights = {
            "title": highlighter.whole(stored.get("title", "")),
            "body": highlighter.fragments(stored.get("body", "")),
        }
        reports = None if similar is None else Similar.of([fields[d] for d in others[docnum]])
        hits.append(Hit.of(stored, score, highlights, partial, reports))
    return tuple(hits)


def _ms(started: float) -> int:
    """Milliseconds since ``started``."""
    return round((time.perf_counter() - started) * 1000)


def get_article(index: QiaoIndex, article_id: str, *, q: str = "") -> dict[str, object]:
    """A stored article; with ``q``, its title, body and captions as escaped HTML with the query's
    words marked (not its dates in words, which filtered the search it came from)."""
    searcher = index.searcher()
    stored = searcher.document(id=article_id)
    if stored is None:
        raise ArticleNotFound(f"no article with id {article_id!r}")
    article = article_fields(stored)
    if q:
        dates = read_dates(q, date.today(), lambda: _days(searcher))
        marked = dates.without if dates else q  # the words the search matched, not its date words
        tree = parse(marked)
        bridge = _bridge(index, searcher, tree, SearchOptions(q=marked), RANKING)  # translations are marked too
        highlighter = compile_query(tree, searcher.schema, bridge=bridge).highlighter
        article["highlights"] = {
            "title": highlighter.whole(article["title"]),  # type: ignore[arg-type]
            "body": highlighter.whole(article["body"]),  # type: ignore[arg-type]
            "captions": [highlighter.whole(c) for c in article["captions"]],  # type: ignore[attr-defined]
        }
    return article
