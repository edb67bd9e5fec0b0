"""What a run measured on: the machine, the library versions and Qiao's commit."""

from __future__ import annotations

import os
import platform
import subprocess

from measure import ROOT

PACKAGES = {"whoosh": "whoosh-reloaded", "jieba": "jieba", "rjieba": "rjieba", "tantivy": "tantivy"}


def machine() -> dict[str, object]:
    """What this ran on."""
    import sqlite3

    return {
        "cpus": len(os.sched_getaffinity(0)), "cpu": _proc_line("/proc/cpuinfo", "model name").split(":", 1)[-1].strip(),
        "memory_gb": round(int(_proc_line("/proc/meminfo", "MemTotal").split()[1]) * 1024 / 2**30, 1),
        "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}",
        "versions": {**_versions(), "sqlite": sqlite3.sqlite_version}, "loadavg_start": os.getloadavg(),
        "qiao_commit": git_state(),
    }


def _proc_line(path: str, prefix: str) -> str:
    """The first line of a /proc file that starts with ``prefix``."""
    with open(path, encoding="utf-8") as f:
        return next((line for line in f if line.startswith(prefix)), "")


def _versions() -> dict[str, str]:
    """The installed versions of the engines' libraries (a missing one is not listed)."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name, package in PACKAGES.items():
        try:
            versions[name] = version(package)
        except PackageNotFoundError:
            pass
    return versions


def git_state() -> str:
    """The commit measured, and whether search/ or web/ had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "search", "web"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes in search/ or web/" if dirty else "")
