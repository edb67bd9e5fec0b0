"""What `pip install .` brings is what the code imports: no module arrives only through an extra."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from .conftest import imported_modules

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("search", "web")


def normalized(name: str) -> str:
    """A distribution name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_dependencies() -> set[str]:
    """The distribution names in pyproject.toml's [project] dependencies (no extras)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {normalized(re.match(r"[A-Za-z0-9._-]+", spec).group()) for spec in project["dependencies"]}


# The one module that may import an optional extra's package, and the extra that brings it.
EXTRA_MODULES = {"search/cluster.py": ("cluster", "ray")}


def test_every_third_party_import_is_a_declared_dependency() -> None:
    providers = importlib.metadata.packages_distributions()
    files = [f for p in PACKAGES for f in (ROOT / p).rglob("*.py") if f.relative_to(ROOT).as_posix() not in EXTRA_MODULES]
    third_party = set().union(*(imported_modules(f) for f in files)) - set(sys.stdlib_module_names) - set(PACKAGES)
    undeclared = {
        module: providers.get(module, ["not installed"])
        for module in sorted(third_party)
        if not {normalized(d) for d in providers.get(module, [])} & declared_dependencies()
    }
    assert undeclared == {}


def test_only_the_cluster_module_imports_ray_and_its_extra_brings_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for path, (extra, module) in EXTRA_MODULES.items():
        outside = set(sys.stdlib_module_names) | set(PACKAGES) | {"numpy", "whoosh"}
        assert imported_modules(ROOT / path) - outside == {module}
        assert [normalized(re.match(r"[A-Za-z0-9._-]+", spec).group()) for spec in project["optional-dependencies"][extra]] == [module]
