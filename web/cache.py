"""A per-process cache of search results, shared by the API and the search page.

A result is kept under the state of the index it was found in (the live generation and the
Whoosh commit its searcher reads), so after any rebuild, add or delete, by this process or
another, the next search looks up a new key and is answered from the index.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import date

from flask import Flask, Response, current_app, g

from search.index import QiaoIndex
from search.options import SearchOptions
from search.query.results import SearchResult
from search.query.search import search

HEADER = "X-Qiao-Cache"  # hit or miss; absent when the cache is off


class ResultCache:
    """At most ``size`` results, the least recently used dropped first; safe across threads.

    It holds results of one index state: when a search sees a new one, the old results go.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, SearchResult] = OrderedDict()
        self._state: Hashable = None
        self._lock = threading.Lock()

    def get(self, state: Hashable, key: Hashable) -> SearchResult | None:
        """The result stored for ``key`` in this index state, or None."""
        with self._lock:
            if state != self._state:
                self._entries.clear()
                self._state = state
                return None
            result = self._entries.get(key)
            if result is not None:
                self._entries.move_to_end(key)
            return result

    def put(self, state: Hashable, key: Hashable, result: SearchResult) -> None:
        """Keep a result found in this index state, unless the index has changed since."""
        with self._lock:
            if state != self._state:
                return
            self._entries[key] = result
            self._entries.move_to_end(key)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)


def cached_search(index: QiaoIndex, options: SearchOptions) -> SearchResult:
    """``search(index, options)``, from the app's cache when the same search was made on this index state.

    A cached result is the one the search made, ``processing_time_ms`` included: the time the
    search took, not the moment it took to find it again (``X-Qiao-Cache: hit`` says that).
    """
    cache: ResultCache | None = current_app.extensions["qiao_cache"]
    if cache is None:
        return search(index, options)
    state = index.state()
    key = (options.key(), date.today())  # relative dates in words (上周, yesterday) read today's date
    result = cache.get(state, key)
    g.qiao_cache = "miss" if result is None else "hit"
    if result is None:
        result = search(index, options)
        cache.put(state, key, result)
    return result


def cache_header(response: Response) -> Response:
    """Say whether a search was answered from the cache."""
    if "qiao_cache" in g:
        response.headers[HEADER] = g.qiao_cache
    return response


def init_app(app: Flask) -> None:
    """Give the app a cache of ``SEARCH_CACHE_SIZE`` results (none when 0)."""
    size = app.config["SEARCH_CACHE_SIZE"]
    app.extensions["qiao_cache"] = ResultCache(size) if size > 0 else None
    app.after_request(cache_header)
