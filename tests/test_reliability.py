"""Writes never break the index: killed writers, stale locks, verify, and the watched folder.

The tests that start writers as processes (and kill them) are in the system tier."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from search.errors import BuildRefused
from search.index import QiaoIndex, add, build, verify
from search.query.search import search
from search.watch import FolderSync, watch

from .conftest import QIAO, SEEDS

ZH = SEEDS / "zh-news.jsonl"  # 300 articles
WIKINEWS = SEEDS / "en-wikinews"  # 295 articles
SEED_ARTICLE = SEEDS / "chongqing-hong-kong-2023-05-11.txt"
KILLS = int(os.environ.get("QIAO_KILLS", "8"))


def count(index_dir: Path) -> int:
    with QiaoIndex(index_dir) as ix:
        return ix.searcher().doc_count()


def story(n: int, title: str = "香港新闻") -> str:
    return json.dumps({"id": f"s{n}", "title": title, "body": f"第{n}条新闻：香港与重庆合作。"}, ensure_ascii=False)


def _seconds(command: list[str], index_dir: Path) -> float:
    """How long ``qiao index COMMAND`` takes, start to finish."""
    started = time.perf_counter()
    subprocess.run([QIAO, "index", *command, "--index", str(index_dir)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def test_verify_passes_on_a_sound_index(seeds_index_dir: Path) -> None:
    result = verify(seeds_index_dir)
    assert (result.ok, result.documents, result.problems) == (True, 846, ())


@pytest.mark.system
def test_a_killed_lock_holder_does_not_block_the_next_writer(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([SEED_ARTICLE], index_dir)
    holder = subprocess.Popen([
        sys.executable, "-c",
        ("import sys, time; from pathlib import Path; from search.index import write_lock\n"
         f"with write_lock(Path({str(index_dir)!r})):\n    print('locked', flush=True); time.sleep(60)"),
    ], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "locked\n"
    holder.kill()
    holder.wait()
    data = tmp_path / "a.jsonl"
    data.write_text(story(1) + "\n", encoding="utf-8")
    assert add([data], index_dir, lock_timeout=2).counts() == {"added": 1}


@pytest.mark.system
def test_writers_killed_at_random_moments_never_damage_the_index(tmp_path: Path) -> None:
    """kill -9 build and add processes at random moments; the index stays complete every time."""
    index_dir = tmp_path / "index"
    build([SEED_ARTICLE], index_dir)
    seed = int(os.environ.get("QIAO_KILL_SEED", time.time()))
    rng = random.Random(seed)
    # Kill within the time the quicker writer takes on this machine, so most are mid-way.
    whole = min(_seconds(["build", str(ZH)], tmp_path / "timed"), _seconds(["add", str(WIKINEWS)], tmp_path / "timed"))
    killed = 0
    for attempt in range(KILLS):
        before = count(index_dir)
        command, after = rng.choice([
            (["build", str(ZH), "--drop-added"], {300}),
            (["add", str(WIKINEWS)], {before, before + 295}),
        ])
        proc = subprocess.Popen([QIAO, "index", *command, "--index", str(index_dir)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0.05, 0.9 * whole))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        now = count(index_dir)
        where = f"seed {seed}, attempt {attempt}, {command[0]}"
        assert now in {before} | after, f"{where}: {before} -> {now}"
        result = verify(index_dir)
        assert result.ok, f"{where}: {result.problems}"
    assert killed >= KILLS // 2, f"seed {seed}: only {killed} of {KILLS} writers were still running when killed"
    build([ZH], index_dir, drop_added=True)
    assert add([WIKINEWS], index_dir).counts() == {"added": 295}
    assert count(index_dir) == 595


def test_folder_sync_adds_updates_and_removes_files(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    index_dir = tmp_path / "index"
    build([], index_dir)
    (folder / "a.jsonl").write_text(story(1) + "\n" + story(2) + "\n", encoding="utf-8")
    sync = FolderSync(folder, index_dir)
    assert sync.everything().counts() == {"added": 2}
    (folder / "a.jsonl").write_text(story(1, "重庆新闻") + "\n", encoding="utf-8")
    assert sync.sync([folder / "a.jsonl"]).counts() == {"updated": 1, "deleted": 1}
    (folder / "a.jsonl").unlink()
    assert sync.sync([folder / "a.jsonl"]).counts() == {"deleted": 1}
    assert count(index_dir) == 0


def test_folder_sync_removes_the_files_of_a_deleted_folder(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    (folder / "day1").mkdir(parents=True)
    (folder / "day1" / "a.jsonl").write_text(story(1) + "\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    build([], index_dir)
    sync = FolderSync(folder, index_dir)
    sync.everything()
    (folder / "day1" / "a.jsonl").unlink()
    (folder / "day1").rmdir()
    assert sync.sync([folder / "day1"]).counts() == {"deleted": 1}


@pytest.mark.system
def test_watch_command_indexes_arrivals_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    index_dir = tmp_path / "index"
    proc = subprocess.Popen(
        [QIAO, "index", "watch", str(folder), "--index", str(index_dir), "--every", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (index_dir / "current").is_symlink() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        (folder / "new.jsonl").write_text(story(7) + "\n", encoding="utf-8")
        while time.monotonic() < deadline:
            if count(index_dir) == 1:
                break
            time.sleep(0.2)
        assert count(index_dir) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert out.splitlines() == ["added 0, updated 0, unchanged 0, rejected 0",
                                "added 1, updated 0, unchanged 0, rejected 0"]
    assert err.splitlines()[-1] == "stopped"


@pytest.mark.system
def test_searches_keep_answering_while_writers_run(tmp_path: Path) -> None:
    """Searches never fail or find an empty index during build, add and delete by other processes."""
    index_dir = tmp_path / "index"
    build([ZH], index_dir)
    answers: list[int] = []
    failures: list[str] = []
    done = threading.Event()

    def search_loop() -> None:
        with QiaoIndex(index_dir) as ix:
            while not done.is_set():
                try:
                    answers.append(search(ix, "香港", xlang=False).total_hits)
                except Exception as e:  # noqa: BLE001 - any failure is what this test looks for
                    failures.append(repr(e))

    threads = [threading.Thread(target=search_loop) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for command in (["build", str(ZH)], ["add", str(WIKINEWS)], ["delete", "no-such-id"],
                        ["build", str(ZH), "--drop-added"]):
            subprocess.run([QIAO, "index", *command, "--index", str(index_dir)], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    finally:
        done.set()
        for t in threads:
            t.join()
    assert failures == []
    assert len(answers) > 10 and set(answers) == {18}


def test_watch_refuses_an_index_inside_the_watched_folder(tmp_path: Path) -> None:
    reports: list[object] = []
    with pytest.raises(BuildRefused, match="is inside the input folder"):
        watch(tmp_path, tmp_path / "index", stop=threading.Event(), report=reports.append)
    assert (reports, list(tmp_path.iterdir())) == ([], [])
