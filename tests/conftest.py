"""The tests' one fixture module: the seeds index, apps over it or over a small writable index,
live ``qiao serve`` processes, and the phrase oracle's analysis of the seed articles.

Tests come in two tiers. The fast tier runs in this process (`pytest -m "not system"`); the
system tier (`pytest -m system`) starts real processes (the console script, gunicorn, writers
killed with kill -9, a pseudo-terminal, the browser) or indexes full-size input (8 MB articles). Test modules import this module's
constants and helpers (``from .conftest import ...``).
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from _pytest.doctest import DoctestModule
from flask import Flask
from flask.testing import FlaskClient

from search.analysis import analyze, fold, has_han
from search.articles import Article
from search.articles.records import article_from_record
from search.index import QiaoIndex, add_articles, build
from web import create_app
from web.server import close

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
ARTIFACTS = ROOT / "test-artifacts"
# The console script of the Python running the tests: a bare `qiao` would find whatever is on PATH.
QIAO = str(Path(sys.executable).with_name("qiao"))
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


@pytest.hookimpl(tryfirst=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport | None:
    """Doctests are looked for in search/ and web/, not in this folder's modules: --doctest-modules
    would import each test module a second time (and report test_browser's skip twice)."""
    if isinstance(collector, DoctestModule):
        return pytest.CollectReport(collector.nodeid, "passed", None, [])
    return None


@pytest.fixture(scope="session", autouse=True)
def venv_not_on_path() -> Iterator[None]:
    """Tests run as with the virtual environment not activated: nothing may rely on PATH finding it."""
    bin_dir = str(Path(sys.executable).parent)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if d != bin_dir))
        yield


@pytest.fixture(autouse=True)
def fast_tests_start_no_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test outside the system tier fails if it starts a process, rather than slowing the fast tier."""
    if request.node.get_closest_marker("system") is not None:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{request.node.nodeid} starts a process: mark it @pytest.mark.system")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


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


@pytest.fixture(scope="session")
def seed_han_words(seeds: QiaoIndex) -> list[tuple[str, str, list[tuple[int, int]]]]:
    """Every title, body and caption of the seeds, folded, with the spans of its Han words:
    (article id, text, spans). The phrase oracle reads these for every phrase; analysed once."""
    analysed = []
    for stored in seeds.searcher().all_stored_fields():
        for name in ("title", "body", "captions"):
            text = fold(stored.get(name, "")).text
            words = [(s, e) for _, _, s, e in analyze(text) if has_han(text[s:e])]
            analysed.append((stored["id"], text, words))
    return analysed


def qiao_command() -> list[str]:
    """The ``qiao`` console script installed beside the Python running the tests, as a command."""
    return [QIAO]


@contextmanager
def qiao_serve(index_dir: Path, *options: str, token: str = "") -> Iterator[tuple[subprocess.Popen, str]]:
    """A real ``qiao serve`` process on a free port, answering /healthz; its URL. Stopped at the end."""
    process = subprocess.Popen(
        [*qiao_command(), "serve", "--index", str(index_dir), "--port", "0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "QIAO_API_TOKEN": token},
    )
    try:
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=60), "qiao serve printed nothing within 60 s"
        line = process.stdout.readline().strip()
        assert line.startswith("Serving Qiao on http://127.0.0.1:"), line + process.stderr.read()
        url = line.removeprefix("Serving Qiao on ")
        deadline = time.monotonic() + 60  # a server of Ray shard actors starts them first
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=5):
                    break
            except (urllib.error.URLError, TimeoutError):  # not listening yet, or a worker still warming up
                assert time.monotonic() < deadline, "no answer from /healthz within 60 s"
                time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


RAY_PORT = 18250  # the head node of the tests' Ray cluster


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """A real Ray cluster of two nodes on this machine, a head on 127.0.0.1 and a node on
    127.0.0.2 (``ray start``, one CPU each, token authentication off), joined by this process;
    its address. Both nodes and every process they started are stopped at the end."""
    import ray

    address = f"127.0.0.1:{RAY_PORT}"
    ray_cli = str(Path(sys.executable).with_name("ray"))
    # Ray's workers take ports from 10002 to 19999 unless told: above the head's port, here.
    common = ["--block", "--num-cpus=1", "--disable-usage-stats", "--min-worker-port=20000", "--max-worker-port=20999"]
    nodes = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "disabled")
        try:
            for args in (["--head", f"--port={RAY_PORT}", "--node-ip-address=127.0.0.1", "--include-dashboard=false"],
                         [f"--address={address}", "--node-ip-address=127.0.0.2"]):
                nodes.append(subprocess.Popen([ray_cli, "start", *args, *common], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL, start_new_session=True))
                if len(nodes) == 1:
                    _wait_for_port("127.0.0.1", RAY_PORT, 60)
            ray.init(address=address, namespace="qiao", logging_level="ERROR", log_to_driver=False)
            deadline = time.monotonic() + 60
            while sum(node["Alive"] for node in ray.nodes()) < 2:
                assert time.monotonic() < deadline, "the second Ray node did not join within 60 s"
                time.sleep(0.5)
            yield address
        finally:
            ray.shutdown()
            for node in reversed(nodes):
                _stop_group(node)


def _wait_for_port(host: str, port: int, seconds: float) -> None:
    """Wait until something listens on host:port."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {host}:{port} after {seconds:g} s"
            time.sleep(0.5)


def _stop_group(process: subprocess.Popen) -> None:
    """Stop a process started in a session of its own and all it started: SIGTERM, a grace
    period, then SIGKILL for whatever is left of the group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """Write ``records`` as a JSONL file of articles at ``path``."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def imported_modules(path: Path) -> set[str]:
    """The top-level packages a module imports, wherever the import statement is."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def wire_copies() -> list[dict]:
    """One story three times, as zh-news carries wire copy: a real article of the seeds (中国新闻网,
    its JSONL record as is) and two copies of it with another source, url, header line and title."""
    lines = (SEEDS / "zh-news.jsonl").read_text(encoding="utf-8").splitlines()
    original = json.loads(next(line for line in lines if "填补尼泊尔地震勘探空白" in line))
    header = "中新网西宁3月30日电(孙睿)"
    assert original["body"].startswith(header)
    rest = original["body"][len(header):]
    sina = {**original, "url": "https://news.sina.com.cn/c/2020-03-30/doc-nepal.shtml", "source": "新浪",
            "title": "中国技术填补尼泊尔地震勘探空白", "body": "新浪网西宁3月30日讯(孙睿)" + rest}
    sohu = {**original, "url": "https://www.sohu.com/a/2020-03-31/nepal", "source": "搜狐新闻",
            "published": "2020-3-31 08:02:00", "title": "青海油田技术助力尼泊尔地震勘探",
            "body": "搜狐3月31日消息 据中国新闻网报道，" + rest.rsplit("【编辑", 1)[0]}
    return [original, sina, sohu]


def record_ids(records: list[dict]) -> list[str]:
    """The ids Qiao gives JSON records (without an id field: from their url)."""
    return [article_from_record(r, fallback_id="").id for r in records]


@pytest.fixture(scope="session")
def story_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the seeds' zh-news articles and two wire copies of one of them (``wire_copies``)."""
    folder = tmp_path_factory.mktemp("story-articles")
    shutil.copy(SEEDS / "zh-news.jsonl", folder / "zh-news.jsonl")
    write_jsonl(folder / "copies.jsonl", wire_copies()[1:])
    index_dir = tmp_path_factory.mktemp("story-index")
    build([folder], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def stories(story_index_dir: Path) -> Iterator[QiaoIndex]:
    """The index of ``story_index_dir``, open for searching."""
    with QiaoIndex(story_index_dir) as ix:
        yield ix


@pytest.fixture(scope="session")
def story_server(story_index_dir: Path) -> Iterator[str]:
    """The base URL of ``qiao serve`` over ``story_index_dir`` (one worker; a port of dedup's range)."""
    with qiao_serve(story_index_dir, "--workers", "1", "--port", "18431") as (_, url):
        yield url


@pytest.fixture
def app(seeds_index_dir: Path) -> Iterator[Flask]:
    """The app over the seeds index, with no API token."""
    app = create_app({"INDEX_DIR": seeds_index_dir, "TESTING": True})
    yield app
    close(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app over the seeds index."""
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
    """A test client of the app over the small index."""
    return writable_app.test_client()


@pytest.fixture
def no_index_client(tmp_path: Path) -> Iterator[FlaskClient]:
    """The app over a folder where no index has been built yet."""
    app = create_app({"INDEX_DIR": tmp_path / "missing", "TESTING": True})
    yield app.test_client()
    close(app)


@pytest.fixture(scope="session")
def live_server(seeds_index_dir: Path) -> Iterator[str]:
    """The base URL of ``qiao serve`` over the seeds index, with two worker processes."""
    with qiao_serve(seeds_index_dir, "--workers", "2", "--threads", "2") as (_, url):
        yield url
