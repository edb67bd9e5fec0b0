"""The app's one open index: opened on first use, then shared by every request.

QiaoIndex gives each thread its own searcher and renews it when the index changes, so
requests neither wait for each other nor reopen the index.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from flask import Flask, current_app

from search.index import QiaoIndex

ACTORS_START_SECONDS = 120.0  # the shard actors of a Ray cluster open their shards within this


class IndexHolder:
    """Opens the index lazily, so the app starts before it is built, and keeps it open."""

    def __init__(self, index_dir: Path, cluster: str | None = None, replicas: int = 1) -> None:
        self.index_dir = index_dir
        self.cluster = cluster  # the Ray address whose shard actors serve the index, or None
        self.replicas = replicas
        self._index: QiaoIndex | None = None
        self._lock = threading.Lock()  # guards opening, not searching

    @contextmanager
    def use(self) -> Iterator[QiaoIndex]:
        """The open index; IndexNotFound until one is built. With a Ray address, the shard
        actors' index (``search.cluster.ClusterIndex``), this process their coordinator."""
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = self._open()
        yield self._index

    def _open(self) -> QiaoIndex:
        """Open the index here, or its shard actors on the Ray cluster."""
        if self.cluster is None:
            return QiaoIndex(self.index_dir)
        # Imported here: Ray is an optional extra, needed for --ray only.
        from search.cluster import ClusterIndex

        index = ClusterIndex(self.index_dir, self.cluster, self.replicas)
        index.wait_ready(ACTORS_START_SECONDS)
        return index  # type: ignore[return-value]  # it answers what the app asks of a QiaoIndex

    def close(self) -> None:
        """Release the index files."""
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None


def init_app(app: Flask) -> None:
    """Give the app its index holder."""
    app.extensions["qiao_index"] = IndexHolder(app.config["INDEX_DIR"], app.config["RAY_ADDRESS"], app.config["REPLICAS"])


def holder() -> IndexHolder:
    """The current app's index holder."""
    return current_app.extensions["qiao_index"]


def using_index() -> AbstractContextManager[QiaoIndex]:
    """The current app's open index, for the duration of a ``with`` block."""
    return holder().use()
