"""Did you mean: misspelled English words of a query corrected from the seeds index's own words."""

from __future__ import annotations

import jsonschema
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from flask.testing import FlaskClient

from search.cli import main as qiao
from search.index import QiaoIndex
from search.query.search import search
from search.query.suggest import suggest
from web.openapi import OPENAPI


@pytest.mark.parametrize(("typed", "meant"), [
    ("cooperatoin", "cooperation"),  # a transposition; indexed as the stem cooper
    ("goverment", "government"),
    ("tecnology", "technology"),
    ("Britian", "Britain"),  # the typed word's capital kept
])
def test_a_misspelled_word_that_finds_nothing_is_corrected(seeds: QiaoIndex, typed: str, meant: str) -> None:
    result = search(seeds, typed)
    assert result.total_hits == 0
    assert result.suggestion == meant
    assert search(seeds, meant).total_hits >= 3


@pytest.mark.parametrize(("typed", "meant"), [
    ("相港", "香港"),  # 相 for 香: both xiang
    ("重青", "重庆"),  # 重 read chong as well as zhong
    ("相港 经机", "香港 经济"),
])
def test_a_chinese_word_typed_with_a_character_of_the_same_sound_is_corrected(
    seeds: QiaoIndex, typed: str, meant: str,
) -> None:
    result = search(seeds, typed)
    assert result.total_hits == 0
    assert result.suggestion == meant


@pytest.mark.parametrize("q", ["cooperation", "government", "Hong Kong", "香港", "重慶", "kong", "北金", ""])
def test_a_query_with_hits_or_without_misspellings_has_no_suggestion(seeds: QiaoIndex, q: str) -> None:
    assert search(seeds, q).suggestion is None


def test_a_misspelled_word_in_a_longer_query_keeps_the_other_words_and_the_syntax(seeds: QiaoIndex) -> None:
    assert search(seeds, "Hong Kong goverment").suggestion == "Hong Kong government"
    assert search(seeds, '"hong kong" title:goverment -tecnology source:bbc').suggestion == (
        '"hong kong" title:government -technology source:bbc')


def test_a_suggestion_is_never_the_query_and_not_made_for_many_hits(seeds: QiaoIndex) -> None:
    searcher = seeds.searcher()
    assert suggest(searcher, "goverment", total_hits=3) is None
    assert suggest(searcher, "goverment", total_hits=30, fallback="or") == "government"
    assert suggest(searcher, "government", total_hits=0) is None


def test_the_json_has_the_suggestion_as_the_schema_says(client: FlaskClient) -> None:
    body = client.get("/api/search", query_string={"q": "goverment"}).get_json()
    assert body["suggestion"] == "government"
    schema = OPENAPI["paths"]["/api/search"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": OPENAPI["components"]})
    assert client.get("/api/search", query_string={"q": "government"}).get_json()["suggestion"] is None


def test_the_cli_prints_did_you_mean(seeds_index_dir: object) -> None:
    printed = CliRunner().invoke(qiao, ["search", "cooperatoin", "--index", str(seeds_index_dir)]).output
    assert "Did you mean: cooperation" in printed


@pytest.mark.parametrize(("hl", "before", "after"), [("en", "Did you mean ", "?"), ("zh", "您是不是要找 ", "？")])
def test_the_page_links_to_the_corrected_search(client: FlaskClient, hl: str, before: str, after: str) -> None:
    page = BeautifulSoup(client.get("/", query_string={"q": "goverment", "lang": "en", "hl": hl}).data, "html.parser")
    notice = page.select_one(".notice.suggestion")
    assert notice is not None and notice.get_text() == f"{before}government{after}"
    assert notice.a["href"] == "/?q=government&lang=en"
    assert not BeautifulSoup(client.get("/?q=government").data, "html.parser").select(".notice.suggestion")
