"""`qiao serve`: the app on gunicorn, a production WSGI server: worker processes, threads in each.

Searching is mostly Python, so one process serves one search at a time whatever its threads;
worker processes use every CPU. The master checks the index and binds the port before it
starts them, so a missing index or a busy port is an error, not a crash loop. Each worker
opens the index itself, after the fork, and notices changes made by any other process.

The command reaches `qiao` through the entry-point group ``qiao.commands`` (pyproject.toml), so
the library in search/ never imports the web app.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.workers.base import Worker

from search.cli import index_option
from search.errors import QiaoError
from search.index import QiaoIndex
from search.query.search import search
from web import create_app
from web.store import holder

# Loads jieba's dictionary, and (the quoted phrase) every segment's lexicon for Chinese strings.
WARM_UP = '重庆 "香港" Hong Kong'
KEEPALIVE_SECONDS = 10
RAY_START_SECONDS = 60.0  # a local Ray head (--ray local) answers within this
NON_ASCII = re.compile(rb"[\x80-\xff]")


def default_workers() -> int:
    """One worker process per CPU this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


class Server(BaseApplication):
    """Gunicorn configured from arguments rather than its command line or a config file."""

    def __init__(self, app: Flask, settings: dict[str, Any]) -> None:
        self.flask = app
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.settings.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        return self.flask


class LenientRequest(Request):
    """Gunicorn's request, reading raw non-ASCII bytes in the target as if percent-encoded.

    curl and many scripts send ``/api/search?q=香港`` as UTF-8 bytes, which gunicorn refuses
    with an HTML 400 (RFC 9112 wants them percent-encoded); a browser would have sent
    ``q=%E9%A6%99%E6%B8%AF``, and this makes the same request of it.
    """

    def parse_request_line(self, line_bytes: bytes) -> None:
        bits = line_bytes.split(b" ", 2)
        if len(bits) == 3:
            bits[1] = NON_ASCII.sub(lambda byte: b"%%%02X" % byte[0][0], bits[1])
        super().parse_request_line(b" ".join(bits))


@click.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True, help="0 picks a free port.")
@click.option("--workers", type=click.IntRange(min=1), show_default="one per CPU", help="Worker processes.")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True,
              help="Threads in each worker process.")
@click.option("--cache", type=click.IntRange(min=0), default=1024, show_default=True,
              help="Search results each worker keeps for repeated searches; 0 turns the cache off.")
@click.option("--ray", "cluster", metavar="ADDRESS|local",
              help="Serve the shards from Ray actors on the cluster at ADDRESS (host:port), or on a Ray started "
                   "here (local); the workers coordinate. Needs pip install 'qiao[cluster]'.")
@click.option("--replicas", type=click.IntRange(min=1), default=1, show_default=True,
              help="With --ray: copies of each shard, each a Ray actor; a dead one's searches go to another.")
def serve(
    index_dir: Path, host: str, port: int, workers: int | None, threads: int, cache: int,
    cluster: str | None, replicas: int,
) -> None:
    """Serve the search page and the JSON API on a production WSGI server (gunicorn).

    POST and DELETE /api/articles need the bearer token in $QIAO_API_TOKEN.
    """
    run(index_dir, host=host, port=port, workers=workers, threads=threads, cache=cache,
        api_token=os.environ.get("QIAO_API_TOKEN"), cluster=cluster, replicas=replicas)


def run(
    index_dir: Path,
    *,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    cache: int,
    api_token: str | None,
    cluster: str | None = None,
    replicas: int = 1,
) -> None:
    """Serve the search page and the API over ``index_dir`` until interrupted.

    ``workers`` processes (default: one per CPU) of ``threads`` threads, each keeping ``cache``
    search results. With ``cluster`` (a Ray address, or "local"), ``replicas`` copies of each
    shard are Ray actors and the workers coordinate them (``search.cluster``).
    """
    with QiaoIndex(index_dir):
        pass  # no index or a mismatched one: an error now, before serving
    listener = listen(host, port)
    with ray_cluster(cluster, index_dir) as address:
        print(f"Serving Qiao on {url(listener.getsockname())}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        app = create_app({"INDEX_DIR": index_dir, "API_TOKEN": api_token, "SEARCH_CACHE_SIZE": cache,
                          "RAY_ADDRESS": address, "REPLICAS": replicas})
        _serve(app, listener, workers, threads)


def _serve(app: Flask, listener: socket.socket, workers: int | None, threads: int) -> None:
    """Run gunicorn with the app on the listening socket until it is stopped."""
    RequestParser.mesg_class = LenientRequest  # gunicorn has no setting for the request class
    Server(app, {
        "bind": [f"fd://{listener.detach()}"],  # gunicorn takes the socket over
        "workers": workers or default_workers(),
        "worker_class": "gthread",
        "threads": threads,
        "keepalive": KEEPALIVE_SECONDS,
        # The URL of a 2,000-character Chinese query is 18 KB, over gunicorn's largest limit:
        # unlimited here, so the app answers an overlong query with its own JSON 400.
        "limit_request_line": 0,
        "http_parser": "python",  # the parser LenientRequest extends; gunicorn_h1c's is another
        "preload_app": True,  # the app, not the index: each worker opens that after the fork
        "post_worker_init": warm_up,
        "worker_exit": stop_worker,
        "proc_name": "qiao",
        "loglevel": "warning",
        "control_socket_disable": True,
    }).run()


@contextlib.contextmanager
def ray_cluster(cluster: str | None, index_dir: Path) -> Iterator[str | None]:
    """The address of the Ray cluster the workers use: ``cluster``, or for "local" a Ray head
    started here for as long as the server runs. At the end, the index's shard actors are ended.

    The workers join it after the fork (a process that joined Ray must not fork), so this
    process starts the local head as a command of its own and never joins it itself but to
    end the actors once the workers are gone.
    """
    if cluster is None:
        yield None
        return
    if cluster != "local":
        from search.cluster import check_reachable

        check_reachable(cluster)  # an error now, before serving
    head = start_local_ray() if cluster == "local" else None
    address = cluster if head is None else head[1]
    try:
        yield address
    finally:
        if head is not None:
            stop_local_ray(head[0])
        else:
            from search.cluster import connect, stop_actors

            with contextlib.suppress(QiaoError):
                connect(address)
                stop_actors(index_dir)


def start_local_ray() -> tuple[subprocess.Popen[bytes], str]:
    """A Ray head on this machine (``ray start --head --block``) and its address, once it answers."""
    probe = listen("127.0.0.1", 0)
    port = probe.getsockname()[1]
    probe.close()
    ray = Path(sys.executable).with_name("ray")
    command = [str(ray if ray.exists() else "ray"), "start", "--head", "--block", f"--port={port}",
               "--node-ip-address=127.0.0.1", "--include-dashboard=false", "--disable-usage-stats"]
    try:
        head = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as e:
        raise QiaoError(f"cannot start Ray ({e.strerror}): pip install 'qiao[cluster]'", code="cluster_unavailable") from None
    deadline = time.monotonic() + RAY_START_SECONDS
    while time.monotonic() < deadline and head.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return head, f"127.0.0.1:{port}"
        time.sleep(0.5)
    stop_local_ray(head)
    raise QiaoError(f"Ray did not start within {RAY_START_SECONDS:g} s", code="cluster_unavailable")


def stop_local_ray(head: subprocess.Popen[bytes]) -> None:
    """Stop a Ray head started by ``start_local_ray`` and every process it started: SIGTERM, a
    grace period, then SIGKILL for whatever is left of its process group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=10)


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (a free port for 0); QiaoError when it cannot."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise QiaoError(f"cannot listen on {host}:{port}: {e.strerror or e}", code="cannot_listen") from None
    return sock


def url(address: tuple[Any, ...]) -> str:
    """The URL of a listening socket's address."""
    host, port = address[0], address[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def warm_up(worker: Worker) -> None:
    """Open this worker's index and search once, so the first visitor waits for neither."""
    app = worker.wsgi
    try:
        with app.app_context(), holder().use() as index:
            search(index, WARM_UP)
    except QiaoError as e:  # the index went away since the start: requests will say so
        worker.log.warning("warm-up failed: %s", e.message)


def stop_worker(arbiter: Arbiter, worker: Worker) -> None:
    """Release the worker's index."""
    close(worker.wsgi)


def close(app: Flask) -> None:
    """Release the app's index."""
    with app.app_context():
        holder().close()
