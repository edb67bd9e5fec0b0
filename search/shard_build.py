"""Building an index of S > 1 shards: read and route in input order, build each shard in a process.

The articles are read as a one-shard build reads them (``search.writing.keep_first``: input
order, the first article of an id kept, its story found before any routing) and each goes to its
shard (``search.shards.shard_of``). Each shard is then written by a process of its own (at most
one per CPU) with the writer of ``search.writing``, in input order. The manifest is written
last, once every shard is complete; ``search.writing.build`` then swaps the generation in. A
shard that fails removes the whole new generation: nothing is published and the old index stays
live.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import whoosh.index

from search.analysis import ANALYZER_VERSION, Dictionary
from search.articles import Article, iter_articles
from search.generations import IndexMeta, fsync_tree, write_meta
from search.schema import build_schema
from search.shards import Manifest, ShardState, checksum, shard_name, shard_of
from search.stories import Story
from search.whoosh_glue import Codec
from search.writing import WRITER_LIMIT_MB, Read, keep_first, to_document

Routed = list[tuple[Article, str, Story]]  # a shard's articles, their content hashes and stories, in input order


def write_shards(
    gen_dir: Path, paths: Sequence[Path], segmenter: str, dictionary: Dictionary, shards: int,
    progress: Callable[[int], None] | None, cluster: str | None = None,
) -> Read:
    """Write the articles under ``paths`` as ``shards`` Whoosh indexes and a manifest in ``gen_dir``
    (which exists); on failure, remove ``gen_dir`` and raise. With ``cluster`` (a Ray address or
    "local"), the input is parsed and the shards built by Ray tasks (``search.cluster``)."""
    routed: list[Routed] = [[] for _ in range(shards)]
    try:
        if cluster is None:
            items, build_all = iter_articles(paths), _build_all
        else:
            # Imported only here: Ray is an optional extra, and a Ray build the only one that needs it.
            from search import cluster as ray_cluster

            ray_cluster.connect(cluster)
            items, build_all = ray_cluster.parse(paths), ray_cluster.build_all
        read = keep_first(
            items, progress, lambda article, digest, story: routed[shard_of(article.id, shards)].append((article, digest, story)),
        )
        states = build_all(gen_dir, segmenter, dictionary, routed)
        Manifest(tuple(states), ANALYZER_VERSION, dictionary.digest).write(gen_dir)
    except BaseException:
        shutil.rmtree(gen_dir, ignore_errors=True)
        raise
    return read


def _build_all(gen_dir: Path, segmenter: str, dictionary: Dictionary, routed: list[Routed]) -> list[ShardState]:
    """Build every shard, in processes of their own (at most one per CPU); the first failure is raised."""
    workers = max(1, min(len(routed), os.cpu_count() or 1))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(build_shard, gen_dir / shard_name(shard), segmenter, dictionary, articles)
            for shard, articles in enumerate(routed)
        ]
        try:
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def build_shard(folder: Path, segmenter: str, dictionary: Dictionary, articles: Routed) -> ShardState:
    """Write one shard: ``articles`` in order as a new Whoosh index in ``folder``, with its qiao.json."""
    folder.mkdir()
    ix = whoosh.index.create_in(folder, build_schema(segmenter, dictionary))
    try:
        writer = ix.writer(limitmb=WRITER_LIMIT_MB, compound=False, codec=Codec())
        try:
            for article, digest, story in articles:
                writer.add_document(**to_document(article, digest, "build", story))
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        generation = ix.latest_generation()
    finally:
        ix.close()
    built_at = datetime.now(UTC).isoformat(timespec="seconds")
    write_meta(folder, IndexMeta(ANALYZER_VERSION, segmenter, dictionary.digest, built_at, len(articles)))
    fsync_tree(folder)
    return ShardState(folder.name, generation, len(articles), checksum(folder))
