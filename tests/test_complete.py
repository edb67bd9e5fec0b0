"""Suggestions while typing: words and titles of the seeds index completing what is typed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from flask.testing import FlaskClient

from search.articles import Article
from search.cli import main as qiao
from search.errors import QueryError
from search.index import QiaoIndex, add_articles, build, delete
from search.query.complete import Completion, complete
from web.openapi import OPENAPI

from .conftest import SMALL


def words(found: tuple[Completion, ...]) -> list[tuple[str, int]]:
    return [(s.text, s.articles) for s in found if s.kind == "word"]


def titles(found: tuple[Completion, ...]) -> list[tuple[str, str | None]]:
    return [(s.text, s.id) for s in found if s.kind == "title"]


def test_a_chinese_prefix_completes_to_the_words_of_the_most_articles(seeds: QiaoIndex) -> None:
    # 香港 is a word of 16 seed articles' bodies (9 titles, all among them), checked by analysing them.
    assert words(complete(seeds, "香").suggestions) == [("香港", 16), ("香港特区政府", 6), ("香江", 2), ("香港特区", 2)]


def test_a_traditional_prefix_completes_as_its_simplified_form_does(seeds: QiaoIndex) -> None:
    traditional, simplified = complete(seeds, "醫").suggestions, complete(seeds, "医").suggestions
    assert traditional == simplified
    assert words(traditional)[0] == ("医院", 79)


def test_a_simplified_prefix_finds_the_word_of_traditional_articles(seeds: QiaoIndex) -> None:
    assert words(complete(seeds, "蘋果").suggestions) == [("苹果", 100)]
    assert words(complete(seeds, "苹").suggestions)[0] == ("苹果", 100)


def test_the_last_word_of_a_chinese_run_is_completed_and_the_rest_kept(seeds: QiaoIndex) -> None:
    assert words(complete(seeds, "重庆香", limit=2).suggestions) == [("重庆香港", 16), ("重庆香港特区政府", 6)]
    assert words(complete(seeds, "重庆 香", limit=2).suggestions) == [("重庆 香港", 16), ("重庆 香港特区政府", 6)]


def test_an_english_prefix_completes_to_the_words_of_the_most_articles_as_typed(seeds: QiaoIndex) -> None:
    # 121 seed articles have the word "government" (their text split at anything but letters,
    # digits and apostrophes); "government's" is a word of its own.
    assert words(complete(seeds, "gov").suggestions) == [
        ("government", 121), ("governor", 35), ("government's", 24), ("governments", 9)]
    assert words(complete(seeds, "Hong Kon").suggestions) == [("Hong Kong", 11), ("Hong Kong's", 5)]


def test_titles_match_at_the_start_of_any_of_their_words_the_newest_first(seeds: QiaoIndex) -> None:
    assert titles(complete(seeds, "hong kong pro").suggestions) == [
        ("Hong Kong protests continue through police opposition, rainstorms", "u373a30f67c38b942"),  # 2019-08-19
        ("Hong Kong protesters surround downtown police complex", "u315160207c5336b7"),  # 2019-06-23
    ]
    assert titles(complete(seeds, "宁德", limit=2).suggestions) == [("宁德时代落户香港 设国际总部与研发中心", "u99068b45e9be5cd2")]


def test_words_come_first_and_titles_take_half_of_the_places(seeds: QiaoIndex) -> None:
    found = complete(seeds, "香", limit=8).suggestions
    assert [s.kind for s in found] == ["word"] * 4 + ["title"] * 4
    assert len(complete(seeds, "香", limit=3).suggestions) == 3


def test_nothing_typed_or_nothing_known_suggests_nothing(seeds: QiaoIndex) -> None:
    assert complete(seeds, "").suggestions == ()
    assert complete(seeds, "   ").suggestions == ()
    assert complete(seeds, "xyzzyq").suggestions == ()


@pytest.mark.parametrize("limit", [0, 21])
def test_a_limit_outside_1_to_20_is_a_query_error(seeds: QiaoIndex, limit: int) -> None:
    with pytest.raises(QueryError, match="limit must be from 1 to 20"):
        complete(seeds, "香", limit=limit)


CQ_TITLE = ("重庆与香港加强合作", "cq-hk")


def test_a_deleted_article_leaves_and_an_added_one_joins_the_titles(small_index_dir: Path) -> None:
    with QiaoIndex(small_index_dir) as index:
        assert titles(complete(index, "重庆").suggestions) == [CQ_TITLE]
        delete(["cq-hk"], small_index_dir)
        assert titles(complete(index, "重庆").suggestions) == []
        add_articles([Article(id="hotpot", title="重庆火锅节开幕", body="重庆火锅节今天开幕。", lang="zh-Hans",
                              published=datetime(2024, 5, 1))], small_index_dir)
        assert titles(complete(index, "重庆").suggestions) == [("重庆火锅节开幕", "hotpot")]


def test_a_sharded_index_suggests_what_one_index_does(tmp_path: Path, small_index_dir: Path) -> None:
    build([], tmp_path / "sharded", shards=3)
    add_articles(SMALL, tmp_path / "sharded")
    with QiaoIndex(tmp_path / "sharded") as sharded, QiaoIndex(small_index_dir) as one:
        for typed in ("重庆", "hong", "Hong Kong", "香"):
            assert complete(sharded, typed).suggestions == complete(one, typed).suggestions
        assert titles(complete(sharded, "hong").suggestions) == [  # newest first
            ("Hong Kong markets rally", "hk-en"), ('<script>alert("title")</script> Hong Kong', "evil")]


def test_the_api_answers_what_the_library_does_as_the_schema_says(client: FlaskClient, seeds: QiaoIndex) -> None:
    body = client.get("/api/suggest", query_string={"q": "醫", "limit": "3"}).get_json()
    expected = complete(seeds, "醫", limit=3).to_dict()
    assert {**body, "processing_time_ms": 0} == {**expected, "processing_time_ms": 0}
    schema = OPENAPI["paths"]["/api/suggest"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": OPENAPI["components"]})


def test_the_api_refuses_a_bad_limit_with_a_json_error(client: FlaskClient) -> None:
    response = client.get("/api/suggest", query_string={"q": "香", "limit": "many"})
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "bad_parameter", "message": "limit must be a whole number, not 'many'"}


def test_the_cli_prints_the_suggestions(seeds_index_dir: Path) -> None:
    out = CliRunner().invoke(qiao, ["suggest", "重庆香", "--limit", "2", "--index", str(seeds_index_dir)])
    assert out.exit_code == 0
    assert out.output == "word       16  重庆香港\nword        6  重庆香港特区政府\n"


def test_the_page_tells_the_script_where_to_ask(client: FlaskClient) -> None:
    form = BeautifulSoup(client.get("/").data, "html.parser").select_one("form.searchbox")
    assert form["data-suggest"] == "/api/suggest"
    assert form["data-count-label"] == "{n} suggestions; use the arrow keys to choose"
    box = form.select_one("#q")
    assert box.get("role") is None  # a combobox only once the script makes it one
