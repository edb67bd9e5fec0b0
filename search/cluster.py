"""Qiao on Ray: a sharded index built by Ray tasks, and its shards served by Ray actors.

Ray is the optional extra ``cluster`` (``pip install 'qiao[cluster]'``). Nothing in search/
imports this module unless a Ray build or Ray serving is asked for, and it imports Ray inside
its functions, so the embedded one-machine default needs none of it.

Build (``parse`` and ``build_all``, called by ``search.shard_build.write_shards``): the map
parses the input files in Ray tasks (PARSE_BATCH files each), read back in input order; the
driver keeps the first article of each id, gives it its story (``search.stories``, in input
order before routing, as a local build does: ``search.writing.keep_first``) and routes it to its
shard (``search.shards.shard_of``); the reduce is one Ray task per shard running
``search.shard_build.build_shard``, the writer of a local build, in input order. The driver
publishes the manifest and the generation once every task is done: a task that fails or is
killed fails the build, and the old shard set stays live. Every node must see the input and the
index folder at the same paths (a shared filesystem).

Serving (``ClusterIndex``): each shard has ``replicas`` copies, Ray actors (``ShardServer``)
that keep a Whoosh searcher of it open. The process that searches is the coordinator: its
``RayShards`` runs the rounds of ``search.query.search`` (statistics, rank, proximity, fetch,
feedback; collapsing one hit a story, each shard's matches come with their story keys) against one copy of every shard at once, all of a request's rounds within one budget
of SEARCH_SECONDS. A copy that died is left for another (Ray restarts it: ``max_restarts``); a
shard none of whose copies answers fails the request with ShardUnavailable, and one that misses
the budget with a query_timeout: never a partial answer.
"""

from __future__ import annotations

import itertools
import math
import signal
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import classify
from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.searching import Searcher

from search.analysis import Dictionary
from search.articles import Article, Skipped, iter_sources, read_source
from search.errors import IndexMismatch, QiaoError, QueryError, ShardUnavailable
from search.generations import USERDICT, IndexMeta, current_generation, open_generation
from search.matching import WordQuery
from search.proximity import leaf_bonus
from search.query.statistics import Statistics, statistics
from search.shard_build import Routed, build_shard
from search.shard_search import (
    Shard,
    ShardRanked,
    WholeIndexSearcher,
    rank_shard,
    summed_counts,
)
from search.shards import RemoteShards, ShardState, shard_dirs, shard_name, shard_of
from search.whoosh_glue import date_range, facet_codes, facet_counts, latest_commit

PARSE_BATCH = 64  # input files parsed by one map task
SHARD_BITS = 40  # a hit's number through Ray: its shard << SHARD_BITS | its number in the shard
NAMESPACE = "qiao"  # the Ray namespace of the shard actors' names
SEARCH_SECONDS = 2.0  # one request's budget across its rounds (search.query.search's limit)
CONNECT_SECONDS = 5.0  # a Ray head answers a connection within this, or is taken as down
# A shard's copy silent this long has the call sent to its next copy too (a hedged request):
# it may have died unnoticed (Ray restarts it, which takes seconds) or be busy with another.
HEDGE_SECONDS = 0.5


# --- connecting -----------------------------------------------------------------------------


def connect(address: str) -> None:
    """Join the Ray cluster at ``address`` ("host:port"), or start one on this machine ("local");
    a QiaoError when Ray is not installed or the cluster cannot be reached."""
    try:
        import ray
    except ImportError:
        raise QiaoError("Ray is not installed: pip install 'qiao[cluster]'", code="cluster_unavailable") from None
    if ray.is_initialized():
        return
    if address != "local":
        check_reachable(address)
    sigterm = signal.getsignal(signal.SIGTERM)  # ray.init installs its own; a gunicorn worker keeps gunicorn's
    try:
        ray.init(address=address, namespace=NAMESPACE, logging_level="ERROR", log_to_driver=False,
                 include_dashboard=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise QiaoError(f"cannot reach the Ray cluster at {address}: {e}", code="cluster_unavailable") from None
    finally:
        if sigterm is not None:
            signal.signal(signal.SIGTERM, sigterm)


def check_reachable(address: str) -> None:
    """A QiaoError at once when nothing answers at ``address`` ("host:port"): ray.init would wait minutes."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise QiaoError(f"a Ray address is host:port (or local), not {address!r}", code="cluster_unavailable")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as e:
        raise QiaoError(f"cannot reach the Ray cluster at {address}: {e.strerror or e}; start it with "
                        f"ray start --head --port {port}, or use --ray local", code="cluster_unavailable") from None


# --- the build ------------------------------------------------------------------------------


def parse(paths: Sequence[Path]) -> Iterator[Article | Skipped]:
    """The articles under ``paths``, as ``search.articles.iter_articles`` reads them, parsed by Ray
    tasks of PARSE_BATCH files each and given back in input order."""
    import ray

    task = ray.remote(num_cpus=1, max_retries=0)(_read_batch)
    sources = iter_sources(paths)
    refs = [task.remote(batch) for batch in iter(lambda: list(itertools.islice(sources, PARSE_BATCH)), [])]
    for ref in refs:
        yield from _answer(ref, "parsing the input")


def _read_batch(batch: Sequence[Any]) -> list[Article | Skipped]:
    """The articles of a batch of sources, in order (a Skipped stays as it is)."""
    return [found for item in batch for found in ([item] if isinstance(item, Skipped) else read_source(item))]


def build_all(gen_dir: Path, segmenter: str, dictionary: Dictionary, routed: list[Routed]) -> list[ShardState]:
    """Build every shard in a Ray task of its own (``build_shard``), in input order; the first
    failure cancels the others and is raised."""
    import ray

    task = ray.remote(num_cpus=1, max_retries=0)(build_shard)  # a retry would find its half-written folder
    refs = [task.remote(gen_dir / shard_name(shard), segmenter, dictionary, articles)
            for shard, articles in enumerate(routed)]
    try:
        return [_answer(ref, f"building {shard_name(shard)}") for shard, ref in enumerate(refs)]
    except BaseException:
        for ref in refs:
            ray.cancel(ref, force=True)
        raise


def _answer(ref: Any, what: str) -> Any:
    """The result of a Ray task; its own QiaoError as it is, any other failure a QiaoError saying what failed."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        if isinstance(e.cause, QiaoError):
            raise e.cause from None
        raise QiaoError(f"{what} failed on Ray: {type(e.cause).__name__}: {e.cause}", code="build_failed") from None
    except ray.exceptions.RayError as e:
        raise QiaoError(f"{what} failed on Ray: {type(e).__name__}", code="build_failed") from None


# --- serving --------------------------------------------------------------------------------


class ShardServer:
    """One copy of one shard, as a Ray actor: its Whoosh searcher kept open, and a search's rounds on it.

    Hit numbers are the shard's own; the coordinator adds the shard's number above them.
    """

    def __init__(self, folder: str) -> None:
        self.ix = open_generation(Path(folder))
        self.searcher = self.ix.searcher()

    def _current(self) -> Searcher:
        """The searcher of the shard's latest commit (add, delete and the API write to it in place)."""
        if not self.searcher.up_to_date():
            self.searcher.close()
            self.searcher = self.ix.searcher()
        return self.searcher

    def pid(self) -> int:
        """This actor's process id."""
        import os

        return os.getpid()

    def doc_count(self) -> int:
        """The shard's live articles."""
        return self._current().doc_count()

    def live_counts(self, names: list[str]) -> tuple[int, dict[str, dict[str, int]]]:
        """The shard's live articles, and their counts by each value of the fields ``names``."""
        searcher = self._current()
        live = np.fromiter(searcher.reader().all_doc_ids(), np.int64)
        return len(live), {name: facet_counts(*facet_codes(searcher, name), live) for name in names}

    def date_range(self, name: str) -> tuple[datetime, datetime] | None:
        """The earliest and latest value of the date field ``name`` in this shard."""
        return date_range(self._current(), name)

    def statistics(self, query: wq.Query) -> Statistics:
        """The statistics round on this shard."""
        return statistics(self._current(), query)

    def rank(self, query: wq.Query, stats: Statistics, plan: Any, ranking: Any, seconds: float) -> ShardRanked:
        """The rank round on this shard, given ``seconds`` of the request's budget."""
        from search.query.search import _matches

        searcher = self._current()
        whole = WholeIndexSearcher(searcher.reader(), stats)
        shard = Shard(searcher, tuple(whole.leaf_searchers()), 0)
        return rank_shard(shard, query, stats, plan, ranking, partial(_matches, seconds=seconds))

    def proximity(self, words: list[WordQuery], docs: np.ndarray, stats: Statistics, idf: np.ndarray, ranking: Any) -> np.ndarray:
        """The proximity bonus of ``docs`` (sorted) of this shard."""
        return leaf_bonus(self._current(), words, docs, stats, idf, ranking)

    def stored(self, docs: list[int]) -> list[dict[str, Any]]:
        """The stored fields of ``docs``."""
        searcher = self._current()
        return [searcher.stored_fields(doc) for doc in docs]

    def document(self, article_id: str) -> dict[str, Any] | None:
        """The stored fields of the article ``article_id``, None when this shard has none."""
        return self._current().document(id=article_id)

    def expansion(self, docs: list[int], name: str) -> tuple[dict[str, float], float]:
        """The weights of the words of field ``name`` in ``docs``, and their total (a feedback round)."""
        expander = classify.Expander(self._current().reader(), name)
        for doc in docs:
            expander.add_document(doc)
        return dict(expander.topN_weight), expander.top_total

    def frequencies(self, name: str, words: list[str]) -> tuple[int, int, dict[str, float]]:
        """The shard's documents, the length of field ``name`` and the collection frequency of each of
        ``words`` it has in that field (a feedback round)."""
        reader = self._current().reader()
        field = reader.schema[name]
        found = {word: reader.frequency(name, field.to_bytes(word)) for word in words if (name, field.to_bytes(word)) in reader}
        return reader.doc_count_all(), reader.field_length(name), found


class _Collection:
    """The counts Whoosh's Expander reads of a reader, summed over shards (``RayShards.key_terms``)."""

    def __init__(self, schema: Schema, docs: int, length: int, frequencies: dict[str, float], name: str) -> None:
        self.schema, self.docs, self.length, self.name = schema, docs, length, name
        self.counts = {schema[name].to_bytes(word): cf for word, cf in frequencies.items()}

    def doc_count_all(self) -> int:
        return self.docs

    def field_length(self, name: str) -> int:
        return self.length

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return term[0] == self.name and term[1] in self.counts

    def frequency(self, name: str, text: bytes) -> float:
        return self.counts[text]


class RayShards(RemoteShards):
    """A coordinator's view of the shard actors for one request: every round a call to one copy
    of each shard it needs, all within the request's deadline."""

    def __init__(self, index: ClusterIndex) -> None:
        self.index = index
        self.schema = index.schema
        self.deadline = time.monotonic() + index.seconds

    def _each(self, method: str, calls: dict[int, tuple[Any, ...]], *, budget: bool = False) -> dict[int, Any]:
        """``method(*args)`` on one copy of each shard of ``calls`` ({shard: args}), at once; the
        answers by shard. A copy that is dead, or silent for HEDGE_SECONDS (it may have died
        unnoticed, or be busy), has the call sent to the next copy too, and the first answer
        counts. A shard that no copy answers, or that misses the deadline, fails the request.
        ``budget`` passes the seconds left as the last argument."""
        import ray

        start = next(self.index.turn)
        sent = dict.fromkeys(calls, 1)  # copies asked, by shard
        asked_at = dict.fromkeys(calls, time.monotonic())
        pending = {self._call(shard, start, method, calls[shard], budget): shard for shard in calls}
        answers: dict[int, Any] = {}

        def ask_next(shard: int) -> bool:
            """Send the shard's call to its next copy, if it has one not asked yet."""
            if sent[shard] >= self.index.replicas:
                return False
            pending[self._call(shard, start + sent[shard], method, calls[shard], budget)] = shard
            sent[shard] += 1
            asked_at[shard] = time.monotonic()
            return True

        while len(answers) < len(calls):
            now = time.monotonic()
            waiting = {shard for shard in pending.values() if shard not in answers}
            hedge = min((asked_at[s] + HEDGE_SECONDS for s in waiting if sent[s] < self.index.replicas), default=math.inf)
            left = self.deadline - now
            if left <= 0:
                late = ", ".join(shard_name(shard) for shard in sorted(waiting))
                raise QueryError(f"the search took longer than {self.index.seconds:g} s: {late} did not answer in time; "
                                 "use fewer or more specific words", code="query_timeout")
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=max(0.0, min(left, hedge - now)))
            if not ready:
                for shard in waiting:
                    if time.monotonic() >= asked_at[shard] + HEDGE_SECONDS:
                        ask_next(shard)
                continue
            shard = pending.pop(ready[0])
            if shard in answers:
                continue  # another copy answered first
            try:
                answers[shard] = ray.get(ready[0])
            except ray.exceptions.RayTaskError as e:
                if isinstance(e.cause, QiaoError):
                    raise e.cause from None
                raise ShardUnavailable(f"{shard_name(shard)} failed: {type(e.cause).__name__}: {e.cause}") from None
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                if not ask_next(shard) and shard not in pending.values():
                    raise ShardUnavailable(f"no copy of {shard_name(shard)} answers ({self.index.replicas} tried)") from None
        return answers

    def _call(self, shard: int, turn: int, method: str, args: tuple[Any, ...], budget: bool) -> Any:
        """Call ``method`` on copy ``turn`` (modulo the copies) of ``shard``."""
        copies = self.index.actors[shard]
        extra = (max(0.0, self.deadline - time.monotonic()),) if budget else ()
        return getattr(copies[turn % len(copies)], method).remote(*args, *extra)

    def _all(self, method: str, *args: Any, budget: bool = False) -> list[Any]:
        """``method(*args)`` on every shard, the answers in shard order."""
        answers = self._each(method, dict.fromkeys(range(len(self.index.actors)), args), budget=budget)
        return [answers[shard] for shard in range(len(self.index.actors))]

    @staticmethod
    def _by_shard(docs: Sequence[int]) -> dict[int, list[int]]:
        """Hit numbers grouped by shard, as the shards' own numbers, in the given order."""
        grouped: dict[int, list[int]] = {}
        for doc in docs:
            grouped.setdefault(doc >> SHARD_BITS, []).append(doc & ((1 << SHARD_BITS) - 1))
        return grouped

    def statistics(self, query: wq.Query) -> list[Statistics]:
        return self._all("statistics", query)

    def rank(self, query: wq.Query, stats: Statistics, plan: Any, ranking: Any) -> list[ShardRanked]:
        found = self._all("rank", query, stats, plan, ranking, budget=True)
        return [replace(f, docs=f.docs + (shard << SHARD_BITS)) for shard, f in enumerate(found)]

    def proximity(self, words: list[WordQuery], docs: np.ndarray, stats: Statistics, idf: np.ndarray, ranking: Any) -> np.ndarray:
        grouped = self._by_shard(docs.tolist())
        answers = self._each("proximity", {s: (words, np.array(d, np.int64), stats, idf, ranking) for s, d in grouped.items()})
        return np.concatenate([answers[s] for s in sorted(grouped)]) if grouped else np.zeros(0)

    def stored_fields_of(self, docs: Sequence[int]) -> list[dict[str, Any]]:
        grouped = self._by_shard(docs)
        answers = {s: iter(fields) for s, fields in self._each("stored", {s: (d,) for s, d in grouped.items()}).items()}
        return [next(answers[doc >> SHARD_BITS]) for doc in docs]

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        return self.stored_fields_of([docnum])[0]

    def document(self, id: str) -> dict[str, Any] | None:
        shard = shard_of(id, len(self.index.actors))
        return self._each("document", {shard: (id,)})[shard]

    def doc_count(self) -> int:
        return sum(self._all("doc_count"))

    def date_range(self, name: str) -> tuple[datetime, datetime] | None:
        found = [r for r in self._all("date_range", name) if r is not None]
        return (min(r[0] for r in found), max(r[1] for r in found)) if found else None

    def live_counts(self, names: Sequence[str]) -> tuple[int, dict[str, dict[str, int]]]:
        found = self._all("live_counts", list(names))
        return sum(n for n, _ in found), {name: summed_counts([counts[name] for _, counts in found]) for name in names}

    def key_terms(self, docnums: Sequence[int], fieldname: str, numterms: int = 5,
                  model: type[classify.ExpansionModel] = classify.Bo1Model) -> list[tuple[str, float]]:
        """Whoosh's ``Searcher.key_terms`` over the shards: each shard's weights of the words of
        its documents summed, then each word's collection frequency summed over every shard."""
        grouped = self._by_shard(docnums)
        weights: dict[str, float] = {}
        total = 0.0
        for found, subtotal in self._each("expansion", {s: (d, fieldname) for s, d in grouped.items()}).values():
            for word, weight in found.items():
                weights[word] = weights.get(word, 0.0) + weight
            total += subtotal
        counts = self._all("frequencies", fieldname, sorted(weights))
        summed: dict[str, float] = {}
        for _, _, found in counts:
            for word, cf in found.items():
                summed[word] = summed.get(word, 0.0) + cf
        collection = _Collection(self.schema, sum(c[0] for c in counts), sum(c[1] for c in counts), summed, fieldname)
        expander = classify.Expander(collection, fieldname, model=model)
        expander.topN_weight.update(weights)
        expander.top_total = total
        return expander.expanded_terms(numterms, normalize=True)


class ClusterIndex:
    """A sharded index served by Ray actors, ``replicas`` copies of each shard; in a coordinator,
    it stands where a QiaoIndex stands (``searcher``, ``state``, ``meta``)."""

    def __init__(self, index_dir: Path, address: str, replicas: int = 1, *, seconds: float = SEARCH_SECONDS) -> None:
        connect(address)
        self.index_dir = index_dir
        self.replicas = replicas
        self.seconds = seconds  # each request's budget across its rounds
        self.turn = itertools.count()  # which copy of each shard the next request asks first
        self.gen_dir = current_generation(index_dir)
        self.meta = IndexMeta.read(self.gen_dir)
        self.folders = shard_dirs(self.gen_dir)
        first = open_generation(self.folders[0])
        self.schema = first.schema
        first.close()
        self.actors = [[self._actor(folder, copy) for copy in range(replicas)] for folder in self.folders]

    def _actor(self, folder: Path, copy: int) -> Any:
        """The actor of copy ``copy`` of the shard in ``folder``: found by its name, or started.

        Named, so that every coordinator (each gunicorn worker) shares the same copies; detached,
        so that they outlive the coordinator that started them; restarted by Ray when they die.
        """
        import ray

        server = ray.remote(ShardServer).options(
            name=actor_name(self.index_dir, folder, copy), namespace=NAMESPACE, get_if_exists=True,
            lifetime="detached", max_restarts=-1, max_task_retries=0, num_cpus=0, scheduling_strategy="SPREAD",
        )
        return server.remote(str(folder))

    def searcher(self) -> RayShards:
        """A coordinator of the shard actors for one request (its budget starts now)."""
        if current_generation(self.index_dir) != self.gen_dir:
            raise IndexMismatch(f"{self.index_dir} was rebuilt since the shard actors started; restart qiao serve --ray")
        return RayShards(self)

    def state(self) -> tuple[str, tuple[int, ...]]:
        """The generation and each shard's latest Whoosh commit (a cache keyed by it is never stale)."""
        return str(self.gen_dir), tuple(latest_commit(str(f)) for f in self.folders)

    def wait_ready(self, seconds: float) -> None:
        """Wait until every copy of every shard has opened it; a QiaoError after ``seconds``."""
        import ray

        refs = [actor.doc_count.remote() for copies in self.actors for actor in copies]
        try:
            ray.get(refs, timeout=seconds)
        except ray.exceptions.GetTimeoutError:
            raise ShardUnavailable(f"the shard actors did not start within {seconds:g} s") from None
        except ray.exceptions.RayTaskError as e:
            cause = e.cause if isinstance(e.cause, QiaoError) else None
            raise cause or ShardUnavailable(f"a shard actor failed to open its shard: {e.cause}") from None

    def dictionary_changed(self) -> bool:
        """Whether index/userdict.txt differs from the dictionary this index was built with."""
        return Dictionary.load(self.index_dir / USERDICT).digest != self.meta.dictionary_digest

    def close(self) -> None:
        """Nothing to release here: the actors are the cluster's (``stop_actors`` ends them)."""


def actor_name(index_dir: Path, folder: Path, copy: int) -> str:
    """The Ray name of copy ``copy`` of the shard in ``folder`` of the index ``index_dir``."""
    return f"{index_dir.resolve()}:{folder.parent.name}/{folder.name}:{copy}"


def stop_actors(index_dir: Path) -> int:
    """End every shard actor of the index ``index_dir`` in the connected cluster; how many."""
    import ray

    prefix = f"{index_dir.resolve()}:"
    names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
             if a["namespace"] == NAMESPACE and a["name"].startswith(prefix)]
    for name in names:
        ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)
    return len(names)

