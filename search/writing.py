"""Writing an index: build (a new generation, atomically), add and delete (in the live one)."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import whoosh.index
from whoosh.fields import Schema
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from search.analysis import ANALYZER_VERSION, DEFAULT_SEGMENTER, Dictionary
from search.articles import Article, Skipped, iter_articles
from search.errors import BuildRefused, IndexMismatch, IndexNotFound
from search.generations import (
    PREVIOUS_USERDICT,
    USERDICT,
    IndexMeta,
    current_generation,
    fsync_tree,
    open_generation,
    remove_old_generations,
    swap_current,
    write_lock,
    write_meta,
)
from search.schema import build_schema
from search.shards import shard_dirs, shard_of
from search.stories import Indexed, Stories, Story, story_text
from search.whoosh_glue import Codec

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


def content_hash(article: Article) -> str:
    """A hash of everything an article contributes to the index."""
    data = asdict(article)
    data["published"] = article.published.isoformat() if article.published else None
    data["analyzer"] = ANALYZER_VERSION
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def to_document(article: Article, digest: str, origin: str, story: Story) -> dict[str, object]:
    """The Whoosh document of an article of ``story``; ``origin`` is "build" or "add" (see ``Dropped``)."""
    captions = "\n".join(article.captions)
    tags = ",".join(article.tags)
    doc: dict[str, object] = {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "body": article.body,
        # The tags are searched as words with the captions (plain words find an article's tags at
        # the captions' weight); the captions are stored without them.
        "captions": "\n".join((*article.captions, *article.tags)),
        "_stored_captions": captions,
        "title_parts": article.title,
        "parts": f"{article.body}\n{captions}",
        "lang": article.lang,
        "tags": tags,
        "tag_keys": tags,
        "content_hash": digest,
        "origin": origin,
        "story": story.id,
        "bands": " ".join(story.bands),
    }
    if article.published is not None:
        doc["published"] = article.published
        doc["year"] = str(article.published.year)
    for name in ("source", "category", "author"):
        if value := getattr(article, name):
            doc[name] = value
    if article.author:
        doc["author_key"] = article.author
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
    shards: int = 1,
    cluster: str | None = None,
) -> BuildSummary:
    """Rebuild the index from ``paths``; the old index stays live until the new one is complete.

    ``userdict`` becomes the index's own dictionary (INDEX/userdict.txt). A rebuild that would
    lose articles added since the last build (by add, watch or the API; their sources are not
    among ``paths``) is refused unless ``drop_added``, and the old index stays live. With
    ``shards`` > 1 it is that many Whoosh indexes, built in parallel (``search.shard_build``).
    With ``cluster`` (a Ray address, or "local" for a Ray of this machine) the input is parsed and
    the shards (one or more) are built by Ray tasks (``search.cluster``; the extra ``cluster``).
    """
    check_index_outside(paths, index_dir)
    start = time.perf_counter()
    dictionary = Dictionary.load(userdict or index_dir / USERDICT)
    with write_lock(index_dir, lock_timeout), _fewer_collections():
        gen_dir = index_dir / f"gen-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
        gen_dir.mkdir(parents=True)
        read = _write_shards(gen_dir, paths, segmenter, dictionary, shards, progress, cluster)
        built_at = datetime.now(UTC).isoformat(timespec="seconds")
        write_meta(gen_dir, IndexMeta(ANALYZER_VERSION, segmenter, dictionary.digest, built_at, len(read.digests)))
        for folder in shard_dirs(gen_dir):
            fsync_tree(folder)
        previous = _live_generation(index_dir)
        dropped = _dropped(previous, set(read.digests)) if previous else Dropped()
        if dropped.added and not drop_added:
            shutil.rmtree(gen_dir, ignore_errors=True)
            raise _refusal(index_dir, dropped)
        if userdict is not None:
            _install_dictionary(userdict, index_dir)
        swap_current(index_dir, gen_dir)
        remove_old_generations(index_dir, gen_dir, previous)
    seconds = time.perf_counter() - start
    return BuildSummary(len(read.digests), tuple(read.skipped), seconds, read.chars, read.duplicates, dropped)


@dataclass
class Read:
    """What a build read: the content hash of each article it wrote, by id, and what it left out."""

    digests: dict[str, str] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    chars: int = 0


def _write_shards(
    gen_dir: Path, paths: Sequence[Path], segmenter: str, dictionary: Dictionary, shards: int,
    progress: Callable[[int], None] | None, cluster: str | None,
) -> Read:
    """Write the articles under ``paths`` in ``gen_dir``: one Whoosh index, or ``shards`` of them
    (also one, with a manifest, when Ray builds it)."""
    if shards == 1 and cluster is None:
        return _write_generation(gen_dir, paths, build_schema(segmenter, dictionary), progress)
    # Imported here: search.shard_build builds each shard with this module's writer.
    from search.shard_build import write_shards

    return write_shards(gen_dir, paths, segmenter, dictionary, shards, progress, cluster)


def _write_generation(
    gen_dir: Path, paths: Sequence[Path], schema: Schema, progress: Callable[[int], None] | None,
) -> Read:
    """Write the articles under ``paths`` as a new Whoosh index in ``gen_dir``; on failure, remove it."""
    ix = whoosh.index.create_in(gen_dir, schema)
    procs = {"procs": BUILD_PROCS, "multisegment": True} if BUILD_PROCS > 1 else {}
    writer = ix.writer(limitmb=WRITER_LIMIT_MB, compound=False, codec=Codec(), **procs)
    try:
        read = read_articles(
            paths, progress, lambda article, digest, story: writer.add_document(**to_document(article, digest, "build", story)),
        )
        writer.commit()
    except BaseException:
        writer.cancel()
        shutil.rmtree(gen_dir, ignore_errors=True)
        raise
    finally:
        ix.close()
    return read


def read_articles(
    paths: Sequence[Path], progress: Callable[[int], None] | None, keep: Callable[[Article, str, Story], None],
) -> Read:
    """Hand every article under ``paths``, its content hash and its story to ``keep``, in input
    order, the first of each id; exact copies are counted."""
    return keep_first(iter_articles(paths), progress, keep)


def keep_first(
    items: Iterable[Article | Skipped], progress: Callable[[int], None] | None, keep: Callable[[Article, str, Story], None],
) -> Read:
    """Hand every article of ``items`` (read in input order), its content hash and its story to
    ``keep``, the first of each id; exact copies are counted, the rest skipped. Stories are found
    here, in input order before any routing to shards (in this process for a Ray build too), so
    they are the same for any number of shards and any way of building them."""
    read = Read()
    stories = Stories()
    for item in items:
        if isinstance(item, Skipped):
            read.skipped.append(item)
            continue
        digest = content_hash(item)
        if item.id in read.digests:
            if read.digests[item.id] == digest:
                read.duplicates += 1
            else:
                read.skipped.append(Skipped(item.id, None, "another article has this id; the first was kept"))
            continue
        read.digests[item.id] = digest
        keep(item, digest, stories.story(item))
        read.chars += len(item.title) + len(item.body)
        if progress is not None:
            progress(len(read.digests))
    return read


def _live_generation(index_dir: Path) -> Path | None:
    """The live generation, None before the first build."""
    try:
        return current_generation(index_dir)
    except IndexNotFound:
        return None


def _refusal(index_dir: Path, dropped: Dropped) -> BuildRefused:
    """The error of a rebuild that would drop articles added since the last build."""
    return BuildRefused(
        f"{len(dropped.added)} articles added to {index_dir} since its last build (by add, watch or the "
        f"API) are not in these inputs, e.g. {', '.join(dropped.added[:3])}; the index is unchanged. "
        "Add their files to the build, or run it again with --drop-added to drop them."
    )


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
    """The live articles of a generation (of all its shards) whose ids are not in ``kept``, by origin."""
    lost: dict[str, list[str]] = {"add": [], "build": []}
    for folder in shard_dirs(gen_dir):
        try:
            ix = open_generation(folder)
        except IndexMismatch:  # built by another version: not comparable, and it must be rebuilt anyway
            return Dropped()
        _find_lost(ix, kept, lost)
    return Dropped(tuple(lost["add"]), tuple(lost["build"]))


def _find_lost(ix: whoosh.index.FileIndex, kept: set[str], lost: dict[str, list[str]]) -> None:
    """Add the live articles of ``ix`` whose ids are not in ``kept`` to ``lost``, by origin."""
    with contextlib.closing(ix), ix.searcher() as searcher:
        for term in searcher.reader().lexicon("id"):
            article_id = term.decode("utf-8")
            if article_id in kept:
                continue
            docnum = searcher.document_number(id=article_id)  # None for a deleted article's leftover term
            if docnum is not None:
                lost[searcher.stored_fields(docnum).get("origin", "build")].append(article_id)


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
    """Add or update articles in the live generation, reporting what happened to each. A new or
    changed article joins the story of the most similar indexed (or earlier added) one, if any."""
    summary = WriteSummary()
    with _writing(index_dir, lock_timeout, limitmb=WRITER_LIMIT_MB, compound=False, codec=Codec()) as shards:
        shard = _owner(shards)
        digests: dict[str, str | None] = {}  # the content each id has now, None if none
        changed: dict[str, Article] = {}  # the last version of each article to write
        added: set[str] = set()  # ids new to the index
        for item in items:
            if isinstance(item, Skipped):
                summary.skipped.append(item)
                summary.outcomes.append(Outcome(item.path, "rejected", item.reason))
                continue
            if item.id not in digests:
                stored = shard(item.id)[1].document(id=item.id)
                digests[item.id] = stored["content_hash"] if stored else None
            old, digest = digests[item.id], content_hash(item)
            if old == digest:
                summary.outcomes.append(Outcome(item.id, "unchanged"))
                continue
            summary.outcomes.append(Outcome(item.id, "added" if old is None else "updated"))
            if old is None:
                added.add(item.id)
            digests[item.id] = digest
            changed[item.id] = item
        stories = Stories(lambda keys: _indexed([searcher for _, searcher in shards], keys))
        # Written once per id: Whoosh's update_document does not see this writer's own additions.
        for article in changed.values():
            digest = digests[article.id]
            # An updated article that starts a story takes a new story id: its old copies keep its id.
            story = stories.story(article, new=None if article.id in added else f"{article.id}@{digest[:12]}")  # type: ignore[index]
            shard(article.id)[0].update_document(**to_document(article, digest, "add", story))  # type: ignore[arg-type]
    return summary


def _indexed(searchers: Sequence[Searcher], keys: Iterable[str]) -> Iterator[Indexed]:
    """The committed articles of every shard that have any of the LSH band ``keys``, each once."""
    for searcher in searchers:
        found: set[int] = set()
        for key in keys:
            found.update(searcher.document_numbers(bands=key))
        for docnum in sorted(found):
            stored = searcher.stored_fields(docnum)
            text = story_text(stored.get("title", ""), stored.get("body", ""))
            yield Indexed(stored["id"], text, stored.get("story") or stored["id"])


def delete(ids: Sequence[str], index_dir: Path, *, lock_timeout: float = 30.0) -> WriteSummary:
    """Delete articles by id."""
    summary = WriteSummary()
    with _writing(index_dir, lock_timeout) as shards:
        shard = _owner(shards)
        for article_id in ids:
            n = shard(article_id)[0].delete_by_term("id", article_id)
            summary.outcomes.append(Outcome(article_id, "deleted" if n else "not_found"))
    return summary


@contextlib.contextmanager
def _writing(index_dir: Path, lock_timeout: float, **options: object) -> Iterator[list[tuple[IndexWriter, Searcher]]]:
    """Under the writer lock, a writer and the committed state's searcher of each shard of the live
    generation, in shard order (one for an index of one shard); every shard commits at the end."""
    with write_lock(index_dir, lock_timeout), contextlib.ExitStack() as stack:
        folders = shard_dirs(current_generation(index_dir))
        yield [stack.enter_context(_writing_shard(folder, **options)) for folder in folders]


def _owner(shards: list[tuple[IndexWriter, Searcher]]) -> Callable[[str], tuple[IndexWriter, Searcher]]:
    """The writer and searcher of the shard an article id lives in (``search.shards.shard_of``)."""
    return lambda article_id: shards[shard_of(article_id, len(shards))]


@contextlib.contextmanager
def _writing_shard(folder: Path, **options: object) -> Iterator[tuple[IndexWriter, Searcher]]:
    """A writer on the Whoosh index in ``folder`` and a searcher of its committed state; commits at the end."""
    ix = open_generation(folder)
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
