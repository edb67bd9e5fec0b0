"""Related articles: the seed articles most like a seed article, without it and its copies."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from flask.testing import FlaskClient

from search.articles import Article
from search.cli import main as qiao
from search.errors import ArticleNotFound, QueryError
from search.index import QiaoIndex, add_articles, build
from search.query.related import MORE_LIKE_THIS, distinctive_words, related
from search.query.search import get_article, search
from web.openapi import OPENAPI

from .conftest import SMALL

GHALI_FRIEND = "u5cf08c845c51ccad"  # 中方：加利先生是中国人民的老朋友 (2016-02-17)
GHALI_DEATH = "u25e8ac51580f2b2c"  # 中方：对联合国前秘书长加利逝世深感悲痛 (the same day)
CENTOS = "ub9b5dea3d313e11e"  # Red Hat to move focus away from CentOS in favour of Stream; …
ROCKY = "u024dc6bb5a703519"  # Gregory Kurtzer discusses plans for Rocky Linux … moving focus away from CentOS
EXTRADITION = "u840059137e909039"  # Hong Kong leader announces withdrawal of extradition bill
PROTESTERS = "u315160207c5336b7"  # Hong Kong protesters surround downtown police complex (over the bill)


@pytest.mark.parametrize(("article", "first"), [
    (GHALI_FRIEND, GHALI_DEATH),  # both: the Chinese foreign ministry on Boutros Boutros-Ghali's death
    (GHALI_DEATH, GHALI_FRIEND),
    (CENTOS, ROCKY),  # both: CentOS replaced by CentOS Stream, and what its users do now
    (EXTRADITION, PROTESTERS),  # both: the 2019 protests against Hong Kong's extradition bill
])
def test_the_most_alike_article_comes_first(seeds: QiaoIndex, article: str, first: str) -> None:
    assert related(seeds, article).hits[0].id == first


def test_the_query_is_the_articles_distinctive_words_weighted_by_tf_idf(seeds: QiaoIndex) -> None:
    stored = seeds.searcher().document(id=CENTOS)
    found = distinctive_words(seeds.searcher(), stored)
    assert [word for word, _ in found[:5]] == ["centos", "rhel", "hat", "red", "stream"]
    assert related(seeds, CENTOS).query.startswith("centos^1.00 OR rhel^0.39 OR hat^0.37 OR red^0.33 OR stream^0.32")


def test_the_article_itself_is_never_related(seeds: QiaoIndex) -> None:
    found = related(seeds, GHALI_FRIEND, limit=20)
    assert len(found.hits) == 20
    assert GHALI_FRIEND not in {h.id for h in found.hits}
    assert search(seeds, found.query).hits[0].id == GHALI_FRIEND  # its own words find it first


def test_a_copy_of_the_article_or_of_a_listed_one_is_left_out(seeds_index_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index_dir, symlinks=True)
    with QiaoIndex(index_dir) as index:
        death = get_article(index, GHALI_DEATH)
        copy = Article(id="ghali-copy", title=str(death["title"]), body="（来源：新华网）\n" + str(death["body"]),
                       source="新华网", lang="zh-Hans")
        friend = get_article(index, GHALI_FRIEND)
        own_copy = Article(id="friend-copy", title=str(friend["title"]), body=str(friend["body"]), source="新浪", lang="zh-Hans")
        add_articles([copy, own_copy], index_dir)
        found = related(index, GHALI_FRIEND, limit=10)
        ids = [h.id for h in found.hits]
        listed = {h.id for h in search(index, found.query, per_page=10, collapse=False).hits}
    assert {"ghali-copy", "friend-copy", GHALI_DEATH} <= listed  # the search finds both copies...
    assert ids[0] == GHALI_DEATH  # ...the first of the death report's two is kept...
    assert "ghali-copy" not in ids and "friend-copy" not in ids  # ...and neither copy is listed
    assert len(ids) == 10


def test_an_unknown_article_is_not_found(seeds: QiaoIndex) -> None:
    with pytest.raises(ArticleNotFound, match="no article with id 'nope'"):
        related(seeds, "nope")


@pytest.mark.parametrize("limit", [0, 21])
def test_a_limit_outside_1_to_20_is_a_query_error(seeds: QiaoIndex, limit: int) -> None:
    with pytest.raises(QueryError, match="limit must be from 1 to 20"):
        related(seeds, CENTOS, limit=limit)


def test_an_article_without_distinctive_words_has_no_related_ones(small_index_dir: Path) -> None:
    with QiaoIndex(small_index_dir) as index:  # three articles: every word is in too many of them
        found = related(index, "cq-hk")
    assert (found.query, found.hits) == ("", ())


def test_a_sharded_index_finds_what_one_index_does(tmp_path: Path, small_index_dir: Path) -> None:
    build([], tmp_path / "sharded", shards=3)
    add_articles(SMALL, tmp_path / "sharded")
    rule = replace(MORE_LIKE_THIS, max_doc_share=1.0)  # three articles: any shared word is in a third of them
    with QiaoIndex(tmp_path / "sharded") as sharded, QiaoIndex(small_index_dir) as one:
        found, expected = related(sharded, "hk-en", rule=rule), related(one, "hk-en", rule=rule)
    assert found.query == expected.query == "hong^1.00 OR kong^1.00"
    assert [h.id for h in found.hits] == [h.id for h in expected.hits] == ["evil"]


def test_the_api_answers_what_the_library_does_as_the_schema_says(client: FlaskClient, seeds: QiaoIndex) -> None:
    body = client.get(f"/api/articles/{CENTOS}/related", query_string={"limit": "3"}).get_json()
    expected = related(seeds, CENTOS, limit=3).to_dict()
    assert {**body, "processing_time_ms": 0} == {**expected, "processing_time_ms": 0}
    assert body["hits"][0]["id"] == ROCKY
    schema = OPENAPI["paths"]["/api/articles/{id}/related"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": OPENAPI["components"]})


def test_the_api_route_takes_ids_with_slashes(client: FlaskClient) -> None:
    body = client.get("/api/articles/en-bbc/business/004.txt/related").get_json()
    assert body["id"] == "en-bbc/business/004.txt"
    assert client.get("/api/articles/en-bbc/business/004.txt").get_json()["id"] == "en-bbc/business/004.txt"


def test_the_api_says_an_unknown_article_is_not_found_in_json(client: FlaskClient) -> None:
    response = client.get("/api/articles/nope/related")
    assert response.status_code == 404
    assert response.get_json() == {"ok": False, "status": 404,
                                   "error": {"code": "not_found", "message": "no article with id 'nope'"}}


def test_the_article_page_lists_the_related_articles(client: FlaskClient, seeds: QiaoIndex) -> None:
    page = BeautifulSoup(client.get(f"/articles/{GHALI_FRIEND}?hl=en").data, "html.parser")
    section = page.select_one("section.related")
    assert section.h2.get_text() == "Related articles"
    links = [a["href"] for a in section.select("li a")]
    assert links == [f"/articles/{h.id}" for h in related(seeds, GHALI_FRIEND).hits]
    assert links[0] == f"/articles/{GHALI_DEATH}"
    assert section.select_one("li a").get_text() == "中方：对联合国前秘书长加利逝世深感悲痛"


def test_the_cli_prints_the_related_articles(seeds_index_dir: Path) -> None:
    out = CliRunner().invoke(qiao, ["related", CENTOS, "--limit", "1", "--index", str(seeds_index_dir)])
    assert out.exit_code == 0
    assert out.output.splitlines()[1] == (
        "1. Gregory Kurtzer discusses plans for Rocky Linux with Wikinews as Red Hat announces moving focus "
        f"away from CentOS  [en · 2020-12-18]  id={ROCKY}")
    missing = CliRunner().invoke(qiao, ["related", "nope", "--index", str(seeds_index_dir)])
    assert (missing.exit_code, missing.output) == (2, "error: no article with id 'nope'\n")
