"""search.whoosh_glue: what it reads from Whoosh's internals agrees with Whoosh's public API,
and it runs on the pinned Whoosh only."""

from __future__ import annotations

import ast
import importlib.metadata
import tomllib
from pathlib import Path

import numpy as np
import pytest

from search.index import QiaoIndex, add, build, delete, stats
from search.whoosh_glue import (
    WHOOSH_DISTRIBUTION,
    WHOOSH_VERSION,
    SegmentCache,
    WhooshVersionError,
    check_whoosh_version,
    facet_codes,
    field_lengths,
    posting_blocks,
)

from .conftest import write_jsonl

STORIES = [
    {"id": "zh-1", "title": "香港经济增长", "body": "香港经济今年增长，香港股市上涨。", "lang": "zh", "source": "港报"},
    {"id": "en-1", "title": "Hong Kong grows", "body": "The economy of Hong Kong grew.", "lang": "en", "source": "Wire"},
    {"id": "en-2", "title": "Markets", "body": "Markets rose in Hong Kong and Hong Kong again.", "lang": "en"},
]


@pytest.fixture
def two_segments(tmp_path: Path) -> Path:
    """An index of two segments (a build, then an add), with one article deleted."""
    index_dir = tmp_path / "index"
    build([write_jsonl(tmp_path / "a.jsonl", STORIES[:2])], index_dir)
    add([write_jsonl(tmp_path / "b.jsonl", STORIES[2:])], index_dir)
    delete(["zh-1"], index_dir)
    return index_dir


def test_facet_codes_number_every_document_of_every_segment(two_segments: Path) -> None:
    with QiaoIndex(two_segments) as ix:
        searcher = ix.searcher()
        assert len(searcher.reader().leaf_readers()) == 2
        values, codes = facet_codes(searcher, "lang")
        expected = [searcher.stored_fields(d).get("lang") for d in range(searcher.doc_count_all())]
        assert [values[c] for c in codes] == expected


def test_stats_count_live_documents_only(two_segments: Path) -> None:
    with QiaoIndex(two_segments) as ix:
        data = stats(ix)
    assert (data["documents"], data["by_lang"], data["by_source"]) == (2, {"en": 2}, {"Wire": 1})


def test_posting_blocks_hold_every_posting_with_its_frequency(two_segments: Path) -> None:
    with QiaoIndex(two_segments) as ix:
        reader = ix.searcher().reader().leaf_readers()[0][0]
        blocks = list(posting_blocks(reader, "body", "hong"))
        matcher = reader.postings("body", "hong")
        expected = list(matcher.items_as("frequency"))
    ids = np.concatenate([b[0] for b in blocks]).tolist()
    weights = [w for b in blocks for w in (b[1] or [1.0] * len(b[0]))]
    assert list(zip(ids, weights)) == expected


def test_field_lengths_are_whooshs_document_field_lengths(two_segments: Path) -> None:
    with QiaoIndex(two_segments) as ix:
        reader = ix.searcher().reader().leaf_readers()[0][0]
        lengths = field_lengths(reader, "body").tolist()
        assert lengths == [reader.doc_field_length(d, "body") for d in range(reader.doc_count_all())]


def test_segment_cache_keeps_the_most_recently_used(two_segments: Path) -> None:
    cache = SegmentCache(2)
    with QiaoIndex(two_segments) as ix:
        reader = ix.searcher().reader().leaf_readers()[0][0]
        loads: list[str] = []
        for name in ["a", "b", "a", "c", "a", "b"]:
            cache.get(reader, "test", name, lambda name=name: loads.append(name))
    assert loads == ["a", "b", "c", "b"]


def test_installed_whoosh_is_the_one_pinned_in_pyproject() -> None:
    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for d in pyproject["project"]["dependencies"] if d.lower().startswith(WHOOSH_DISTRIBUTION + "==")]
    assert pins == [f"{WHOOSH_DISTRIBUTION}=={WHOOSH_VERSION}"]
    assert importlib.metadata.version(WHOOSH_DISTRIBUTION) == WHOOSH_VERSION


@pytest.mark.parametrize(("installed", "imported"), [("2.7.6", "2.7.6"), (None, "2.7.4"), ("2.7.5", "2.7.4")])
def test_another_whoosh_is_refused_with_what_was_found_and_why(installed: str | None, imported: str) -> None:
    with pytest.raises(WhooshVersionError) as error:
        check_whoosh_version(installed, imported)
    message = str(error.value)
    assert f"{WHOOSH_DISTRIBUTION}=={WHOOSH_VERSION}" in message
    assert f"imported whoosh {imported}" in message
    assert "posting blocks" in message


def is_private_of_another(node: ast.AST) -> bool:
    """``x._name`` where x is not self or cls."""
    return (
        isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    )


def test_only_whoosh_glue_reads_private_names_of_other_objects() -> None:
    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted([*root.joinpath("search").rglob("*.py"), *root.joinpath("web").rglob("*.py")]):
        if path.name == "whoosh_glue.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if is_private_of_another(node):
                found.append(f"{path.relative_to(root)}:{node.lineno} {ast.unparse(node)}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whoosh"):
                found += [f"{path.relative_to(root)}:{node.lineno} {a.name}" for a in node.names if a.name.startswith("_")]
    assert found == []


def test_indexes_that_name_their_codec_by_its_old_place_still_open() -> None:
    # An index records its codec's class by module path; those built before the codec moved here
    # name search.schema.Codec, and unpickling them needs that name to be this class.
    import pickle

    import search.schema

    assert search.schema.Codec is pickle.loads(b"\x80\x04csearch.schema\nCodec\n.")
    assert search.schema.Codec.__module__ == "search.whoosh_glue"
