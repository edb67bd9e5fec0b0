"""SearchOptions is the one list of search options: the CLI, the OpenAPI document, the URL
parameters and the result cache all say what it says."""

from __future__ import annotations

import re

import click
import pytest
from flask.testing import FlaskClient

from search.cli import main as qiao
from search.errors import QueryError
from search.options import SearchOptions, options
from web import views
from web.openapi import OPENAPI

DEFAULTS = SearchOptions()


def test_cli_search_has_an_argument_or_option_for_each_field_and_no_other() -> None:
    command = qiao.get_command(click.Context(qiao), "search")
    params = {param.name: param for param in command.params}
    for name, option in options():
        param = params.pop(name)
        if option.flag is None:
            assert isinstance(param, click.Argument)
            continue
        assert isinstance(param, click.Option)
        assert param.opts + param.secondary_opts == option.flag.split("/")  # --collapse/--no-collapse: both
        assert param.help == option.help
        assert param.default == getattr(DEFAULTS, name)
        assert (param.type is click.INT) == (option.schema.get("type") == "integer")
    assert set(params) == {"index_dir", "as_json", "output"}  # where to search and how to print: not options


def test_cli_date_help_names_every_form_the_parser_takes() -> None:
    command = qiao.get_command(click.Context(qiao), "search")
    helps = {param.name: param.help for param in command.params}
    for name in ("date_from", "date_to"):
        assert "YYYY-MM-DD, YYYY-MM or YYYY" in helps[name]


def test_openapi_search_parameters_are_the_options() -> None:
    parameters = OPENAPI["paths"]["/api/search"]["get"]["parameters"]
    assert [(p["name"], p["description"], p["schema"]) for p in parameters] == [
        (option.url, option.help, option.schema) for _, option in options()
    ]
    assert all(p["in"] == "query" and not p["required"] for p in parameters)


def test_page_links_keep_every_url_parameter_but_the_page() -> None:
    assert set(views.KEPT) == {option.url for _, option in options()} - {"page"}


@pytest.mark.parametrize("params", [
    {"q": "Hong Kong", "page": "2", "per_page": "20", "lang": "en", "source": "Reuters",
     "category": "world", "from": "2023-05", "to": "2024", "sort": "date", "collapse": "off"},
    {"q": "香港"},
    {},
])
def test_url_parameters_round_trip(params: dict[str, str]) -> None:
    assert SearchOptions.from_params(params).to_params() == params


def test_every_field_has_a_distinct_url_name_and_flag() -> None:
    urls = [option.url for _, option in options()]
    flags = [option.flag for _, option in options() if option.flag]
    assert len(set(urls)) == len(urls) and len(set(flags)) == len(flags)


def test_cache_key_is_equal_for_searches_that_give_the_same_result() -> None:
    assert SearchOptions(q="x", sort="DATE", page=1).key() == SearchOptions.from_params({"q": "x", "sort": "date"}).key()
    assert SearchOptions(q="x").key() != SearchOptions(q="x", page=2).key()
    assert SearchOptions(q="x").key() != SearchOptions(q="x", date_from="2023").key()


@pytest.mark.parametrize(("params", "message"), [
    ({"page": "two"}, "page must be a whole number"),
    ({"per_page": "1000"}, "per_page must be between 1 and 100"),
    ({"sort": "oldest"}, "sort must be one of relevance, relevance_recent, date, date_asc"),
    ({"from": "2024", "to": "2023"}, "is after to"),
    ({"from": "May 2023"}, "from must be a date"),
])
def test_bad_url_parameters_are_query_errors(params: dict[str, str], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        SearchOptions.from_params(params)


def test_the_search_form_sends_the_url_names(no_index_client: FlaskClient) -> None:
    given = {"q": "x", "per_page": "20", "lang": "en", "source": "s", "category": "c", "author": "a", "tags": "t",
             "sort": "date"}
    page = no_index_client.get("/", query_string=given).get_data(as_text=True)
    sent = set(re.findall(r'<(?:input|select)\b[^>]*\bname="([^"]+)"', page))
    assert sent == set(views.KEPT)
