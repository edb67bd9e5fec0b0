"""`qiao serve`: the app on gunicorn, a production WSGI server: worker processes, threads in each.

Searching is mostly Python, so one process serves one search at a time whatever its threads;
worker processes use every CPU. The master checks the index and binds the port before it
starts them, so a missing index or a busy port is an error, not a crash loop. Each worker
opens the index itself, after the fork, and notices changes made by any other process.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

from search.errors import QiaoError
from search.index import QiaoIndex
from search.querying import search
from web import create_app
from web.store import holder

# Loads jieba's dictionary, and (the quoted phrase) every segment's lexicon for Chinese strings.
WARM_UP = '重庆 "香港" Hong Kong'
KEEPALIVE_SECONDS = 10


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


def run(
    index_dir: Path,
    *,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    cache: int,
    api_token: str | None,
) -> None:
    """Serve the search page and the API over ``index_dir`` until interrupted.

    ``workers`` processes (default: one per CPU) of ``threads`` threads, each keeping ``cache``
    search results.
    """
    with QiaoIndex(index_dir):
        pass  # no index or a mismatched one: an error now, before serving
    listener = listen(host, port)
    print(f"Serving Qiao on {url(listener.getsockname())}", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    app = create_app({"INDEX_DIR": index_dir, "API_TOKEN": api_token, "SEARCH_CACHE_SIZE": cache})
    Server(app, {
        "bind": [f"fd://{listener.detach()}"],  # gunicorn takes the socket over
        "workers": workers or default_workers(),
        "worker_class": "gthread",
        "threads": threads,
        "keepalive": KEEPALIVE_SECONDS,
        # The URL of a 2,000-character Chinese query is 18 KB, over gunicorn's largest limit:
        # unlimited here, so the app answers an overlong query with its own JSON 400.
        "limit_request_line": 0,
        "preload_app": True,  # the app, not the index: each worker opens that after the fork
        "post_worker_init": warm_up,
        "worker_exit": stop_worker,
        "proc_name": "qiao",
        "loglevel": "warning",
        "control_socket_disable": True,
    }).run()


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
