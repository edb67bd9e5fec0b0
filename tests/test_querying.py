"""The search function on the seeds index: syntax, bilingual matching, ranking, highlights, facets."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from search.analysis import fold
from search.errors import ArticleNotFound, QueryError
from search.index import QiaoIndex, build
from search.query.compile import compile_query
from search.query.search import Plan, get_article, rank, search
from search.query.statistics import Statistics, statistics
from search.query.syntax import AllOf, AnyOf, Excluded, FieldValue, Phrase, Words, parse
from search.ranking import RANKING

SEED_ID = "chongqing-hong-kong-2023-05-11.txt"
ROUSSEFF = {"u2541719cda271da5", "u6cc6baf930ac67f4"}  # the two seed articles with 罗塞夫 in the title


def ids(seeds: QiaoIndex, q: str, **kw: object) -> list[str]:
    """The ids of the hits with every word of the query (ranked before those with some of them)."""
    return [h.id for h in search(seeds, q, **kw).hits if not h.partial]


def marks(fragment: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", fragment)


def test_parse_reads_words_phrases_fields_exclusion_and_or() -> None:
    assert parse('重庆 -title:"香港" OR lang:en') == AnyOf((
        AllOf((Words("重庆"), Excluded(Phrase("香港", "title")))),
        FieldValue("lang", "en"),
    ))


def test_parse_is_lenient_with_unbalanced_syntax() -> None:
    assert parse('"香港 (合作 AND') == Phrase("香港 (合作 AND")
    assert parse("(香港 合作") == AllOf((Words("香港"), Words("合作")))
    assert parse("香港) OR") == Words("香港")


def test_parse_treats_unknown_field_prefix_as_a_word() -> None:
    assert parse("http://x.cn 10:30") == AllOf((Words("http://x.cn"), Words("10:30")))


def test_parse_accepts_chinese_quotes_and_full_width_parentheses() -> None:
    assert parse("“人民银行”（香港）") == AllOf((Phrase("人民银行"), Words("香港")))


def test_empty_query_has_no_hits(seeds: QiaoIndex) -> None:
    result = search(seeds, "   ")
    assert (result.total_hits, result.hits, result.fallback) == (0, (), None)


def test_seed_is_first_for_its_own_keywords(seeds: QiaoIndex) -> None:
    assert ids(seeds, "Chongqing Hong Kong cooperation") == [SEED_ID]


def test_stemming_finds_cooperation_from_cooperating(seeds: QiaoIndex) -> None:
    assert ids(seeds, xlang=False, q="cooperating Chongqing") == [SEED_ID]


def test_simplified_query_finds_traditional_article_and_marks_original_glyphs(seeds: QiaoIndex) -> None:
    result = search(seeds, xlang=False, q="医药费")
    assert [h.lang for h in result.hits].count("zh-Hant") == 7
    for h in result.hits:
        original = "醫藥費" if h.lang == "zh-Hant" else "医药费"
        assert original in marks(h.highlights["body"]) + marks(h.highlights["title"])


def test_traditional_query_equals_simplified_query(seeds: QiaoIndex) -> None:
    assert ids(seeds, "經濟", per_page=100) == ids(seeds, "经济", per_page=100)


def test_full_width_query_equals_half_width(seeds: QiaoIndex) -> None:
    assert ids(seeds, "５Ｇ", per_page=100) == ids(seeds, "5G", per_page=100)
    assert search(seeds, "５Ｇ").total_hits == 8


def test_quoted_chinese_phrase_matches_inside_longer_words(seeds: QiaoIndex) -> None:
    result = search(seeds, '"人民银行"', per_page=100)
    assert result.total_hits == 8
    assert all("人民银行" in marks(h.highlights["title"] + h.highlights["body"]) for h in result.hits)


# Strings of seed articles: words, parts of words, runs across words, and the 和服 trap.
PHRASES = [
    "人民银行", "罗塞夫", "塞夫", "行长罗", "银", "医药费", "一带一路", "高质量发展", "经济增长",
    "香港特别行政区政府", "新冠", "新药", "不符", "以上", "和服", "果基", "务发", "医病急", "接连出",
]


def _expected(seed_han_words: list[tuple[str, str, list[tuple[int, int]]]], phrase: str) -> set[str]:
    """Articles where the phrase stands inside one word, or across words without taking a single
    character off a longer one: worked out from each article's own words, not from the index."""
    found = set()
    for article_id, text, words in seed_han_words:
        for m in re.finditer(re.escape(phrase), text):
            start, end = m.span()
            covering = [(s, e) for s, e in words if s < end and e > start]
            first, last = covering[0], covering[-1]
            inside = len(covering) == 1
            clean_start = first[0] == start or first[1] - start > 1
            clean_end = last[1] == end or end - last[0] > 1
            if inside or (clean_start and clean_end):
                found.add(article_id)
    return found


@pytest.mark.parametrize("phrase", PHRASES)
def test_quoted_chinese_phrase_finds_exactly_the_articles_with_it(
    seeds: QiaoIndex, seed_han_words: list[tuple[str, str, list[tuple[int, int]]]], phrase: str
) -> None:
    result = search(seeds, f'"{phrase}"', per_page=100)
    assert {h.id for h in result.hits} == _expected(seed_han_words, phrase)
    assert result.total_hits == len(result.hits)


def test_a_character_taken_off_a_longer_word_is_not_a_match(seeds: QiaoIndex) -> None:
    # 和服 (kimono) is in 和服务 (and service) only as characters: 和|服务.
    assert "和服" in fold(get_article(seeds, _with_text(seeds, "和服务"))["body"]).text
    assert search(seeds, '"和服"').total_hits == 0


def _with_text(seeds: QiaoIndex, text: str) -> str:
    return next(s["id"] for s in seeds.searcher().all_stored_fields() if text in fold(s.get("body", "")).text)


def test_unknown_name_and_its_fragment_find_the_same_articles_first(seeds: QiaoIndex) -> None:
    assert set(ids(seeds, "罗塞夫")[:2]) == ROUSSEFF
    assert set(ids(seeds, "塞夫")[:2]) == ROUSSEFF


def test_field_query_restricts_to_titles(seeds: QiaoIndex) -> None:
    assert set(ids(seeds, "title:罗塞夫")) == ROUSSEFF


def test_single_character_recalls_words_containing_it(seeds: QiaoIndex) -> None:
    assert search(seeds, "银").total_hits == 54


def test_english_phrase_is_marked_as_one_span(seeds: QiaoIndex) -> None:
    result = search(seeds, '"Hong Kong"')
    assert result.hits
    assert "Hong Kong" in marks(result.hits[0].highlights["body"])


def test_exclusion_removes_articles(seeds: QiaoIndex) -> None:
    with_both = set(ids(seeds, xlang=False, q="香港 经济", per_page=100))
    without = set(ids(seeds, xlang=False, q="香港 -经济", per_page=100))
    assert with_both and not with_both & without
    assert len(without) == search(seeds, xlang=False, q="香港").total_hits - len(with_both)


def test_or_matches_either_word(seeds: QiaoIndex) -> None:
    either = search(seeds, xlang=False, q="香港 OR 澳门").total_hits
    assert either == 19
    assert either >= max(search(seeds, xlang=False, q="香港").total_hits, search(seeds, xlang=False, q="澳门").total_hits)


def test_and_falls_back_to_or_and_says_so(seeds: QiaoIndex) -> None:
    result = search(seeds, xlang=False, q="xyzzy Chongqing")
    assert (result.fallback, [h.id for h in result.hits]) == ("or", [SEED_ID])
    assert search(seeds, xlang=False, q="Chongqing").fallback is None


def test_searched_as_shows_the_segmentation(seeds: QiaoIndex) -> None:
    assert search(seeds, "重庆香港合作").searched_as == ("重庆", "香港", "合作")


def test_language_filter_zh_covers_both_scripts(seeds: QiaoIndex) -> None:
    result = search(seeds, "银", lang="zh", per_page=100)
    assert {h.lang for h in result.hits} == {"zh-Hans", "zh-Hant"}
    assert search(seeds, "银", lang="zh-Hant").total_hits == 2


def test_lang_field_in_query_filters(seeds: QiaoIndex) -> None:
    result = search(seeds, "lang:en Hong Kong", per_page=100)
    assert result.total_hits == 11
    assert result.facets["lang"] == {"en": 11}


def test_date_range_is_inclusive(seeds: QiaoIndex) -> None:
    result = search(seeds, xlang=False, q="Chongqing", date_from="2023-05-11", date_to="2023-05-11")
    assert [h.published for h in result.hits] == ["2023-05-11"]
    assert search(seeds, xlang=False, q="Chongqing", date_to="2023-05-10").total_hits == 0


def test_sort_by_date_is_newest_first(seeds: QiaoIndex) -> None:
    dates = [h.published for h in search(seeds, xlang=False, q="香港", sort="date", per_page=100).hits]
    assert dates == sorted(dates, reverse=True)


def test_pages_partition_the_hits(seeds: QiaoIndex) -> None:
    all_ids = ids(seeds, xlang=False, q="香港", per_page=100)
    pages = [ids(seeds, xlang=False, q="香港", page=p, per_page=5) for p in (1, 2, 3, 4)]
    assert [i for page in pages for i in page] == all_ids
    assert search(seeds, xlang=False, q="香港", per_page=5).total_pages == -(-len(all_ids) // 5)


def test_facets_count_all_hits_not_just_the_page(seeds: QiaoIndex) -> None:
    result = search(seeds, xlang=False, q="香港", per_page=1)
    assert sum(result.facets["lang"].values()) == result.total_hits
    assert sum(result.facets["year"].values()) == result.total_hits


def test_title_is_ranked_above_body(seeds: QiaoIndex) -> None:
    hits = search(seeds, "香港").hits
    assert "香港" in hits[0].title


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"page": 0}, "page must be 1 or more, not 0"),
        ({"per_page": 101}, "per_page must be between 1 and 100, not 101"),
        ({"sort": "size"}, "sort must be one of relevance, relevance_recent, date, date_asc, not 'size'"),
        ({"date_from": "yesterday"}, "from must be a date like 2023-05-11, not 'yesterday'"),
        ({"lang": "fr"}, "unknown language 'fr'; use one of: zh, zh-Hans, zh-Hant, en"),
        ({"date_from": "2024-01-01", "date_to": "2023-01-01"}, "from (2024-01-01) is after to (2023-01-01)"),
    ],
)
def test_bad_parameters_are_query_errors(seeds: QiaoIndex, options: dict, message: str) -> None:
    with pytest.raises(QueryError) as e:
        search(seeds, "香港", **options)
    assert (str(e.value), e.value.code, e.value.status) == (message, "bad_parameter", 400)


def test_markup_in_the_query_is_escaped(seeds: QiaoIndex) -> None:
    result = search(seeds, "<script>alert(1)</script> 香港")
    shown = " ".join(h.highlights["title"] + h.highlights["body"] for h in result.hits)
    assert result.hits and "<script>" not in shown


def test_to_dict_has_the_api_shape(seeds: QiaoIndex) -> None:
    data = search(seeds, "Chongqing", per_page=1).to_dict()
    assert list(data) == [
        "ok", "query", "page", "per_page", "total_hits", "total_pages", "processing_time_ms",
        "hits", "facets", "fallback", "searched_as", "translations", "suggestion", "dates", "total_articles", "collapsed",
    ]
    assert list(data["hits"][0]) == [
        "id", "title", "url", "source", "category", "lang", "published", "score", "highlights", "partial",
        "author", "tags",
        "similar",
    ]
    assert list(data["facets"]) == ["lang", "source", "category", "year", "author", "tags"]


def test_get_article_marks_the_query_in_the_whole_text(seeds: QiaoIndex) -> None:
    article = get_article(seeds, SEED_ID, q="Li Jiachao")
    assert article["published"] == "2023-05-11"
    assert article["highlights"]["body"].count("<mark>Li Jiachao</mark>") == article["body"].count("Li Jiachao")


def test_get_article_of_unknown_id_is_not_found(seeds: QiaoIndex) -> None:
    with pytest.raises(ArticleNotFound):
        get_article(seeds, "no-such-article")


@pytest.mark.parametrize("q", ["银", "香港 OR 澳门", "Hong Kong", "election", "医药费 OR 医疗"])
def test_total_hits_counts_every_match_beyond_the_first_page(seeds: QiaoIndex, q: str) -> None:
    everything = search(seeds, q, per_page=100)
    assert 10 < everything.total_hits <= 100
    assert search(seeds, q, per_page=10).total_hits == len(everything.hits) == everything.total_hits


# --- explicit AND ------------------------------------------------------------------------------


def test_parse_reads_and_as_an_operator_binding_its_neighbours() -> None:
    assert parse("重庆 香港 AND 澳门") == AllOf((Words("重庆"), AllOf((Words("香港"), Words("澳门")), strict=True)))


def test_explicit_and_never_falls_back_to_or(seeds: QiaoIndex) -> None:
    result = search(seeds, xlang=False, q="香港 AND 澳门")
    assert (result.total_hits, result.fallback) == (0, None)


def test_words_beside_an_explicit_and_may_still_fall_back(seeds: QiaoIndex) -> None:
    result = search(seeds, xlang=False, q="xyzzy Chongqing AND cooperation")
    assert (result.fallback, [h.id for h in result.hits]) == ("or", [SEED_ID])


# --- boosts ------------------------------------------------------------------------------------


def test_parse_reads_boosts_on_words_and_phrases() -> None:
    assert parse('香港^3 "Hong Kong"^0.5') == AllOf((Words("香港", boost=3.0), Phrase("Hong Kong", boost=0.5)))


def test_a_caret_without_a_word_or_a_number_is_not_a_word() -> None:
    assert parse("^3 香港^ 经济^x") == AllOf((Words("香港"), Words("经济"), Words("x")))


def test_boost_multiplies_the_score_of_its_word(seeds: QiaoIndex) -> None:
    # The two words' proximity bonus is a score of its own, which the boost leaves alone.
    without_proximity = replace(RANKING, proximity_weight=0.0)

    def scores(q: str) -> dict[str, float]:
        return {h.id: h.score for h in search(seeds, xlang=False, q=q, per_page=100, ranking=without_proximity).hits
                if not h.partial}

    hong_kong, cooperation, boosted = scores("香港"), scores("合作"), scores("香港^3 合作")
    assert boosted == pytest.approx({i: 3 * hong_kong[i] + cooperation[i] for i in boosted}, abs=1e-3)
    assert len(boosted) == search(seeds, xlang=False, q="香港 合作").total_hits == 6


def test_boost_multiplies_the_score_of_a_phrase(seeds: QiaoIndex) -> None:
    plain = [h.score for h in search(seeds, '"Hong Kong"').hits]
    assert [h.score for h in search(seeds, '"Hong Kong"^2').hits] == pytest.approx([2 * s for s in plain], abs=1e-3)


def test_searched_as_shows_boosts(seeds: QiaoIndex) -> None:
    assert search(seeds, '香港^3 经济 "Hong Kong"^0.5').searched_as == ("香港^3", "经济", '"Hong Kong"^0.5')


# --- searched as -------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["香港 -经济", "香港 NOT 经济"])
def test_searched_as_shows_exclusions(seeds: QiaoIndex, q: str) -> None:
    assert search(seeds, q).searched_as == ("香港", "-经济")


def test_searched_as_shows_an_excluded_group_as_one_exclusion(seeds: QiaoIndex) -> None:
    assert search(seeds, "香港 -(经济 OR 合作) -香港经济").searched_as == ("香港", "-(经济 OR 合作)", "-(香港 经济)")


# --- parameter values --------------------------------------------------------------------------


def test_lang_and_sort_values_are_case_insensitive(seeds: QiaoIndex) -> None:
    assert search(seeds, "Hong Kong", lang="EN").total_hits == 11
    assert search(seeds, "银", lang="ZH-HANT").total_hits == 2
    assert ids(seeds, "香港", sort="DATE") == ids(seeds, "香港", sort="date")


def test_page_past_the_last_is_a_query_error(seeds: QiaoIndex) -> None:
    with pytest.raises(QueryError) as e:
        search(seeds, xlang=False, q="香港", page=999)
    assert (str(e.value), e.value.code) == ("page must be at most 2, the last page, not 999", "bad_parameter")


def test_page_past_the_last_of_no_hits_is_an_empty_page(seeds: QiaoIndex) -> None:
    result = search(seeds, "xyzzyqq", page=3)
    assert (result.page, result.total_hits, result.hits) == (3, 0, ())


# --- no words to rank by -------------------------------------------------------------------------


def test_empty_query_with_a_filter_lists_its_articles_newest_first(seeds: QiaoIndex) -> None:
    result = search(seeds, "", source="新浪", per_page=100)
    dates = [h.published for h in result.hits]
    assert (result.total_hits, len(dates), result.facets["source"]) == (32, 32, {"新浪": 32})
    assert dates == sorted(dates, reverse=True)
    assert (result.fallback, result.searched_as) == (None, ())


def test_empty_query_with_a_filter_highlights_the_plain_title_and_the_start_of_the_body(seeds: QiaoIndex) -> None:
    hit = search(seeds, "", lang="en", date_from="2023-05-11", date_to="2023-05-11").hits[0]
    article = get_article(seeds, hit.id)
    assert hit.id == SEED_ID
    assert hit.highlights == {"title": article["title"], "body": article["body"][:160] + "…"}


def test_query_of_only_a_filter_lists_newest_first(seeds: QiaoIndex) -> None:
    dates = [h.published for h in search(seeds, "source:新浪", per_page=100).hits]
    assert dates == [h.published for h in search(seeds, "", source="新浪", per_page=100).hits]


def article_id(url: str) -> str:
    """The id an article with this URL gets: u + 16 hex digits of the URL's SHA-1."""
    return "u" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


@pytest.mark.parametrize(("query", "searched_as"), [
    ("政府将于明年推出新政策", ("政府", "明年", "推出", "新", "政策")),
    ("美国总统特朗普与中国领导人会面", ("美国", "总统", "特朗普", "中国", "领导人", "会面")),
    ("中国人民银行宣布降低存款准备金率以支持实体经济发展",
     ("中国人民银行", "宣布", "降低", "存款", "准备金率", "支持", "实体", "经济", "发展")),
])
def test_sentence_typed_without_spaces_is_answered_by_its_words(seeds: QiaoIndex, query: str, searched_as: tuple) -> None:
    result = search(seeds, xlang=False, q=query)
    assert (result.searched_as, result.fallback) == (searched_as, "or")  # no seed article has every word
    best = " ".join(f"{h.highlights['title']} {h.highlights['body']}" for h in result.hits[:3])
    assert len(set(marks(best)) & set(searched_as)) >= 3


@pytest.mark.parametrize(("query", "url"), [
    ("研究结果表明晕动病可能是由前庭系统中的神经元引起的", "http://www.chinanews.com/life/2023/10-27/10101762.shtml"),
    ("底层技术的突破和掌控是产业生态主导型企业崛起的关键", "http://www.chinanews.com/cj/2023/12-12/10126917.shtml"),
    ("佩特罗表示当今世界动荡不安各国应携手守护和平", "http://www.chinanews.com/gn/2025/05-14/10415491.shtml"),
    ("据乌通社报道关闭机场的禁令将一直持续至4月20日零时", "http://www.chinanews.com/gj/2020/03-30/9141524.shtml"),
])
def test_sentence_of_an_article_typed_without_punctuation_finds_it_first(seeds: QiaoIndex, query: str, url: str) -> None:
    assert search(seeds, query).hits[0].id == article_id(url)
    assert search(seeds, query + "足球").hits[0].id == article_id(url)  # with a word the article lacks


def test_function_characters_alone_are_searched(seeds: QiaoIndex) -> None:
    assert search(seeds, "的").searched_as == ("的",)
    assert search(seeds, "的").total_hits == search(seeds, '"的"').total_hits > 0


def test_a_lone_character_still_finds_the_longer_words_it_is_in(seeds: QiaoIndex) -> None:
    result = search(seeds, "港", per_page=100)
    assert result.total_hits == len(result.hits) > 0
    assert all("港" in marks(f"{h.highlights['title']} {h.highlights['body']}") for h in result.hits)


def test_no_fallback_note_when_no_article_has_any_of_the_words(seeds: QiaoIndex) -> None:
    result = search(seeds, "重廣 合做")
    assert (result.total_hits, result.hits, result.fallback) == (0, (), None)


def test_articles_with_some_of_the_words_follow_those_with_all(seeds: QiaoIndex) -> None:
    result = search(seeds, "Chongqing Hong Kong cooperation", per_page=10)
    assert (result.total_hits, result.total_pages, result.fallback) == (1, 1, None)
    assert [(h.id, h.partial) for h in result.hits[:1]] == [(SEED_ID, False)]
    assert len(result.hits) == 10 and all(h.partial for h in result.hits[1:])
    assert result.facets["lang"] == {"en": 1}  # the facets count the articles with every word


def test_date_sorted_results_have_only_the_articles_with_every_word(seeds: QiaoIndex) -> None:
    result = search(seeds, "Chongqing Hong Kong cooperation", sort="date")
    assert [(h.id, h.partial) for h in result.hits] == [(SEED_ID, False)]


SHARDED = [
    {"id": "a", "title": "巴西总统罗塞夫访华", "body": "罗塞夫与中国签署经济合作协议。The central bank of Brazil cut rates."},
    {"id": "b", "title": "Central bank holds rates", "body": "The bank said growth slowed. 中国人民银行维持利率不变。"},
    {"id": "c", "title": "香港经济增长", "body": "香港经济增长加快，罗塞夫表示欢迎。Central banks in Asia watch."},
    {"id": "d", "title": "Bank of England", "body": "Central bank bank central, far apart: central ... bank."},
]


def build_of(tmp_path: Path, name: str, articles: list[dict[str, str]]) -> Path:
    """An index of ``articles`` in ``tmp_path / name``."""
    data = tmp_path / f"{name}.jsonl"
    data.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    build([data], tmp_path / name)
    return tmp_path / name


def scores_by_id(index_dirs: list[Path], q: str) -> dict[str, float]:
    """Each hit's score when ``index_dirs`` are searched as one index: statistics summed, then ranked."""
    with contextlib.ExitStack() as stack:
        searchers = [stack.enter_context(QiaoIndex(d)).searcher() for d in index_dirs]
        queries = [compile_query(parse(q), s.schema).query for s in searchers]
        summed = sum((statistics(s, query) for s, query in zip(searchers, queries)), Statistics())
        found = {}
        for searcher, query in zip(searchers, queries):
            ranked = rank(searcher, Plan(query, None, "relevance", 10, question=False), summed)
            found |= {searcher.stored_fields(d)["id"]: score for d, score in ranked.top}
    return found


@pytest.mark.parametrize("q", ["central bank", "香港 经济", "经济 -香港 central"])
def test_words_on_shards_with_summed_statistics_score_as_on_one_index(tmp_path: Path, q: str) -> None:
    whole = build_of(tmp_path, "whole", SHARDED)
    halves = [build_of(tmp_path, "first", SHARDED[:2]), build_of(tmp_path, "second", SHARDED[2:])]
    expected = scores_by_id([whole], q)
    assert expected
    assert scores_by_id(halves, q) == pytest.approx(expected, rel=1e-12)


def test_compiling_gives_the_query_with_its_marks_searched_as_and_relaxability(seeds: QiaoIndex) -> None:
    schema = seeds.searcher().schema
    compiled = compile_query(parse('香港 合作 -经济 "Hong Kong" cooperating'), schema)
    assert compiled == compile_query(parse('香港 合作 -经济 "Hong Kong" cooperating'), schema)
    assert compiled.searched_as == ("香港", "合作", "-经济", '"Hong Kong"', "cooperating")
    assert compiled.words == ("香港", "合作", '"Hong Kong"', "cooperating")
    assert (compiled.highlighter.han, compiled.highlighter.stems) == ({"香港", "合作"}, {"hong", "kong", "cooper"})
    assert compiled.relaxable
    assert not compile_query(parse("香港 AND 合作"), schema).relaxable


def test_highlights_mark_the_words_the_analyzer_gave_the_query_terms() -> None:
    # Snowball stems dying to die and skies to sky: words whose first letters differ from their
    # term's, which the highlighter's old "same first three letters, then stem" guess missed.
    from whoosh.fields import Schema

    from search.schema import build_schema

    schema: Schema = build_schema("jieba", None)
    text = "Old trees dying under grey skies; they don't die. Tomorrow the sky clears."
    marked = compile_query(parse("die sky"), schema, RANKING).highlighter.whole(text)
    assert marked == ("Old trees <mark>dying</mark> under grey <mark>skies</mark>; they don&#x27;t "
                      "<mark>die</mark>. Tomorrow the <mark>sky</mark> clears.")
