"""Fixtures of the web tests: apps over the seeds index or a small writable one, and live servers.

Test modules load this with ``pytest_plugins`` and also import its constants, so pytest sees it
imported before it could rewrite its asserts (it has none): PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import waitress
from flask import Flask
from flask.testing import FlaskClient

from search.articles import Article
from search.index import add_articles, build
from web import create_app
from web.server import close, urls

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "correct-horse-battery-staple"

# A small index to write to, with one article whose every field is hostile markup.
SMALL = (
    Article(
        id="cq-hk", title="重庆与香港加强合作", body="重庆和香港签署合作备忘录。\n双方将在金融和物流领域合作。",
        url="https://example.com/cq-hk", published=datetime(2023, 5, 11), source="测试社",
        category="要闻", lang="zh-Hans", captions=("重庆代表团访问香港",), tags=("重庆", "香港"),
    ),
    Article(
        id="hk-en", title="Hong Kong markets rally", body="Shares in Hong Kong rose on Monday.",
        url="https://example.com/hk-en", published=datetime(2024, 2, 3), source="Wire",
        category="business", lang="en",
    ),
    Article(
        id="evil", title='<script>alert("title")</script> Hong Kong',
        body='<img src=x onerror=alert(1)> Hong Kong & Macau', url="javascript:alert(1)",
        published=datetime(2024, 1, 2), source="<b>Evil</b>", category="<i>x</i>", lang="en",
        captions=("<svg onload=alert(2)>",), tags=("<u>t</u>",),
    ),
)


def serve_in_thread(app: Flask) -> tuple[object, threading.Thread, str]:
    """A real waitress server for ``app`` on a free port, running in a background thread."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, thread, urls(server)[0]


@pytest.fixture
def app(seeds_index_dir: Path) -> Iterator[Flask]:
    """The app over the seeds index, with no API token."""
    app = create_app({"INDEX_DIR": seeds_index_dir, "TESTING": True})
    yield app
    close(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def small_index_dir(tmp_path: Path) -> Path:
    """An index of the SMALL articles, for tests that write."""
    index_dir = tmp_path / "index"
    build([], index_dir)
    add_articles(SMALL, index_dir)
    return index_dir


@pytest.fixture
def writable_app(small_index_dir: Path) -> Iterator[Flask]:
    """The app over the small index, started with an API token."""
    app = create_app({"INDEX_DIR": small_index_dir, "API_TOKEN": TOKEN, "TESTING": True})
    yield app
    close(app)


@pytest.fixture
def writer(writable_app: Flask) -> FlaskClient:
    return writable_app.test_client()


@pytest.fixture
def no_index_client(tmp_path: Path) -> Iterator[FlaskClient]:
    """The app over a folder where no index has been built yet."""
    app = create_app({"INDEX_DIR": tmp_path / "missing", "TESTING": True})
    yield app.test_client()
    close(app)


@pytest.fixture(scope="session")
def live_server(seeds_index_dir: Path) -> Iterator[str]:
    """The base URL of the app over the seeds index on a real waitress server."""
    app = create_app({"INDEX_DIR": seeds_index_dir})
    server, thread, url = serve_in_thread(app)
    yield url
    server.close()  # type: ignore[attr-defined]
    thread.join(timeout=10)
    close(app)
