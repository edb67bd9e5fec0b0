"""Where Qiao's time goes: py-spy of its build (all processes) and cProfile of its query path."""

from __future__ import annotations

import collections
import json
import re
import shutil
import sys
import time
from pathlib import Path

from measure import ROOT, run_worker

PYSPY = ["record", "--subprocesses", "--rate", "100", "--format", "raw"]
CATEGORIES = (
    ("loading the rjieba dictionary (once per writer process)", ("Segmenter.__init__", "<module> (rjieba")),
    ("segmentation (rjieba)", ("rjieba",)),
    ("Qiao analysis: fold, tokenizers, stemming", ("search/analysis.py", "Stemmer")),
    ("Whoosh token plumbing and posting encoding", ("whoosh/analysis", "whoosh/formats.py", "whoosh/fields.py")),
    ("Whoosh segment writing: sort, postings, stored fields", (
        "whoosh/codec", "whoosh/externalsort.py", "whoosh/writing.py", "whoosh/filedb", "whoosh/columns.py",
        "whoosh/util", "whoosh/system.py")),
    ("reading articles: JSONL, dates, language, hashes", ("search/articles/", "search/index.py", "json/")),
    ("IPC: pickling documents for the writer processes", ("pickle", "whoosh/multiproc.py", "multiprocessing")),
    ("imports and start-up", ("importlib", "<frozen")),
)
# Frames left out of the inclusive top: start-up, process plumbing and the benchmark's own code.
_NOT_INCLUSIVE = ("<module>", "_bootstrap", "Popen", "Process", "run (multiprocessing", "start (multi", "(bench/")


# --- the query path: cProfile, in a worker process --------------------------------------------------


def profile_queries(index_dir: Path, queries_path: Path, out: Path) -> dict:
    """cProfile of Qiao's search over the queries (after one warm-up pass)."""
    import cProfile
    import pstats

    from engines import qiao

    from search.query import search as query_path

    query_path.SEARCH_SECONDS = 600  # the profiler slows searches past Qiao's 2 s limit
    queries = json.loads(queries_path.read_text(encoding="utf-8"))
    run = qiao.searcher(index_dir)
    for q in queries:
        run(q)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for _ in range(2):
        for q in queries:
            run(q)
    profile.disable()
    seconds = time.perf_counter() - started
    profile.dump_stats(out)
    return {"seconds": seconds, "queries": 2 * len(queries), "top": top_pstats(pstats.Stats(str(out)))}


def top_pstats(stats, n: int = 15) -> dict[str, list[dict]]:
    """The top functions of a cProfile run by own time and by cumulative time."""
    total = stats.total_tt
    rows = []
    for (file, line, func), (cc, nc, tt, ct, _) in stats.stats.items():
        rows.append({"function": f"{func} ({short_path(file)}:{line})", "calls": nc,
                     "own_s": tt, "own_pct": 100 * tt / total, "cum_s": ct, "cum_pct": 100 * ct / total})
    by_own = sorted(rows, key=lambda r: -r["own_s"])[:n]
    by_cum = sorted((r for r in rows if "bench/" not in r["function"] and "{" not in r["function"]),
                    key=lambda r: -r["cum_s"])[:n]
    return {"total_s": total, "by_own": by_own, "by_cumulative": by_cum}


def short_path(file: str) -> str:
    """A path from its package on: whoosh/searching.py, search/query/search.py."""
    for marker in ("site-packages/", "/lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
    file = file.replace(str(ROOT) + "/", "")
    return re.sub(r"^\.?\d*/", "", file)


# --- the build: py-spy over the build's processes ---------------------------------------------------


def profile_build(dataset: dict, work: Path) -> dict | None:
    """py-spy (all processes) of Qiao's build of a dataset, summarised; None without py-spy."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(pyspy).exists():
        print("  (py-spy not installed: no build profile; pip install -e '.[bench]')")
        return None
    raw = work / "build-profile.txt"
    index_dir = work / "indexes" / "profile"
    r = run_worker(["_build", "qiao", dataset["path"], str(index_dir), dataset["lang"]],
                   prefix=[pyspy, *PYSPY, "--output", str(raw), "--"])
    shutil.rmtree(index_dir, ignore_errors=True)
    summary = summarize_pyspy(raw)
    summary.update({"tool": "py-spy record --subprocesses --rate 100", "articles": r["articles"],
                    "seconds": r["seconds"]})
    return summary


def summarize_pyspy(raw: Path, n: int = 15) -> dict:
    """Own-time and inclusive-time tops, and time by category, from py-spy's raw (collapsed) output."""
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    categories: collections.Counter = collections.Counter()
    processes: collections.Counter = collections.Counter()
    for frames, writer, k in _stacks(raw):
        processes["writer processes" if writer else "main process"] += k
        own[frames[-1]] += k
        for f in set(frames):
            inclusive[f] += k
        categories[_category(frames)] += k
    total = sum(processes.values())

    def pct(counter: collections.Counter, limit: int | None) -> list[dict]:
        return [{"function": f, "pct": 100 * c / total} for f, c in counter.most_common(limit)]

    return {
        "samples": total,
        "by_process": pct(processes, None),
        "by_category": pct(categories, None),
        "by_own": pct(own, n),
        "by_inclusive": [r for r in pct(inclusive, 60) if not any(s in r["function"] for s in _NOT_INCLUSIVE)][:n],
    }


def _stacks(raw: Path) -> list[tuple[list[str], bool, int]]:
    """(frames outermost first, whether in a writer process, samples) of each stack py-spy recorded."""
    out = []
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        depth = sum(1 for f in frames if f.startswith("process "))
        frames = [_frame(f) for f in frames if not f.startswith("process ")]
        if frames:
            out.append((frames, depth > 1, int(count)))
    return out


def _frame(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = short_path(where.rstrip(")"))
    where = re.sub(r":\d+$", "", where)
    return f"{name} ({where})"


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, markers in CATEGORIES:
            if any(m in frame for m in markers):
                return name
    return "other"
