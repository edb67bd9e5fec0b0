"""Shared fixtures: one index of the shipped seeds for the whole test session."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.index import QiaoIndex, build

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
# The console script of the Python running the tests: a bare `qiao` would find whatever is on PATH.
QIAO = str(Path(sys.executable).with_name("qiao"))


@pytest.fixture(scope="session", autouse=True)
def venv_not_on_path() -> Iterator[None]:
    """Tests run as with the virtual environment not activated: nothing may rely on PATH finding it."""
    bin_dir = str(Path(sys.executable).parent)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if d != bin_dir))
        yield


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
