"""The index for searching: QiaoIndex (a searcher per thread, renewed when the index changes),
verify and stats.

The index's storage is ``search.generations`` (generations, the writer lock) and
``search.writing`` (build, add, delete); their public names are importable from here too, as
``search.index`` was the one module of the index before.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
import whoosh.index
from whoosh.searching import Searcher

from search.analysis import Dictionary
from search.generations import (
    USERDICT,
    IndexMeta,
    current_generation,
    open_generation,
    write_lock,
)
from search.shard_search import ShardedIndex, open_live
from search.shards import Manifest, RemoteShards, checksum, is_sharded, shard_of
from search.whoosh_glue import facet_codes, facet_counts
from search.writing import (
    BuildSummary,
    Dropped,
    Outcome,
    WriteSummary,
    add,
    add_articles,
    build,
    check_index_outside,
    delete,
)

__all__ = [
    "USERDICT", "BuildSummary", "Dropped", "IndexMeta", "Outcome", "QiaoIndex", "Verification",
    "WriteSummary", "add", "add_articles", "build", "check_index_outside", "current_generation", "delete",
    "stats", "verify", "write_lock",
]


class QiaoIndex:
    """A live index for searching: a searcher per thread, renewed when the index changes.

    Whoosh searchers read files through shared handles, so threads must not share one.
    """

    def __init__(self, index_dir: Path | str) -> None:
        self.index_dir = index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._searchers: weakref.WeakSet[Searcher] = weakref.WeakSet()
        self._gen_dir = current_generation(index_dir)
        self._ix = open_live(self._gen_dir)
        self.meta = IndexMeta.read(self._gen_dir)

    def searcher(self) -> Searcher:
        """This thread's searcher of the latest committed state of the index."""
        ix = self._live()
        local = self._local
        searcher = getattr(local, "searcher", None)
        if searcher is not None and local.ix is ix and searcher.up_to_date():
            return searcher
        # A fresh searcher, not Searcher.refresh(): that keeps readers of segments whose
        # documents were deleted or replaced since. The old one is not closed here: a caller
        # may still be reading it; its files close when the last reference goes.
        local.searcher, local.ix = ix.searcher(), ix
        with self._lock:
            self._searchers.add(local.searcher)
        return local.searcher

    def codes(self, searcher: Searcher, name: str) -> tuple[list[object], np.ndarray]:
        """A sortable field's distinct values, and each document's number among them (for facets);
        read once per index segment (``whoosh_glue.facet_codes``)."""
        return facet_codes(searcher, name)

    def _live(self) -> whoosh.index.FileIndex | ShardedIndex:
        """The Whoosh index of the live generation (its shards' for S > 1), reopened after a rebuild swapped it."""
        gen_dir = current_generation(self.index_dir)
        if gen_dir != self._gen_dir:
            with self._lock:
                if gen_dir != self._gen_dir:
                    self._ix = open_live(gen_dir)
                    self.meta = IndexMeta.read(gen_dir)
                    self._gen_dir = gen_dir
        return self._ix

    def dictionary_changed(self) -> bool:
        """Whether index/userdict.txt differs from the dictionary this index was built with."""
        return Dictionary.load(self.index_dir / USERDICT).digest != self.meta.dictionary_digest

    def close(self) -> None:
        """Release every thread's searcher and the index files."""
        with self._lock:
            for searcher in list(self._searchers):
                searcher.close()
            self._ix.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def state(self) -> tuple[str, int | None]:
        """Which committed state this thread's searcher reads: its generation and Whoosh commit.

        Any build, add or delete, by any process, changes it; a cache keyed by it is never stale.
        """
        searcher = self.searcher()
        return self._local.ix.storage.folder, searcher.reader().generation()


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found; ``problems`` is empty for a sound index."""

    documents: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether the index passed every check."""
        return not self.problems


def verify(index_dir: Path) -> Verification:
    """Check that the index opens, its count matches its stored articles, and each is found by id."""
    problems: list[str] = []
    with QiaoIndex(index_dir) as index:
        searcher = index.searcher()
        ids = [fields["id"] for fields in searcher.all_stored_fields()]
        if len(ids) != searcher.doc_count():
            problems.append(f"{searcher.doc_count()} documents but {len(ids)} stored articles")
        if len(set(ids)) != len(ids):
            problems.append(f"{len(ids) - len(set(ids))} ids stored more than once")
        missing = [i for i in ids if searcher.document_number(id=i) is None]
        if missing:
            problems.append(f"{len(missing)} stored articles not found by id, e.g. {missing[0]!r}")
        if index.dictionary_changed():
            problems.append(f"{index_dir / USERDICT} changed since the build; run qiao index build")
        problems.extend(shard_problems(current_generation(index_dir)))
        return Verification(searcher.doc_count(), tuple(problems))


def shard_problems(gen_dir: Path) -> list[str]:
    """What is wrong with the shards of a generation: an article in a shard its id does not route
    to, or a shard's files unlike those its build recorded (while no add or delete committed since)."""
    if not is_sharded(gen_dir):
        return []
    problems = []
    manifest = Manifest.read(gen_dir)
    for number, state in enumerate(manifest.shards):
        folder = gen_dir / state.name
        ix = open_generation(folder)
        with contextlib.closing(ix), ix.searcher() as searcher:
            strays = [i for f in searcher.all_stored_fields() if shard_of(i := f["id"], len(manifest.shards)) != number]
            unchanged = ix.latest_generation() == state.generation
        if strays:
            problems.append(f"{len(strays)} articles of {state.name} belong in another shard, e.g. {strays[0]!r}")
        if state.checksum and unchanged and checksum(folder) != state.checksum:
            problems.append(f"the files of {state.name} are not those its build wrote (checksum); rebuild the index")
    return problems


def stats(index: QiaoIndex) -> dict[str, object]:
    """Documents by language and source, size on disk, analyzer and last build."""
    searcher = index.searcher()
    if isinstance(searcher, RemoteShards):  # served by shard actors: counted by each
        documents, by = searcher.live_counts(("lang", "source"))
    else:
        live = np.fromiter(searcher.reader().all_doc_ids(), np.int64)
        documents, by = len(live), {name: facet_counts(*facet_codes(searcher, name), live) for name in ("lang", "source")}
    gen_dir = current_generation(index.index_dir)
    size = sum(p.stat().st_size for p in gen_dir.rglob("*") if p.is_file())
    return {
        "index": str(index.index_dir),
        "documents": documents,
        "by_lang": by["lang"],
        "by_source": by["source"],
        "size_bytes": size,
        "analyzer_version": index.meta.analyzer_version,
        "segmenter": index.meta.segmenter,
        "dictionary": index.meta.dictionary_digest,
        "dictionary_changed": index.dictionary_changed(),
        "last_build": index.meta.built_at,
    }

