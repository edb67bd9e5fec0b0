"""Qiao: its normal build of the JSONL file, and its one search function (top 10, highlights, facets)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engines.answers import TOP, AnswerError


def build(input_path: Path, index_dir: Path, lang: str) -> int:
    """Qiao's normal build of a JSONL file."""
    from search.index import build as build_index

    return build_index([input_path], index_dir).indexed


def searcher(index_dir: Path) -> Callable[[dict], int]:
    """Qiao's one search function: top 10 with highlights and facets."""
    from search.errors import QueryError
    from search.index import QiaoIndex
    from search.query.search import search

    index = QiaoIndex(index_dir)

    def run(query: dict) -> int:
        try:
            return search(index, query["q"], per_page=TOP, **query["options"]).total_hits
        except QueryError as e:  # a timeout: counted by the caller, timed like any answer
            raise AnswerError(e.code) from None

    return run
