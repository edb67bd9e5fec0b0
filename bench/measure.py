"""Measuring helpers: latency percentiles, memory and CPU of process trees (read from /proc),
index sizes, and a worker process run with its memory peak and CPU time."""

from __future__ import annotations

import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUN_SCRIPT = HERE / "run.py"  # the worker processes are its sub-commands: run.py _build ...


def median_ms(run: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``run`` in milliseconds, after one untimed run (caches warm)."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def on_index(index_dir: Path | None, paths: list[Path], report: Callable[[Path], None]) -> None:
    """``report`` on ``index_dir``, or, without one, on a temporary index of ``paths``."""
    if index_dir:
        report(index_dir)
        return
    from search.index import build  # only here: measure.py's other helpers run without the project

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        build(paths, Path(tmp))
        print(f"indexed {', '.join(p.name for p in paths)} in {time.perf_counter() - started:.1f} s")
        report(Path(tmp))


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank on a sorted copy, linear between ranks)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def latency_summary(ms: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean of latencies in milliseconds."""
    return {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99),
            "mean_ms": statistics.fmean(ms) if ms else float("nan"), "samples": len(ms)}


def children_of() -> dict[int, list[int]]:
    """Every process's children, by parent pid."""
    kids: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        kids[ppid].append(int(entry))
    return kids


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    kids = children_of()
    total, todo = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, []))
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
        except OSError:
            pass
    return total


class PeakRss(threading.Thread):
    """Samples a process tree's resident memory every 50 ms; ``peak`` is the largest sum seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop_event.wait(0.05)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (all its threads)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rfind(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used by a process and its children (the server's master and workers)."""
    total = 0.0
    for p in [pid, *children_of().get(pid, [])]:
        try:
            total += cpu_seconds(p)
        except OSError:  # a worker that just exited
            pass
    return total


def dir_size(path: Path) -> int:
    """Bytes of all files under ``path`` (symlinks not followed)."""
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total


def qiao_executable() -> str:
    """The ``qiao`` command beside this Python."""
    candidate = Path(sys.executable).parent / "qiao"
    return str(candidate) if candidate.exists() else shutil.which("qiao") or "qiao"


def run_worker(args: list[str], prefix: list[str] | None = None, env: dict | None = None) -> dict:
    """Run ``bench/run.py <args>`` in a fresh process; its JSON result plus its memory peaks."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    cmd = [*(prefix or []), sys.executable, str(RUN_SCRIPT), *args, "--result", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    sampler = PeakRss(proc.pid)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"worker failed ({proc.returncode}): {' '.join(cmd)}")
    result = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    result["peak_rss_mb"] = peak / 2**20
    result["maxrss_mb"] = usage.ru_maxrss / 1024
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # the worker and the processes it waited for
    return result
