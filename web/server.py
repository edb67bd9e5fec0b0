"""`qiao serve`: the app on waitress, a production WSGI server."""

from __future__ import annotations

from pathlib import Path

import waitress
from flask import Flask

from search.errors import QiaoError
from search.querying import search
from web import create_app
from web.store import holder

WARM_UP = "重庆 香港 Hong Kong"


def run(
    index_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    threads: int = 8,
    api_token: str | None = None,
) -> None:
    """Serve the search page and the API over ``index_dir`` until interrupted."""
    app = create_app({"INDEX_DIR": index_dir, "API_TOKEN": api_token})
    with app.app_context(), holder().use() as index:
        # Open the index now, so no index or a mismatched one is an error before serving, and
        # search once, so the first visitor does not wait for the segmenter's dictionary to load.
        search(index, WARM_UP)
    try:
        server = waitress.create_server(app, host=host, port=port, threads=threads, ident="qiao")
    except OSError as e:
        raise QiaoError(f"cannot listen on {host}:{port}: {e.strerror or e}", code="cannot_listen") from None
    for url in urls(server):
        print(f"Serving Qiao on {url}", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    try:
        server.run()
    finally:
        server.close()
        close(app)


def urls(server: object) -> list[str]:
    """The URLs a waitress server listens on (the real port when 0 was asked for)."""
    listening = getattr(server, "effective_listen", None) or [
        (server.effective_host, server.effective_port)  # type: ignore[attr-defined]
    ]
    return [f"http://[{h}]:{p}" if ":" in str(h) else f"http://{h}:{p}" for h, p in listening]


def close(app: Flask) -> None:
    """Release the app's index."""
    with app.app_context():
        holder().close()
