"""Fields people search by: author: and tags:, tags found by plain words, author and tags facets.

The seed Apple Daily pages carry their tags in <meta name="keywords"> (暖流,頭條要聞 on 99 of 100,
頭條,頭條要聞 on one) and name their reporter in a byline (報導．攝影╱韓旭爾), which the HTML reader
takes as the author on 98 of them. Three Reuters records (en-reuters.jsonl, with their tags as
published) stand for English tags; the authors given to them here are made up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from search.articles.html import html_record
from search.cli import main as qiao
from search.errors import IndexMismatch
from search.index import QiaoIndex, build
from search.query.search import get_article, search
from search.query.syntax import FieldValue, parse

from .conftest import TOKEN, write_jsonl

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
APPLE_AUTHORS = {"韓旭爾": 28, "向高彬": 27, "張嘉恬": 16, "游竹君": 12, "孫敏聿": 8, "仲芝蓉": 6, "江品璁": 1}
REUTERS = [
    {"id": "reuters-338", "title": "Sweden To Go Ahead With S. African Trade Sanctions",
     "published": "2-MAR-1987 07:19:13.49", "source": "Reuters", "tags": ["trade"], "author": "Anna Lindqvist",
     "body": "Sweden's ruling Social Democratic\nParty gave full power to the government to decree unilateral\n"
             "trade sanctions against South Africa, Prime Minister Ingvar\nCalrsson said.\n    Carlsson told a "
             "news conference the party decided the fight\nagainst apartheid took priority over Sweden's "
             "traditional\npolicy of only adopting sanctions with the backing of the U.N.\nSecurity Council.\n"
             "    The government will decide later what form the trade\nboycott will take and when it will come "
             "into force.\n REUTER"},
    {"id": "reuters-924", "title": "Swiss Capital Exports Rise In January", "published": "3-MAR-1987 05:43:28.79",
     "source": "Reuters", "tags": ["trade"], "author": "Per Lindqvist",
     "body": "Swiss capital exports rose to 4.64\nbillion francs in January after 2.54 billion in December and a\n"
             "year earlier 3.64 billion, the Swiss National Bank said.\n    New bond issues accounted for 4.12 "
             "billion of the total\nafter December's 2.15 billion, and credits 525.1 mln after\n389.9 mln.\n"
             "    In January 1985, before the National Bank ended the\ndistinction between notes and bonds, bond "
             "issues totalled 1.66\nbillion francs, notes 1.39 billion and credits 597.5 mln.\n REUTER"},
    {"id": "reuters-1", "title": "Bahia Cocoa Review", "published": "26-FEB-1987 15:01:01.79", "source": "Reuters",
     "tags": ["cocoa"], "author": "张三、李四",
     "body": "Showers continued throughout the week in\nthe Bahia cocoa zone, alleviating the drought since early\n"
             "January and improving prospects for the coming temporao,\nalthough normal humidity levels have not "
             "been restored."},
]


@pytest.fixture
def reuters(tmp_path: Path) -> Iterator[QiaoIndex]:
    build([write_jsonl(tmp_path / "reuters.jsonl", REUTERS)], tmp_path / "index")
    with QiaoIndex(tmp_path / "index") as index:
        yield index


def hits(index: QiaoIndex, q: str, **options: object) -> list[str]:
    """The ids of every hit, in order."""
    return [h.id for h in search(index, q, per_page=100, **options).hits]


# --- the query syntax -------------------------------------------------------------------------

def test_author_and_tags_are_fields_of_the_query_syntax() -> None:
    assert parse("author:张三 tags:trade tag:Cocoa") == parse("author:张三 tags:trade tags:Cocoa")
    assert parse('author:"John Smith"') == FieldValue("author", "John Smith")


def test_an_unknown_field_is_still_a_word() -> None:
    assert parse("writer:张三").text == "writer:张三"


# --- the reader -------------------------------------------------------------------------------

def test_the_html_reader_takes_the_reporter_of_a_byline_as_author() -> None:
    page = html_record((SEEDS / "zh-hant-appledaily" / "A1490.htm").read_text(encoding="utf-8"))
    assert (page["author"], page["tags"]) == ("孫敏聿", "暖流,頭條要聞")


def test_the_html_reader_takes_the_reporter_before_the_place() -> None:
    page = html_record((SEEDS / "zh-hant-appledaily" / "A2599.htm").read_text(encoding="utf-8"))
    assert page["author"] == "向高彬"  # 【向高彬╱新北報導】


def test_an_author_meta_wins_over_the_byline() -> None:
    page = html_record('<meta name="author" content="Li Ming"><p>香港經濟好轉。報導．攝影╱韓旭爾</p>')
    assert page["author"] == "Li Ming"


# --- searching the fields ---------------------------------------------------------------------

def test_author_matches_in_either_script(seeds: QiaoIndex) -> None:
    simplified, traditional = hits(seeds, "author:韩旭尔"), hits(seeds, "author:韓旭爾")
    assert len(simplified) == 28
    assert simplified == traditional


def test_the_author_option_is_the_author_field(seeds: QiaoIndex) -> None:
    assert hits(seeds, "", author="韩旭尔") == hits(seeds, "author:韩旭尔")


def test_tags_match_in_either_script(seeds: QiaoIndex) -> None:
    assert search(seeds, "tags:头条要闻").total_hits == 100
    assert search(seeds, "tags:暖流").total_hits == 99
    assert hits(seeds, "tag:頭條") == ["u41cab23a32f49dec"]  # a whole tag, not a part of 頭條要聞


def test_the_tags_option_is_the_tags_field(seeds: QiaoIndex) -> None:
    assert hits(seeds, "醫藥費", tags="暖流") == hits(seeds, "醫藥費 tags:暖流")
    assert search(seeds, "醫藥費", tags="頭條").total_hits == 0


def test_english_tags_and_authors_fold_case(reuters: QiaoIndex) -> None:
    assert hits(reuters, "tags:TRADE", sort="date") == ["reuters-924", "reuters-338"]
    assert hits(reuters, 'author:"anna LINDQVIST"') == ["reuters-338"]


def test_one_word_of_an_english_name_finds_its_author(reuters: QiaoIndex) -> None:
    assert hits(reuters, "author:lindqvist", sort="date") == ["reuters-924", "reuters-338"]


def test_an_author_field_may_name_several_people(reuters: QiaoIndex) -> None:
    assert hits(reuters, "author:李四") == hits(reuters, "author:張三") == ["reuters-1"]


def test_plain_words_find_an_article_by_its_tags(seeds: QiaoIndex, reuters: QiaoIndex) -> None:
    # 頭條要聞 is in no title or body of the seeds, only in the pages' tags.
    assert search(seeds, xlang=False, q="頭條要聞").total_hits == search(seeds, xlang=False, q="头条要闻").total_hits == 100
    assert search(seeds, xlang=False, q="title:頭條要聞").total_hits == 0
    # "Swiss Capital Exports Rise In January" never says trade; its tag does.
    assert hits(reuters, "trade", sort="date") == ["reuters-924", "reuters-338"]


def test_tags_searched_as_words_are_not_shown_as_captions(reuters: QiaoIndex) -> None:
    article = get_article(reuters, "reuters-924")
    assert (article["captions"], article["tags"], article["author"]) == ([], ["trade"], "Per Lindqvist")


# --- facets -----------------------------------------------------------------------------------

def test_author_and_tags_are_facets(seeds: QiaoIndex) -> None:
    facets = search(seeds, "醫藥費").facets
    assert list(facets) == ["lang", "source", "category", "year", "author", "tags"]
    assert facets["author"] == {"仲芝蓉": 2, "游竹君": 2, "向高彬": 1, "張嘉恬": 1, "韓旭爾": 1}
    assert facets["tags"] == {"暖流": 7, "頭條要聞": 7}  # 7 of the 8 hits are Apple Daily pages


def test_an_article_counts_once_for_each_of_its_tags(seeds: QiaoIndex) -> None:
    facets = search(seeds, "tags:头条要闻").facets
    assert facets["tags"] == {"頭條要聞": 100, "暖流": 99, "頭條": 1}
    assert facets["author"] == APPLE_AUTHORS


def test_a_hit_carries_its_author_and_tags(seeds: QiaoIndex) -> None:
    hit = search(seeds, "tag:頭條").hits[0]
    assert (hit.author, hit.tags, hit.to_dict()["tags"]) == ("向高彬", ("頭條", "頭條要聞"), ["頭條", "頭條要聞"])


def test_sharded_facets_of_author_and_tags_add_up_as_one_index(tmp_path: Path, seeds: QiaoIndex) -> None:
    build([SEEDS / "zh-hant-appledaily"], tmp_path / "sharded", shards=3)
    with QiaoIndex(tmp_path / "sharded") as sharded:
        found = search(sharded, "tags:暖流 醫藥費")
    one = search(seeds, "tags:暖流 醫藥費")
    assert (found.total_hits, found.facets["author"], found.facets["tags"]) == (7, one.facets["author"], one.facets["tags"])


def test_an_index_of_the_previous_schema_is_refused_with_the_command_to_rebuild(tmp_path: Path) -> None:
    build([write_jsonl(tmp_path / "one.jsonl", REUTERS[:1])], tmp_path / "index")
    meta = tmp_path / "index" / "current" / "qiao.json"
    meta.write_text(meta.read_text(encoding="utf-8").replace('"analyzer_version": "5"', '"analyzer_version": "4"'),
                    encoding="utf-8")
    with pytest.raises(IndexMismatch, match="analyzer version 4; this Qiao uses 5. Run: qiao index build"):
        QiaoIndex(tmp_path / "index")


def test_an_article_added_through_the_api_is_found_by_its_author_and_tags(writer: FlaskClient) -> None:
    record = {**REUTERS[1], "author": "王小明", "tags": "贸易,Switzerland"}
    answer = writer.post("/api/articles", json=record, headers={"Authorization": f"Bearer {TOKEN}"}).get_json()
    assert answer["counts"]["added"] == 1
    for q in ("author:王小明", "author:王小明 tags:switzerland", "貿易", "tags:貿易"):
        assert [h["id"] for h in writer.get("/api/search", query_string={"q": q}).get_json()["hits"]] == ["reuters-924"]
    facets = writer.get("/api/search", query_string={"q": "tags:贸易"}).get_json()["facets"]
    assert (facets["author"], facets["tags"]) == ({"王小明": 1}, {"Switzerland": 1, "贸易": 1})


def test_did_you_mean_leaves_author_and_tag_values_alone(seeds: QiaoIndex) -> None:
    assert search(seeds, "goverment author:goverment tag:goverment").suggestion == (
        "government author:goverment tag:goverment")


def test_the_cli_finds_by_author_and_shows_it(seeds_index_dir: Path) -> None:
    result = CliRunner().invoke(qiao, ["search", "author:孙敏聿", "--index", str(seeds_index_dir), "--limit", "1"])
    assert result.output.splitlines()[0].startswith("8 results in ")
    assert "1. 夫肢殘 獨育癌妻2幼子  [zh-Hant · 蘋果日報 · 2008-11-03 · 孫敏聿]  id=u76b5114462ee9752" in result.output
