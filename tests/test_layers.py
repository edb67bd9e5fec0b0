"""Imports point one way, web -> search: the library never imports the web app or Flask, and
`qiao serve` reaches the CLI through the entry-point group web/ registers it in."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from fnmatch import fnmatchcase
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest

import search
from search.cli import COMMANDS_GROUP
from search.cli import main as qiao

from .conftest import imported_modules

SEARCH_DIR = Path(search.__file__).parent
ROOT = SEARCH_DIR.parent
WEB_ONLY = ("web", "flask", "werkzeug", "gunicorn", "markupsafe", "jinja2")


def test_the_library_never_imports_the_web_app() -> None:
    offenders = {
        str(path.relative_to(SEARCH_DIR.parent)): sorted(imported_modules(path) & set(WEB_ONLY))
        for path in SEARCH_DIR.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_serve_is_registered_by_web_through_the_entry_point_group() -> None:
    from web.server import serve

    (point,) = entry_points(group=COMMANDS_GROUP, name="serve")
    assert point.value == "web.server:serve"
    assert qiao.get_command(click.Context(qiao), "serve") is serve
    assert "serve" in qiao.list_commands(click.Context(qiao))


@pytest.mark.system  # a new interpreter, to see what importing search.cli alone loads
def test_the_cli_loads_the_web_app_only_for_its_commands() -> None:
    script = f"import sys, search.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in {WEB_ONLY!r}))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.system  # a new interpreter, to see what importing the code loads
def test_nothing_imports_ray_unless_asked() -> None:
    script = "import sys, search, search.cli, search.cluster, web.server; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_api_names_exist() -> None:
    assert {"open_index", "search", "SearchOptions", "SearchResult", "Hit", "build", "add", "delete",
            "get_article", "QiaoError"} <= set(search.__all__)
    assert all(hasattr(search, name) for name in search.__all__)


def test_a_plain_install_has_every_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {".".join(init.parent.relative_to(ROOT).parts)
                for top in ("search", "web") for init in (ROOT / top).rglob("__init__.py")}
    assert {"search", "search.query", "web"} <= packages
    assert {name for name in packages if not any(fnmatchcase(name, p) for p in patterns)} == set()
