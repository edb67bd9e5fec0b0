"""Qiao's web app: the search page and the JSON API, both over the core's one search function."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    "INDEX_DIR": "index",
    "API_TOKEN": None,  # POST/DELETE /api/articles answer 403 until one is set
    "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,  # larger request bodies get 413
    "SEARCH_CACHE_SIZE": 1024,  # search results kept per process; 0 turns the cache off
    "RAY_ADDRESS": None,  # shards served by Ray actors of this cluster (qiao serve --ray), else here
    "REPLICAS": 1,  # copies of each shard on Ray
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Make the app: the defaults above, overridden by ``config``."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    if config is not None:
        app.config.from_mapping(config)
    app.config["INDEX_DIR"] = Path(app.config["INDEX_DIR"])
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from web import api, cache, errors, feed, i18n, store, views

    store.init_app(app)
    cache.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(feed.bp)
    return app
