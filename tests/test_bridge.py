"""The bridge: an English query finds the Chinese articles, a Chinese query the English ones
(search.bridge), on the seed articles; xlang=off turns it off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from search.bridge import USER_GLOSSARY, clean_gloss, romanized, syllable_splits
from search.cli import main
from search.index import QiaoIndex, build
from search.matching import SynonymQuery
from search.query.search import search
from search.ranking import RANKING

from .conftest import SEEDS

SEED_ARTICLE = "chongqing-hong-kong-2023-05-11.txt"  # the English report of the Chongqing-Hong Kong meeting
YUAN_JIAJUN = Path(__file__).parent / "data" / "yuan-jiajun.jsonl"  # a chinanews.com report that names 袁家军


def zh_seed_titles(*groups: tuple[str, ...]) -> set[str]:
    """The titles of the Chinese seed articles (zh-news.jsonl) with a word of every group in
    their title or body: what a translated query must find."""
    titles = set()
    for line in (SEEDS / "zh-news.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        text = record["title"] + record["body"]
        if all(any(word in text for word in group) for group in groups):
            titles.add(" ".join(record["title"].split()))  # as the reader stores it: one space for \u3000
    return titles


def test_hong_kong_cooperation_finds_the_chinese_seed_articles(seeds: QiaoIndex) -> None:
    result = search(seeds, "Hong Kong cooperation", per_page=100)
    assert [t.to_dict() for t in result.translations] == [
        {"source": "Hong Kong", "targets": ["香港"]},
        {"source": "cooperation", "targets": ["合作", "协同", "协作", "合力"]},
    ]
    chinese = {h.title for h in result.hits if h.lang == "zh-Hans" and not h.partial}
    assert chinese == zh_seed_titles(("香港",), ("合作", "协同", "协作", "合力"))
    assert result.facets["lang"] == {"zh-Hans": len(chinese), "en": 1}


def test_own_language_match_ranks_above_translated_ones(seeds: QiaoIndex) -> None:
    hits = search(seeds, "Hong Kong cooperation").hits
    assert hits[0].id == SEED_ARTICLE
    assert all(h.lang == "zh-Hans" for h in hits[1:] if not h.partial)


@pytest.mark.parametrize(("query", "chinese"), [("Chongqing", "重庆"), ("Brazil", "巴西")])
def test_an_english_place_finds_the_chinese_seed_articles(seeds: QiaoIndex, query: str, chinese: str) -> None:
    result = search(seeds, query, per_page=100)
    assert [t.to_dict() for t in result.translations] == [{"source": query, "targets": [chinese]}]
    assert {h.title for h in result.hits if h.lang == "zh-Hans"} == zh_seed_titles((chinese,))


def test_a_chinese_place_finds_the_english_seed_article_with_lang_en(seeds: QiaoIndex) -> None:
    result = search(seeds, "重庆", lang="en")
    assert [h.id for h in result.hits] == [SEED_ARTICLE]
    assert "<mark>Chongqing</mark>" in result.hits[0].highlights["title"]


def test_hong_kong_and_cooperation_in_chinese_find_the_english_seed_article(seeds: QiaoIndex) -> None:
    result = search(seeds, "香港 合作", per_page=100)
    assert [t.to_dict() for t in result.translations] == [
        {"source": "香港", "targets": ["Hong Kong"]},
        {"source": "合作", "targets": ["cooperate", "collaborate", "work together", "cooperation"]},
    ]
    english = [h for h in result.hits if h.lang == "en" and not h.partial]
    assert [h.id for h in english] == [SEED_ARTICLE]
    assert "<mark>cooperation</mark>" in english[0].highlights["title"]
    assert {h.title for h in result.hits if h.lang == "zh-Hans" and not h.partial} == zh_seed_titles(("香港",), ("合作",))


def test_xlang_off_searches_only_as_typed(seeds: QiaoIndex) -> None:
    bridged = search(seeds, "Hong Kong cooperation", per_page=100)
    plain = search(seeds, "Hong Kong cooperation", per_page=100, xlang=False)
    assert plain.translations == ()
    assert {h.lang for h in plain.hits} == {"en"}
    assert plain.facets["lang"] == {"en": 1}
    # The English article's own score does not change: the translations add only the Chinese ones.
    assert bridged.hits[0].score == plain.hits[0].score


def test_regional_variant_finds_the_taiwanese_word(seeds: QiaoIndex) -> None:
    result = search(seeds, "网络", lang="zh-Hant", per_page=100)
    assert {"source": "网络", "targets": ["网路"]} in [t.to_dict() for t in result.translations]
    assert result.hits
    for hit in result.hits:
        assert "<mark>網路</mark>" in hit.highlights["body"]
    assert search(seeds, "网络", lang="zh-Hant", xlang=False).total_hits == 0


@pytest.fixture(scope="module")
def yuan_index(tmp_path_factory: pytest.TempPathFactory) -> QiaoIndex:
    """The English seed article and a Chinese report naming 袁家军 (Yuan Jiajun)."""
    folder = tmp_path_factory.mktemp("yuan")
    build([SEEDS / SEED_ARTICLE, YUAN_JIAJUN], folder / "index")
    with QiaoIndex(folder / "index") as ix:
        yield ix


@pytest.mark.parametrize("query", ["Yuan Jiajun", "yuanjiajun", "yuan jiajun"])
def test_a_name_in_pinyin_finds_the_chinese_report(yuan_index: QiaoIndex, query: str) -> None:
    result = search(yuan_index, query, lang="zh")
    assert [t.to_dict() for t in result.translations] == [{"source": query, "targets": ["袁家军"]}]
    assert [h.title for h in result.hits] == ["首届“一带一路”科技交流大会在重庆开幕"]
    assert "<mark>袁家军</mark>" in result.hits[0].highlights["body"]


def test_a_chinese_name_finds_its_pinyin_in_the_english_article(yuan_index: QiaoIndex) -> None:
    result = search(yuan_index, "袁家军", lang="en")
    assert [t.to_dict() for t in result.translations] == [{"source": "袁家军", "targets": ["yuan jiajun"]}]
    assert [h.id for h in result.hits] == [SEED_ARTICLE]
    assert "<mark>Yuan Jiajun</mark>" in result.hits[0].highlights["body"]


def test_a_user_glossary_in_the_index_folder_adds_names(yuan_index: QiaoIndex) -> None:
    glossary = yuan_index.index_dir / USER_GLOSSARY
    before = search(yuan_index, "Belt and Road Science Conference", lang="zh").translations
    assert before[0].to_dict() == {"source": "Belt and Road", "targets": ["一带一路"]}  # the shipped glossary's
    glossary.write_text("# our names\n一带一路科技交流大会\tBelt and Road Science Conference\n", encoding="utf-8")
    try:
        result = search(yuan_index, "Belt and Road Science Conference", lang="zh")
    finally:
        glossary.unlink()
    assert [t.to_dict() for t in result.translations][0] == {
        "source": "Belt and Road Science Conference", "targets": ["一带一路科技交流大会"]}
    assert [h.title for h in result.hits] == ["首届“一带一路”科技交流大会在重庆开幕"]
    assert search(yuan_index, "Belt and Road Science Conference", lang="zh").translations == before  # removed: gone


def test_an_english_query_on_an_english_index_is_unchanged(tmp_path: Path) -> None:
    build([SEEDS / "en-bbc" / "business"], tmp_path / "index")
    with QiaoIndex(tmp_path / "index") as ix:
        on = search(ix, "economy growth", per_page=100)
        off = search(ix, "economy growth", per_page=100, xlang=False)
    assert on.translations == ()
    assert [(h.id, h.score) for h in on.hits] == [(h.id, h.score) for h in off.hits]


def test_a_synonym_set_counts_an_article_with_any_translation_once(seeds: QiaoIndex) -> None:
    searcher = seeds.searcher()
    both = SynonymQuery((("香港",), ("合作",)), RANKING.fields)
    union = {d for word in ("香港", "合作") for d in searcher.postings("body", word).all_ids()}
    assert both.doc_frequencies(searcher)[("body", both.text)] == len(union)
    one = SynonymQuery((("香港",),), RANKING.fields)
    assert one.doc_frequencies(searcher)[("body", one.text)] == searcher.doc_frequency("body", "香港")


def test_a_member_of_several_terms_needs_them_all(seeds: QiaoIndex) -> None:
    searcher = seeds.searcher()
    phrase = SynonymQuery((("hong", "kong"),), RANKING.fields)
    both = set(searcher.postings("body", "hong").all_ids()) & set(searcher.postings("body", "kong").all_ids())
    assert phrase.doc_frequencies(searcher)[("body", phrase.text)] == len(both)


def test_api_has_translations_and_takes_xlang_off(client: FlaskClient) -> None:
    on = client.get("/api/search", query_string={"q": "Brazil", "per_page": 100}).get_json()
    off = client.get("/api/search", query_string={"q": "Brazil", "per_page": 100, "xlang": "off"}).get_json()
    assert on["searched_as"] == off["searched_as"] == ["Brazil"]
    assert on["translations"] == [{"source": "Brazil", "targets": ["巴西"]}]
    assert off["translations"] == []
    assert on["facets"]["lang"]["zh-Hans"] == len(zh_seed_titles(("巴西",)))
    assert "zh-Hans" not in off["facets"]["lang"]


def test_api_rejects_an_xlang_that_is_not_on_or_off(client: FlaskClient) -> None:
    response = client.get("/api/search", query_string={"q": "Brazil", "xlang": "maybe"})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "xlang must be on or off, not 'maybe'"


def test_cli_no_xlang(seeds_index_dir: Path) -> None:
    args = ["search", "Brazil", "--index", str(seeds_index_dir), "--json", "--limit", "100"]
    on = json.loads(CliRunner().invoke(main, args).output)
    off = json.loads(CliRunner().invoke(main, [*args, "--no-xlang"]).output)
    assert on["translations"] == [{"source": "Brazil", "targets": ["巴西"]}]
    assert off["translations"] == []
    assert {h["lang"] for h in off["hits"]} == {"en"}


def test_cli_prints_the_translations(seeds_index_dir: Path) -> None:
    out = CliRunner().invoke(main, ["search", "Li Jiachao", "--index", str(seeds_index_dir)])
    lines = out.output.splitlines()
    assert lines[0].startswith("2 results in ")
    assert lines[1] == "also searched as: Li Jiachao → 李家超 (--no-xlang: only as typed)"  # the glossary's
    assert lines[3].startswith("1. Actively serve the national strategy")  # as typed, first
    assert lines[6].startswith("2. 香港各界人士热议施政报告")  # the seed article that names 李家超
    assert "<mark>" not in out.output and "李家超" in lines[7]


def test_page_shows_the_translations_and_the_switch(client: FlaskClient) -> None:
    page = client.get("/", query_string={"q": "Hong Kong cooperation"}, headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert '<span class="word">Hong Kong</span> → <span class="word" lang="zh">香港</span>' in html
    assert 'href="/?q=Hong+Kong+cooperation&amp;xlang=off"' in html
    off = client.get("/", query_string={"q": "Hong Kong cooperation", "xlang": "off"},
                     headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Cross-language search is off." in off
    assert '<li class="hit" lang="zh-Hans">' not in off
    assert '<li class="hit" lang="zh-Hans">' in html


def test_gloss_cleaning() -> None:
    assert clean_gloss("to work together") == "work together"
    assert clean_gloss("Chongqing city (Chungking), formerly in Sichuan province") == "chongqing city"
    assert clean_gloss("variant of 網絡|网络[wang3 luo4]") is None
    assert clean_gloss("to help sb (in some way)") == "help"


def test_pinyin_readings() -> None:
    assert ("yuan", "jia", "jun") in syllable_splits("yuanjiajun")
    assert syllable_splits("brazil") == []
    assert romanized("重庆", name=False) == (("chongq",),)
