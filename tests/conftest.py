"""Shared fixtures: one index of the shipped seeds for the whole test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search.index import QiaoIndex, build

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeds_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index built from seeds/ (read-only for tests)."""
    index_dir = tmp_path_factory.mktemp("seeds-index")
    build([SEEDS], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def seeds(seeds_index_dir: Path) -> Iterator[QiaoIndex]:
    """The seeds index, open for searching."""
    with QiaoIndex(seeds_index_dir) as ix:
        yield ix
