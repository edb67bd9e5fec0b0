"""Keep an index in step with a folder: new and changed files are added, deleted files removed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from search.articles import Article, Skipped, is_article_file, iter_folder_file
from search.index import WriteSummary, add_articles, check_index_outside, delete


@dataclass
class FolderSync:
    """The articles each file of a folder gave the index, and the writes that keep them current."""

    folder: Path
    index_dir: Path
    batch_size: int = 500
    lock_timeout: float = 30.0
    files: dict[Path, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder = self.folder.resolve()

    def everything(self) -> WriteSummary:
        """Read the whole folder: unchanged articles are recognised and left alone."""
        paths = [p for p in sorted(self.folder.rglob("*")) if p.is_file() and is_article_file(p)]
        return self.sync(paths)

    def sync(self, changed: Iterable[Path]) -> WriteSummary:
        """Bring the index up to date with these changed, new or deleted paths."""
        now: dict[Path, set[str]] = {}
        items: list[Article | Skipped] = []
        for path in self._expand(changed):
            now[path] = set()
            if path.is_file() and is_article_file(path):
                for item in iter_folder_file(self.folder, path):
                    items.append(item)
                    if isinstance(item, Article):
                        now[path].add(item.id)
        kept = set().union(*now.values()) if now else set()
        gone = {i for p in now for i in self.files.get(p, set())} - kept
        summary = WriteSummary()
        for start in range(0, len(items), self.batch_size):
            part = add_articles(items[start : start + self.batch_size], self.index_dir, lock_timeout=self.lock_timeout)
            summary.outcomes += part.outcomes
            summary.skipped += part.skipped
        if gone:
            summary.outcomes += delete(sorted(gone), self.index_dir, lock_timeout=self.lock_timeout).outcomes
        for path, ids in now.items():
            if ids:
                self.files[path] = ids
            else:
                self.files.pop(path, None)
        return summary

    def _expand(self, changed: Iterable[Path]) -> list[Path]:
        """Files behind the changed paths: a folder's files, and known files under a deleted folder."""
        out: set[Path] = set()
        for path in changed:
            if path.is_dir():
                out.update(p for p in path.rglob("*") if p.is_file())
            elif path.exists():
                out.add(path)
            else:
                out.update(p for p in self.files if p == path or path in p.parents)
                out.add(path)
        return sorted(out)


def watch(
    folder: Path,
    index_dir: Path,
    *,
    stop: threading.Event,
    report: Callable[[WriteSummary], None],
    batch_seconds: float = 2.0,
    batch_size: int = 500,
    lock_timeout: float = 30.0,
) -> None:
    """Index the folder, then every change to it in batches, until ``stop`` is set."""
    check_index_outside([folder], index_dir)
    syncer = FolderSync(folder, index_dir, batch_size, lock_timeout)
    report(syncer.everything())
    for changes in watchfiles.watch(
        folder, debounce=int(batch_seconds * 1000), stop_event=stop, raise_interrupt=False,
    ):
        report(syncer.sync(Path(p) for _, p in changes))
