"""`qiao`: build and query the index from the command line.

Exit codes: 0 success; 1 done, but some input was skipped or rejected; 2 usage error or a
request Qiao cannot answer (bad parameter, no index, index busy); 3 an unexpected failure;
130 interrupted; 141 the reader of the output closed it.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import click

from search import index as qindex
from search.analysis import DEFAULT_SEGMENTER, SEGMENTERS, Dictionary, analyze as analyze_text
from search.errors import QiaoError
from search.export import FORMATS, to_csv, to_jsonl
from search.generations import CURRENT
from search.options import SearchOptions, options
from search.query import complete as completing
from search.query import related as relating
from search.query.results import SearchResult
from search.query.search import search as run_search

DEFAULT_INDEX = Path("index")
DEFAULT_SEEDS = Path("seeds")
COMMANDS_GROUP = "qiao.commands"  # entry points of commands other packages add to `qiao` (web's serve)
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool whose reader closed the pipe

lock_option = click.option(
    "--lock-timeout", type=float, default=30.0, envvar="QIAO_LOCK_TIMEOUT", show_default=True,
    help="Seconds to wait for another writer to finish (or $QIAO_LOCK_TIMEOUT).",
)
index_option = click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), default=DEFAULT_INDEX,
    envvar="QIAO_INDEX", show_default=True, help="Index directory (or $QIAO_INDEX).",
)


class QiaoGroup(click.Group):
    """Turns Qiao's errors into a message and an exit code; never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # here, so that a closed pipe is met inside this handler
            return result
        except BrokenPipeError:
            # The reader went away (`qiao search … | head -1`): stop quietly, as a Unix tool
            # killed by SIGPIPE does, and keep Python from failing again on the exit flush.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)
        except QiaoError as e:
            click.echo(f"error: {e.message}", err=True)
            ctx.exit(2)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as e:  # noqa: BLE001 - the last line of defence for the CLI user
            if os.environ.get("QIAO_DEBUG"):
                raise
            click.echo(f"internal error: {type(e).__name__}: {e} (set QIAO_DEBUG=1 for details)", err=True)
            ctx.exit(3)


class MainGroup(QiaoGroup):
    """`qiao`: its own commands, and those registered in the entry-point group ``qiao.commands``.

    A registered command is imported only when it is run or listed, so `qiao search` never
    loads the web app.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        registered = (point.name for point in entry_points(group=COMMANDS_GROUP))
        return sorted({*super().list_commands(ctx), *registered})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            for point in entry_points(group=COMMANDS_GROUP, name=cmd_name):
                return point.load()
        return command


@click.group(cls=MainGroup)
@click.version_option(package_name="qiao")
def main() -> None:
    """Qiao (桥): bilingual Chinese + English search for news articles."""


@main.group(cls=QiaoGroup)
def index() -> None:
    """Build, update and inspect the index."""


def _progress(enabled: bool):  # noqa: ANN202 - a progress callback or None
    """A progress bar on a terminal, nothing otherwise."""
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(unit=" articles", file=sys.stderr, mininterval=0.5)

    def step(n: int) -> None:
        bar.update(n - bar.n)

    return step, bar


@index.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--segmenter", type=click.Choice(SEGMENTERS), default=DEFAULT_SEGMENTER, show_default=True,
              help="jieba implementation; recorded in the index so queries use the same one.")
@click.option("--userdict", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="User dictionary, copied in as INDEX/userdict.txt (default: INDEX/userdict.txt if present).")
@click.option("--drop-added", is_flag=True,
              help="Go ahead although articles added since the last build (by add, watch or the API) "
                   "are not in these inputs: they are dropped.")
@click.option("--shards", type=click.IntRange(min=1), default=1, envvar="QIAO_SHARDS", show_default=True,
              help="Split the index into this many shards, built in parallel (or $QIAO_SHARDS); "
                   "an article's shard is blake2b-64 of its id modulo the count.")
@click.option("--ray", "cluster", metavar="ADDRESS|local",
              help="Parse the input and build the shards as tasks on the Ray cluster at ADDRESS (host:port), "
                   "or on a Ray started on this machine (local); needs pip install 'qiao[cluster]'.")
@lock_option
def build(
    paths: tuple[Path, ...], index_dir: Path, segmenter: str, userdict: Path | None, drop_added: bool,
    shards: int, cluster: str | None, lock_timeout: float,
) -> None:
    """Rebuild the index from files and folders (default: seeds/)."""
    paths = paths or (DEFAULT_SEEDS,)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise click.UsageError(f"no such file or folder: {', '.join(missing)}")
    step, bar = _progress(sys.stderr.isatty())
    try:
        summary = qindex.build(
            list(paths), index_dir, segmenter=segmenter, userdict=userdict, progress=step,
            lock_timeout=lock_timeout, drop_added=drop_added, shards=shards, cluster=cluster,
        )
    finally:
        if bar is not None:
            bar.close()
    for s in summary.skipped:
        click.echo(f"skipped {s}", err=True)
    for origin, ids in (("added since the last build", summary.dropped.added),
                        ("whose input is gone", summary.dropped.built)):
        if ids:
            click.echo(f"dropped {len(ids)} articles {origin}, e.g. {', '.join(ids[:3])}", err=True)
    mb = summary.chars / 1e6
    click.echo(
        f"indexed {summary.indexed} articles into {index_dir}, skipped {len(summary.skipped)}, "
        + (f"{summary.duplicates} exact duplicates ignored, " if summary.duplicates else "")
        + (f"{len(summary.dropped)} dropped, " if summary.dropped else "")
        + f"{summary.seconds:.1f} s, {summary.per_second:.0f} articles/s, "
        f"{mb / summary.seconds if summary.seconds else 0:.2f} M chars/s"
    )
    sys.exit(1 if summary.skipped else 0)


@index.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@lock_option
def add(paths: tuple[Path, ...], index_dir: Path, lock_timeout: float) -> None:
    """Add or update articles by id (unchanged ones are left alone)."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise click.UsageError(f"no such file or folder: {', '.join(missing)}")
    summary = qindex.add(list(paths), index_dir, lock_timeout=lock_timeout)
    _report(summary)
    sys.exit(1 if summary.skipped else 0)


def _report(summary: qindex.WriteSummary) -> None:
    """Print skipped input on stderr and the counts of an add on stdout."""
    for s in summary.skipped:
        click.echo(f"skipped {s}", err=True)
    counts = summary.counts()
    statuses = ("added", "updated", "unchanged", "rejected") + (("deleted",) if "deleted" in counts else ())
    click.echo(", ".join(f"{k} {counts.get(k, 0)}" for k in statuses))


@index.command()
@click.argument("ids", nargs=-1, required=True)
@index_option
@lock_option
def delete(ids: tuple[str, ...], index_dir: Path, lock_timeout: float) -> None:
    """Delete articles by id."""
    summary = qindex.delete(list(ids), index_dir, lock_timeout=lock_timeout)
    for o in summary.outcomes:
        if o.status == "not_found":
            click.echo(f"not found: {o.id}", err=True)
    counts = summary.counts()
    click.echo(f"deleted {counts.get('deleted', 0)}, not found {counts.get('not_found', 0)}")
    sys.exit(1 if counts.get("not_found") else 0)


@index.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(index_dir: Path, as_json: bool) -> None:
    """Documents by language and source, size, analyzer and last build."""
    with qindex.QiaoIndex(index_dir) as ix:
        data = qindex.stats(ix)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"index      {data['index']}")
    click.echo(f"documents  {data['documents']}")
    click.echo(f"size       {data['size_bytes'] / 1e6:.1f} MB")
    click.echo(f"analyzer   version {data['analyzer_version']}, {data['segmenter']}, dictionary {data['dictionary']}"
               + (" (userdict.txt changed since: rebuild)" if data["dictionary_changed"] else ""))
    click.echo(f"last build {data['last_build']}")
    for name in ("by_lang", "by_source"):
        click.echo(name.replace("_", " ") + ":")
        for k, v in data[name].items():
            click.echo(f"  {v:>7}  {k}")


@index.command()
@index_option
def verify(index_dir: Path) -> None:
    """Check the index: it opens, counts match, every article is found by id, analyzer matches."""
    result = qindex.verify(index_dir)
    for problem in result.problems:
        click.echo(f"problem: {problem}", err=True)
    click.echo(f"{'ok' if result.ok else 'FAILED'}: {result.documents} articles in {index_dir}")
    sys.exit(0 if result.ok else 1)


@index.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@index_option
@lock_option
@click.option("--every", "batch_seconds", type=float, default=2.0, show_default=True,
              help="Seconds to gather changes into one commit.")
@click.option("--batch", "batch_size", type=int, default=500, show_default=True,
              help="At most this many articles a commit.")
def watch(folder: Path, index_dir: Path, lock_timeout: float, batch_seconds: float, batch_size: int) -> None:
    """Index FOLDER, then keep indexing its new, changed and deleted files until Ctrl-C."""
    import signal
    import threading

    from search.watch import watch as watch_folder

    if not (index_dir / CURRENT).is_symlink():
        qindex.build([], index_dir, lock_timeout=lock_timeout)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        click.echo("stopping after the current batch…", err=True)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    click.echo(f"watching {folder} (Ctrl-C stops)", err=True)
    watch_folder(folder, index_dir, stop=stop, report=_report, batch_seconds=batch_seconds,
                 batch_size=batch_size, lock_timeout=lock_timeout)
    click.echo("stopped", err=True)


def search_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the argument and options of SearchOptions: its query, then a flag each."""
    defaults = SearchOptions()
    for name, option in reversed(options()):
        if option.flag is None:
            command = click.argument(name, metavar="QUERY")(command)
            continue
        default = getattr(defaults, name)
        if isinstance(default, bool):  # a yes-or-no: --collapse/--no-collapse, --xlang/--no-xlang
            command = click.option(option.flag, name, default=default, show_default=True, help=option.help)(command)
            continue
        kind = int if option.schema.get("type") == "integer" else str
        command = click.option(option.flag, name, type=kind, default=default, show_default=default is not None,
                               help=option.help)(command)
    return command


@main.command()
@index_option
@search_options
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of GET /api/search (= --format json).")
@click.option("--format", "output", type=click.Choice(FORMATS, case_sensitive=False), default="text",
              show_default=True, help="text for a terminal; json as GET /api/search; csv (UTF-8 with a BOM, "
              "a header row) or jsonl (a hit a line): the hits of the page asked for (--limit, at most 100).")
def search(index_dir: Path, as_json: bool, output: str, **fields: object) -> None:
    """Search the index for QUERY."""
    output = "json" if as_json else output.lower()
    as_json = output != "text"  # errors of the machine formats are the API's JSON error body
    try:
        asked = SearchOptions(**fields)  # type: ignore[arg-type]
        with qindex.QiaoIndex(index_dir) as ix:
            if ix.dictionary_changed():
                click.echo(f"warning: {index_dir / qindex.USERDICT} changed since this index was built; "
                           "run qiao index build", err=True)
            result = run_search(ix, asked)
    except QiaoError as e:
        if not as_json:
            raise
        click.echo(json.dumps(e.to_dict(), ensure_ascii=False))
        sys.exit(2)
    if output == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    elif output == "csv":
        click.echo(to_csv(result), nl=False)
    elif output == "jsonl":
        click.echo(to_jsonl(result), nl=False)
    else:
        _print_result(result)


@main.command()
@click.argument("text")
@index_option
@click.option("--limit", type=int, default=completing.DEFAULT_LIMIT, show_default=True,
              help=f"At most this many suggestions (1 to {completing.MAX_LIMIT}).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of GET /api/suggest.")
def suggest(text: str, index_dir: Path, limit: int, as_json: bool) -> None:
    """Suggestions for TEXT as typed so far: its last word completed, and titles."""
    with qindex.QiaoIndex(index_dir) as ix:
        found = completing.complete(ix, text, limit=limit)
    if as_json:
        click.echo(json.dumps(found.to_dict(), ensure_ascii=False))
        return
    for s in found.suggestions:
        click.echo(f"{s.kind:<6} {s.articles:>6}  {s.text}" + (f"  id={s.id}" if s.id else ""))


@main.command()
@click.argument("article_id", metavar="ID")
@index_option
@click.option("--limit", type=int, default=relating.DEFAULT_LIMIT, show_default=True,
              help=f"At most this many articles (1 to {relating.MAX_LIMIT}).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of GET /api/articles/ID/related.")
def related(article_id: str, index_dir: Path, limit: int, as_json: bool) -> None:
    """The articles most like the article ID (without it and its copies)."""
    with qindex.QiaoIndex(index_dir) as ix:
        found = relating.related(ix, article_id, limit=limit)
    if as_json:
        click.echo(json.dumps(found.to_dict(), ensure_ascii=False))
        return
    click.echo(f"{len(found.hits)} related in {found.processing_time_ms} ms — searched as: {found.query or '(no distinctive words)'}")
    for n, hit in enumerate(found.hits, start=1):
        meta = " · ".join(x for x in (hit.lang, hit.source, hit.published or "") if x)
        click.echo(f"{n}. {hit.title}  [{meta}]  id={hit.id}")


_MARK = re.compile(r"<mark>(.*?)</mark>")


def _terminal(fragment: str) -> str:
    """Highlight HTML as terminal text: marks in bold, entities decoded."""
    styled = _MARK.sub(lambda m: click.style(m.group(1), bold=True, fg="yellow"), fragment)
    return html.unescape(styled)


def _dates(result: SearchResult) -> str:
    """The date filter of a query's date words, as the CLI prints it."""
    dates = result.dates
    assert dates is not None
    relative = f", relative to {dates.anchor} {dates.relative_to}" if dates.relative_to else ""
    words = " ".join(dates.words)
    return f"{dates.start or '…'} – {dates.end or '…'} (from “{words}”{relative}; not searched as words)"


def _print_result(result: SearchResult) -> None:
    """Readable results for a terminal."""
    shown = " / ".join(result.searched_as)
    note = " (no article has all the words; showing those with any)" if result.fallback else ""
    merged = result.collapsed and result.total_articles > result.total_hits
    stories = "story" if result.total_hits == 1 else "stories"
    counted = f"{stories} from {result.total_articles} articles (--no-collapse lists each)" if merged else "results"
    click.echo(f"{result.total_hits} {counted} in {result.processing_time_ms} ms"
               + (f" — searched as: {shown}" if shown else "") + note)
    if result.translations:
        click.echo("also searched as: " + " · ".join(f"{t.source} → {' / '.join(t.targets)}" for t in result.translations)
                   + " (--no-xlang: only as typed)")
    if result.suggestion:
        click.echo(f"Did you mean: {result.suggestion}")
    if result.dates:
        click.echo(f"Dates: {_dates(result)}")
    first = (result.page - 1) * result.per_page
    for n, hit in enumerate(result.hits, start=first + 1):
        if hit.partial and (n == first + 1 or not result.hits[n - first - 2].partial):
            click.echo("\n— the articles with all of the words end here; these have some of them —")
        meta = " · ".join(x for x in (hit.lang, hit.source, hit.category, hit.published or "", hit.author) if x)
        click.echo(f"\n{n}. {_terminal(hit.highlights['title'])}  [{meta}]  id={hit.id}")
        if hit.highlights["body"]:
            click.echo(f"   {_terminal(hit.highlights['body'])}")
        if hit.similar and hit.similar.count:
            click.echo(f"   + {hit.similar.count} similar reports ({', '.join(hit.similar.sources) or 'no source'}): "
                       + " ".join(hit.similar.ids))
    if result.total_pages > result.page:
        click.echo(f"\npage {result.page} of {result.total_pages}: --page {result.page + 1} for more")


@main.command()
@click.argument("text")
@click.option("--query", "as_query", is_flag=True, help="Analyse as a query (no sub-words).")
@index_option
def analyze(text: str, as_query: bool, index_dir: Path) -> None:
    """Print the tokens of TEXT with positions and character offsets."""
    dictionary = Dictionary.load(index_dir / qindex.USERDICT)
    click.echo(f"{'token':<16}{'pos':>5}  offsets   original")
    for token, pos, start, end in analyze_text(text, query=as_query, dictionary=dictionary):
        click.echo(f"{token:<16}{pos:>5}  {start:>3}-{end:<4}  {text[start:end]}")
