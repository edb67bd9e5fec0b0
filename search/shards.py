"""Shards of an index: which shard an article lives in, and how a sharded generation is laid out.

An index of S > 1 shards has the layout of ``search.generations`` (``current`` swapped to a
complete generation); its generation holds one Whoosh index per shard and a manifest::

    index/
      current -> gen-20261202T103000-4242
      gen-20261202T103000-4242/
        qiao.json               (IndexMeta, as for one index: articles counts all shards')
        shards.json             (the manifest: format, S, routing, analyzer, each shard's state)
        shard-00/ … shard-03/   (a Whoosh index and qiao.json each)

An article lives in shard ``blake2b-64(id) mod S`` (``shard_of``), the same in every process
(Python's ``hash()`` of a string is not). S is fixed when an index is built; changing it is a
rebuild. An index of one shard is today's layout: its generation is the Whoosh index itself.
"""

from __future__ import annotations

import hashlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MANIFEST = "shards.json"
MANIFEST_FORMAT = 1
ROUTING = "blake2b-64(id) mod S"


def shard_of(article_id: str, shards: int) -> int:
    """The shard of the article ``article_id`` among ``shards``: blake2b-64 of its UTF-8 bytes,
    big-endian, modulo ``shards``.

    >>> shard_of("any id", 1)
    0
    >>> [shard_of(i, 4) for i in ("a", "b", "c")] == [shard_of(i, 4) for i in ("a", "b", "c")]
    True
    """
    digest = hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def shard_name(shard: int) -> str:
    """The folder of shard number ``shard`` inside a sharded generation."""
    return f"shard-{shard:02d}"


@dataclass(frozen=True)
class ShardState:
    """One shard as a build left it: its folder, Whoosh commit generation, article count and the
    checksum of its files (``checksum``; "" in manifests written before it was recorded)."""

    name: str
    generation: int
    articles: int
    checksum: str = ""


@dataclass(frozen=True)
class Manifest:
    """What a sharded generation holds: written once every shard is complete."""

    shards: tuple[ShardState, ...]
    analyzer_version: str
    dictionary_digest: str
    format: int = MANIFEST_FORMAT
    routing: str = ROUTING

    @classmethod
    def read(cls, gen_dir: Path) -> Manifest:
        """Read the manifest of a sharded generation."""
        data = json.loads((gen_dir / MANIFEST).read_text(encoding="utf-8"))
        shards = tuple(ShardState(**shard) for shard in data.pop("shards"))
        return cls(shards, **{k: data[k] for k in ("analyzer_version", "dictionary_digest", "format", "routing")})

    def write(self, gen_dir: Path) -> None:
        """Write the manifest durably: to a temporary file, then renamed into place."""
        tmp = gen_dir / f".{MANIFEST}.{os.getpid()}"
        data = {**asdict(self), "count": len(self.shards)}
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, gen_dir / MANIFEST)


def checksum(folder: Path) -> str:
    """SHA-256 of a shard's files as a build leaves them: each file's name and bytes, in name order
    (Whoosh's lock files, empty and rewritten by every writer, left out)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith("LOCK")):
        digest.update(path.name.encode("utf-8") + b"\0")
        with open(path, "rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()


def is_sharded(gen_dir: Path) -> bool:
    """Whether the generation ``gen_dir`` holds shards (an index built with S > 1)."""
    return (gen_dir / MANIFEST).is_file()


def shard_dirs(gen_dir: Path) -> list[Path]:
    """The Whoosh index folders of a generation, in shard order: its shards', or itself."""
    if not is_sharded(gen_dir):
        return [gen_dir]
    return [gen_dir / shard.name for shard in Manifest.read(gen_dir).shards]



class RemoteShards(ABC):
    """The shards of an index searched by other processes (``search.cluster``'s Ray actors): one
    call to every shard a round. ``search.query.search`` runs its rounds through these methods
    where a ShardedSearcher's shards run them in this process. A hit's number names its shard."""

    schema: Any  # the shards' Whoosh schema

    @abstractmethod
    def statistics(self, query: Any) -> list[Any]:
        """The statistics round: each shard's ``search.query.statistics.Statistics``, in shard order."""

    @abstractmethod
    def rank(self, query: Any, stats: Any, plan: Any, ranking: Any) -> list[Any]:
        """The rank round: each shard's ``search.shard_search.ShardRanked``, in shard order."""

    @abstractmethod
    def proximity(self, words: list[Any], docs: Any, stats: Any, idf: Any, ranking: Any) -> Any:
        """The proximity bonus of each of ``docs`` (sorted hit numbers): ``search.proximity.leaf_bonus`` on their shards."""

    @abstractmethod
    def stored_fields_of(self, docs: Sequence[int]) -> list[dict[str, Any]]:
        """The fetch round: the stored fields of the hits ``docs``, in order."""

    @abstractmethod
    def date_range(self, name: str) -> Any:
        """The earliest and latest value of the date field ``name`` over every shard (``search.whoosh_glue.date_range``)."""

    @abstractmethod
    def live_counts(self, names: Sequence[str]) -> tuple[int, dict[str, dict[str, int]]]:
        """The live articles of every shard, and their counts by each value of the fields ``names``."""
