"""Generations of an index on disk, the writer lock, and opening a generation's Whoosh index.

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
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import whoosh.index

from search.analysis import ANALYZER_VERSION
from search.errors import IndexBusy, IndexMismatch, IndexNotFound

CURRENT = "current"
META = "qiao.json"
USERDICT = "userdict.txt"
PREVIOUS_USERDICT = "userdict.txt.previous"
LOCK = "write.lock"


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


def swap_current(index_dir: Path, gen_dir: Path) -> None:
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


def remove_old_generations(index_dir: Path, live: Path, previous: Path | None) -> None:
    """Delete generations but the live and the previous one: old ones and failed builds' leftovers.

    The previous generation stays until the next build, so searchers that opened it before
    the swap can finish reading it.
    """
    keep = {live.name, previous.name if previous else None}
    for gen in index_dir.glob("gen-*"):
        if gen.name not in keep:
            shutil.rmtree(gen, ignore_errors=True)


def write_meta(gen_dir: Path, meta: IndexMeta) -> None:
    """Write qiao.json durably."""
    path = gen_dir / META
    with open(path, "w", encoding="utf-8") as f:
        json.dump(asdict(meta), f, ensure_ascii=False, indent=2)
        f.flush()
        os.fsync(f.fileno())


def fsync_tree(gen_dir: Path) -> None:
    """Flush a generation's files to disk before it goes live."""
    for p in gen_dir.iterdir():
        with open(p, "rb") as f:
            os.fsync(f.fileno())


def open_generation(gen_dir: Path) -> whoosh.index.FileIndex:
    """Open a generation's Whoosh index, checking it was built by this analyzer."""
    meta = IndexMeta.read(gen_dir)
    if meta.analyzer_version != ANALYZER_VERSION:
        raise IndexMismatch(
            f"the index at {gen_dir.parent} was built with analyzer version "
            f"{meta.analyzer_version}; this Qiao uses {ANALYZER_VERSION}. Run: qiao index build"
        )
    return whoosh.index.open_dir(gen_dir)
