"""The index on disk: build (atomic), add, delete, stats, and opening it for search.

An index directory holds generations and a pointer to the live one::

    index/
      current -> gen-20261125T131500-4242   (a symlink, swapped atomically)
      gen-20261125T131500-4242/             (a Whoosh index plus qiao.json)
      userdict.txt                          (optional user dictionary)
      write.lock                            (one writer at a time)

A build writes a new generation beside the live one and swaps ``current`` only when it is
complete, so searches never see a half-built index and a failed build changes nothing.
``add`` and ``delete`` write into the live generation through Whoosh's own atomic commit.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import hashlib
import json
import os
import shutil
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import whoosh.index
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from search.analysis import ANALYZER_VERSION, DEFAULT_SEGMENTER, Dictionary
from search.articles import Article, Skipped, iter_articles
from search.errors import BuildRefused, IndexBusy, IndexMismatch, IndexNotFound
from search.schema import build_schema
from search.whoosh_glue import Codec, facet_codes, facet_counts

CURRENT = "current"
META = "qiao.json"
USERDICT = "userdict.txt"
PREVIOUS_USERDICT = "userdict.txt.previous"
LOCK = "write.lock"
# Postings a writer process keeps in memory before it sorts a run out to disk (by Whoosh's own
# estimate, about twice the real size): a zh-news build of 20,000 articles stays in memory,
# about 1 GB a process; spilling at 512 MB made it 30 % slower.
WRITER_LIMIT_MB = 2048
# Python's cyclic garbage collector, during a build: the first generation collected after this
# many allocations instead of 700. The writer's millions of posting tuples are no garbage, but
# each full collection walks them all (a tenth of a build).
BUILD_GC_THRESHOLD = 100_000
# A rebuild analyses in this many processes (Whoosh's multiprocess writer, one segment each).
BUILD_PROCS = max(1, min(os.cpu_count() or 1, 4))


@dataclass(frozen=True)
class IndexMeta:
    """What built a generation: recorded so queries analyse text the same way."""

    analyzer_version: str
    segmenter: str
    dictionary_digest: str
    built_at: str
    articles: int

    @classmethod
    def read(cls, gen_dir: Path) -> IndexMeta:
        """Read a generation's qiao.json."""
        data = json.loads((gen_dir / META).read_text(encoding="utf-8"))
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Dropped:
    """Articles of the live index that a rebuild's input does not have, by how they came in."""

    added: tuple[str, ...] = ()  # by add, watch or the API since a build: no build has their source
    built: tuple[str, ...] = ()  # by an earlier build, from input that is gone now

    def __len__(self) -> int:
        return len(self.added) + len(self.built)


@dataclass(frozen=True)
class BuildSummary:
    """The outcome of a build."""

    indexed: int
    skipped: tuple[Skipped, ...]
    seconds: float
    chars: int
    duplicates: int = 0  # exact copies of an article already read (same id, same content)
    dropped: Dropped = Dropped()  # what the replaced index had and this one has not

    @property
    def per_second(self) -> float:
        """Articles indexed per second."""
        return self.indexed / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Outcome:
    """What happened to one article on add or delete."""

    id: str
    status: str  # added | updated | unchanged | rejected | deleted | not_found
    reason: str = ""


@dataclass
class WriteSummary:
    """Per-article outcomes of add or delete, and the input that was skipped."""

    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Outcomes counted by status."""
        return dict(Counter(o.status for o in self.outcomes))


# --- locking and generations --------------------------------------------------------------


@contextlib.contextmanager
def write_lock(index_dir: Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold the index's writer lock; the OS releases it if the holder dies."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a+") as f:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise IndexBusy(
                        f"another qiao process is writing to {index_dir}; waited {timeout:g} s"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def current_generation(index_dir: Path) -> Path:
    """The live generation directory, or IndexNotFound."""
    link = index_dir / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        raise IndexNotFound(
            f"no index at {index_dir}; build one with: qiao index build --index {index_dir}"
        ) from None
    return index_dir / target


def _swap_current(index_dir: Path, gen_dir: Path) -> None:
    """Point ``current`` at ``gen_dir`` in one atomic rename."""
    tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(gen_dir.name)
    os.replace(tmp, index_dir / CURRENT)
    dir_fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _remove_old_generations(index_dir: Path, live: Path, previous: Path | None) -> None:
    """Delete generations but the live and the previous one: old ones and failed builds' leftovers.

    The previous generation stays until the next build, so searchers that opened it before
    the swap can finish reading it.
    """
    keep = {live.name, previous.name if previous else None}
    for gen in index_dir.glob("gen-*"):
        if gen.name not in keep:
            shutil.rmtree(gen, ignore_errors=True)


def _write_meta(gen_dir: Path, meta: IndexMeta) -> None:
    """Write qiao.json durably."""
    path = gen_dir / META
    with open(path, "w", encoding="utf-8") as f:
        json.dump(asdict(meta), f, ensure_ascii=False, indent=2)
        f.flush()
        os.fsync(f.fileno())


def _fsync_tree(gen_dir: Path) -> None:
    """Flush a generation's files to disk before it goes live."""
    for p in gen_dir.iterdir():
        with open(p, "rb") as f:
            os.fsync(f.fileno())


# --- documents ----------------------------------------------------------------------------


def content_hash(article: Article) -> str:
    """A hash of everything an article contributes to the index."""
    data = asdict(article)
    data["published"] = article.published.isoformat() if article.published else None
    data["analyzer"] = ANALYZER_VERSION
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def to_document(article: Article, digest: str, origin: str) -> dict[str, object]:
    """The Whoosh document of an article; ``origin`` is "build" or "add" (see ``Dropped``)."""
    captions = "\n".join(article.captions)
    doc: dict[str, object] = {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "body": article.body,
        "captions": captions,
        "title_parts": article.title,
        "parts": f"{article.body}\n{captions}",
        "lang": article.lang,
        "author": article.author,
        "tags": ",".join(article.tags),
        "content_hash": digest,
        "origin": origin,
    }
    if article.published is not None:
        doc["published"] = article.published
        doc["year"] = str(article.published.year)
    for name in ("source", "category"):
        if value := getattr(article, name):
            doc[name] = value
    return doc


# --- writing ------------------------------------------------------------------------------


def build(
    paths: Sequence[Path],
    index_dir: Path,
    *,
    segmenter: str = DEFAULT_SEGMENTER,
    userdict: Path | None = None,
    progress: Callable[[int], None] | None = None,
    lock_timeout: float = 30.0,
    drop_added: bool = False,
) -> BuildSummary:
    """Rebuild the index from ``paths``; the old index stays live until the new one is complete.

    ``userdict`` becomes the index's own dictionary (INDEX/userdict.txt). A rebuild that would
    lose articles added since the last build (by add, watch or the API; their sources are not
    among ``paths``) is refused unless ``drop_added``, and the old index stays live.
    """
    check_index_outside(paths, index_dir)
    start = time.perf_counter()
    dictionary = Dictionary.load(userdict or index_dir / USERDICT)
    with write_lock(index_dir, lock_timeout), _fewer_collections():
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        gen_dir = index_dir / f"gen-{stamp}-{os.getpid()}"
        gen_dir.mkdir(parents=True)
        ix = whoosh.index.create_in(gen_dir, build_schema(segmenter, dictionary))
        skipped: list[Skipped] = []
        seen: dict[str, str] = {}
        duplicates = chars = 0
        procs = {"procs": BUILD_PROCS, "multisegment": True} if BUILD_PROCS > 1 else {}
        writer = ix.writer(limitmb=WRITER_LIMIT_MB, compound=False, codec=Codec(), **procs)
        try:
            for item in iter_articles(paths):
                if isinstance(item, Skipped):
                    skipped.append(item)
                    continue
                digest = content_hash(item)
                if item.id in seen:
                    if seen[item.id] == digest:
                        duplicates += 1
                    else:
                        skipped.append(Skipped(item.id, None, "another article has this id; the first was kept"))
                    continue
                seen[item.id] = digest
                writer.add_document(**to_document(item, digest, "build"))
                chars += len(item.title) + len(item.body)
                if progress is not None:
                    progress(len(seen))
            writer.commit()
        except BaseException:
            writer.cancel()
            shutil.rmtree(gen_dir, ignore_errors=True)
            raise
        finally:
            ix.close()
        meta = IndexMeta(
            analyzer_version=ANALYZER_VERSION,
            segmenter=segmenter,
            dictionary_digest=dictionary.digest,
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            articles=len(seen),
        )
        _write_meta(gen_dir, meta)
        _fsync_tree(gen_dir)
        try:
            previous: Path | None = current_generation(index_dir)
        except IndexNotFound:
            previous = None
        dropped = _dropped(previous, set(seen)) if previous else Dropped()
        if dropped.added and not drop_added:
            shutil.rmtree(gen_dir, ignore_errors=True)
            raise BuildRefused(
                f"{len(dropped.added)} articles added to {index_dir} since its last build (by add, watch or the "
                f"API) are not in these inputs, e.g. {', '.join(dropped.added[:3])}; the index is unchanged. "
                "Add their files to the build, or run it again with --drop-added to drop them."
            )
        if userdict is not None:
            _install_dictionary(userdict, index_dir)
        _swap_current(index_dir, gen_dir)
        _remove_old_generations(index_dir, gen_dir, previous)
    return BuildSummary(len(seen), tuple(skipped), time.perf_counter() - start, chars, duplicates, dropped)


def check_index_outside(paths: Sequence[Path], index_dir: Path) -> None:
    """An index written inside a folder being indexed would be read back as articles by the next build."""
    index = index_dir.resolve()
    for path in paths:
        folder = Path(path).resolve()
        if folder.is_dir() and (index == folder or folder in index.parents):
            raise BuildRefused(
                f"the index folder {index_dir} is inside the input folder {path}; "
                "choose an --index outside the folders being indexed"
            )


def _dropped(gen_dir: Path, kept: set[str]) -> Dropped:
    """The live articles of a generation whose ids are not in ``kept``, by origin."""
    try:
        ix = _open_whoosh(gen_dir)
    except IndexMismatch:  # built by another version: not comparable, and it must be rebuilt anyway
        return Dropped()
    lost: dict[str, list[str]] = {"add": [], "build": []}
    with contextlib.closing(ix), ix.searcher() as searcher:
        for term in searcher.reader().lexicon("id"):
            article_id = term.decode("utf-8")
            if article_id in kept:
                continue
            docnum = searcher.document_number(id=article_id)  # None for a deleted article's leftover term
            if docnum is not None:
                lost[searcher.stored_fields(docnum).get("origin", "build")].append(article_id)
    return Dropped(tuple(lost["add"]), tuple(lost["build"]))


def _install_dictionary(userdict: Path, index_dir: Path) -> None:
    """Make a dictionary given with --userdict the index's own; a different one there is kept aside."""
    target = index_dir / USERDICT
    data = userdict.read_bytes()
    if target.is_file():
        if target.read_bytes() == data:
            return
        os.replace(target, index_dir / PREVIOUS_USERDICT)
    tmp = index_dir / f".{USERDICT}.{os.getpid()}"
    tmp.write_bytes(data)
    os.replace(tmp, target)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's garbage collector runs less often (the writer processes forked inside inherit it)."""
    threshold = gc.get_threshold()
    gc.freeze()  # what exists already is never collected again during the build
    gc.set_threshold(BUILD_GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def add(
    paths: Sequence[Path], index_dir: Path, *, lock_timeout: float = 30.0
) -> WriteSummary:
    """Add or update the articles under ``paths`` by id; unchanged articles are not re-analysed."""
    return add_articles(iter_articles(paths), index_dir, lock_timeout=lock_timeout)


def add_articles(
    items: Iterable[Article | Skipped], index_dir: Path, *, lock_timeout: float = 30.0
) -> WriteSummary:
    """Add or update articles in the live generation, reporting what happened to each."""
    summary = WriteSummary()
    with _writing(index_dir, lock_timeout, limitmb=WRITER_LIMIT_MB, compound=False, codec=Codec()) as (writer, searcher):
        digests: dict[str, str | None] = {}  # the content each id has now, None if none
        changed: dict[str, Article] = {}  # the last version of each article to write
        for item in items:
            if isinstance(item, Skipped):
                summary.skipped.append(item)
                summary.outcomes.append(Outcome(item.path, "rejected", item.reason))
                continue
            if item.id not in digests:
                stored = searcher.document(id=item.id)
                digests[item.id] = stored["content_hash"] if stored else None
            old, digest = digests[item.id], content_hash(item)
            if old == digest:
                summary.outcomes.append(Outcome(item.id, "unchanged"))
                continue
            summary.outcomes.append(Outcome(item.id, "added" if old is None else "updated"))
            digests[item.id] = digest
            changed[item.id] = item
        # Written once per id: Whoosh's update_document does not see this writer's own additions.
        for article in changed.values():
            writer.update_document(**to_document(article, digests[article.id], "add"))
    return summary


def delete(ids: Sequence[str], index_dir: Path, *, lock_timeout: float = 30.0) -> WriteSummary:
    """Delete articles by id."""
    summary = WriteSummary()
    with _writing(index_dir, lock_timeout) as (writer, _):
        for article_id in ids:
            n = writer.delete_by_term("id", article_id)
            summary.outcomes.append(Outcome(article_id, "deleted" if n else "not_found"))
    return summary


@contextlib.contextmanager
def _writing(
    index_dir: Path, lock_timeout: float, **options: object
) -> Iterator[tuple[IndexWriter, Searcher]]:
    """A writer on the live generation and a searcher of its committed state; commits at the end."""
    with write_lock(index_dir, lock_timeout):
        ix = _open_whoosh(current_generation(index_dir))
        try:
            writer = ix.writer(**options)
            try:
                with ix.searcher() as searcher:
                    yield writer, searcher
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
        finally:
            ix.close()


# --- reading ------------------------------------------------------------------------------


def _open_whoosh(gen_dir: Path) -> whoosh.index.FileIndex:
    """Open a generation's Whoosh index, checking it was built by this analyzer."""
    meta = IndexMeta.read(gen_dir)
    if meta.analyzer_version != ANALYZER_VERSION:
        raise IndexMismatch(
            f"the index at {gen_dir.parent} was built with analyzer version "
            f"{meta.analyzer_version}; this Qiao uses {ANALYZER_VERSION}. Run: qiao index build"
        )
    return whoosh.index.open_dir(gen_dir)


class QiaoIndex:
    """A live index for searching: a searcher per thread, renewed when the index changes.

    Whoosh searchers read files through shared handles, so threads must not share one.
    """

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._lock = threading.Lock()
        self._local = threading.local()
        self._searchers: weakref.WeakSet[Searcher] = weakref.WeakSet()
        self._gen_dir = current_generation(index_dir)
        self._ix = _open_whoosh(self._gen_dir)
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

    def _live(self) -> whoosh.index.FileIndex:
        """The Whoosh index of the live generation, reopened after a rebuild swapped it."""
        gen_dir = current_generation(self.index_dir)
        if gen_dir != self._gen_dir:
            with self._lock:
                if gen_dir != self._gen_dir:
                    self._ix = _open_whoosh(gen_dir)
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

    def __enter__(self) -> QiaoIndex:
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
        return Verification(searcher.doc_count(), tuple(problems))


def stats(index: QiaoIndex) -> dict[str, object]:
    """Documents by language and source, size on disk, analyzer and last build."""
    searcher = index.searcher()
    live = np.fromiter(searcher.reader().all_doc_ids(), np.int64)
    by = {name: facet_counts(*facet_codes(searcher, name), live) for name in ("lang", "source")}
    gen_dir = current_generation(index.index_dir)
    size = sum(p.stat().st_size for p in gen_dir.iterdir())
    return {
        "index": str(index.index_dir),
        "documents": searcher.doc_count(),
        "by_lang": by["lang"],
        "by_source": by["source"],
        "size_bytes": size,
        "analyzer_version": index.meta.analyzer_version,
        "segmenter": index.meta.segmenter,
        "dictionary": index.meta.dictionary_digest,
        "dictionary_changed": index.dictionary_changed(),
        "last_build": index.meta.built_at,
    }

