"""The `qiao` command as a user runs it: exit codes, output, and no tracebacks.

Most tests run the command in this process with click's CliRunner; the system tier runs the
installed console script as a shell does (its exit codes, a pseudo-terminal, a closed pipe).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import struct
import subprocess
import termios
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from search.cli import main
from search.index import build

from .conftest import QIAO, ROOT


def qiao(*args: str, cwd: Path = ROOT) -> Result:
    """`qiao ARGS` run in this process from the folder ``cwd``: exit code, stdout and stderr."""
    with contextlib.chdir(cwd):
        return CliRunner().invoke(main, list(args))


def run_script(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`qiao ARGS` run by the installed console script, as a shell runs it."""
    return subprocess.run([QIAO, *args], capture_output=True, text=True, cwd=cwd, timeout=300, check=False)


def test_search_json_prints_the_api_shape(seeds_index_dir: Path) -> None:
    out = qiao("search", "李家超 OR Li Jiachao", "--index", str(seeds_index_dir), "--json", "--limit", "1")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["ok"], data["per_page"], data["hits"][0]["id"]) == (True, 1, "chongqing-hong-kong-2023-05-11.txt")


def test_search_prints_readable_results(seeds_index_dir: Path) -> None:
    out = qiao("search", "Li Jiachao", "--index", str(seeds_index_dir), "--no-xlang")
    assert out.exit_code == 0
    assert out.stdout.splitlines()[0].startswith("1 results in ")
    assert "searched as: Li / Jiachao" in out.stdout
    assert "1. Actively serve the national strategy" in out.stdout


def test_search_marks_where_the_articles_with_some_of_the_words_start(seeds_index_dir: Path) -> None:
    out = qiao("search", "Chongqing Hong Kong cooperation", "--index", str(seeds_index_dir), "--limit", "3", "--no-xlang")
    lines = out.stdout.splitlines()
    assert lines[0].startswith("1 results in ")
    assert lines.index("— the articles with all of the words end here; these have some of them —") == 5
    assert lines[2].startswith("1. Actively serve the national strategy")


def test_bad_parameter_in_json_mode_is_an_error_body_and_exit_2(seeds_index_dir: Path) -> None:
    out = qiao("search", "香港", "--index", str(seeds_index_dir), "--json", "--page", "0")
    assert out.exit_code == 2
    assert json.loads(out.stdout) == {
        "ok": False, "status": 400,
        "error": {"code": "bad_parameter", "message": "page must be 1 or more, not 0"},
    }
    assert "Traceback" not in out.stderr


def test_page_past_the_last_is_an_error_and_exit_2(seeds_index_dir: Path) -> None:
    out = qiao("search", "香港", "--index", str(seeds_index_dir), "--page", "999", "--no-xlang")
    assert (out.exit_code, out.stdout, out.stderr) == (2, "", "error: page must be at most 2, the last page, not 999\n")


def test_empty_query_with_a_source_lists_its_articles(seeds_index_dir: Path) -> None:
    out = qiao("search", "", "--index", str(seeds_index_dir), "--source", "新浪", "--json")
    data = json.loads(out.stdout)
    assert (out.exit_code, data["total_hits"], len(data["hits"])) == (0, 32, 10)


def test_missing_index_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    out = qiao("search", "香港", "--index", str(tmp_path / "none"))
    assert out.exit_code == 2
    assert out.stderr.startswith(f"error: no index at {tmp_path / 'none'}")
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("query", ['"香港 (合作 AND', "((((((", "-", "OR OR", "title:", '"'])
def test_odd_syntax_never_crashes(seeds_index_dir: Path, query: str) -> None:
    out = qiao("search", query, "--index", str(seeds_index_dir), "--json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["ok"] is True


def test_build_exit_code_1_and_reasons_when_input_is_skipped(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.jsonl").write_text('{"id": "a", "title": "香港", "body": "香港新闻"}\n{oops\n', encoding="utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    out = qiao("index", "build", str(corpus), "--index", str(tmp_path / "index"))
    assert out.exit_code == 1
    assert out.stdout.startswith(f"indexed 1 articles into {tmp_path / 'index'}, skipped 2,")
    assert len([line for line in out.stderr.splitlines() if line.startswith("skipped ")]) == 2


def test_build_of_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    out = qiao("index", "build", str(tmp_path / "nope"), "--index", str(tmp_path / "index"))
    assert out.exit_code == 2
    assert "no such file or folder" in out.stderr


def test_build_without_paths_indexes_seeds_into_index(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()  # one article: the system tier builds the real seeds in a terminal
    (tmp_path / "seeds" / "a.jsonl").write_text('{"id": "a", "title": "香港", "body": "香港新闻"}\n', encoding="utf-8")
    out = qiao("index", "build", cwd=tmp_path)
    assert out.exit_code == 0, out.stderr
    assert out.stdout.startswith("indexed 1 articles into index, skipped 0,")
    assert (tmp_path / "index" / "current").is_symlink()


def test_add_and_delete_report_counts(tmp_path: Path) -> None:
    data = tmp_path / "a.jsonl"
    data.write_text('{"id": "a", "title": "香港", "body": "香港新闻"}\n', encoding="utf-8")
    index = str(tmp_path / "index")
    assert qiao("index", "build", str(data), "--index", index).exit_code == 0
    assert qiao("index", "add", str(data), "--index", index).stdout == "added 0, updated 0, unchanged 1, rejected 0\n"
    out = qiao("index", "delete", "a", "b", "--index", index)
    assert (out.exit_code, out.stdout) == (1, "deleted 1, not found 1\n")


def test_stats_json(seeds_index_dir: Path) -> None:
    out = qiao("index", "stats", "--index", str(seeds_index_dir), "--json")
    data = json.loads(out.stdout)
    assert (data["documents"], data["analyzer_version"], data["dictionary_changed"]) == (846, "5", False)


def test_analyze_prints_tokens_positions_and_offsets() -> None:
    out = qiao("analyze", "醫藥費 Cooperating", "--query")
    assert out.stdout.splitlines()[1:] == [
        "医药费                 0    0-3     醫藥費",
        "cooper              1    4-15    Cooperating",
    ]


@pytest.mark.parametrize(("option", "value"), [("--workers", "0"), ("--threads", "0"), ("--cache", "-1")])
def test_serve_rejects_an_impossible_option_before_starting(seeds_index_dir: Path, option: str, value: str) -> None:
    out = qiao("serve", "--index", str(seeds_index_dir), "--port", "0", option, value)
    assert (out.exit_code, out.stdout) == (2, "")
    assert f"Invalid value for '{option}'" in out.stderr


@pytest.mark.system
@pytest.mark.parametrize(("args", "code", "stderr"), [
    (("--version",), 0, ""),
    (("index", "delete", "nope", "--index", "{tmp}/index"), 1, "not found: nope\n"),
    (("search", "香港", "--index", "{tmp}/none"), 2, "error: no index at {tmp}/none"),
    (("index", "stats", "--nonsense"), 2, "Usage: qiao index stats [OPTIONS]"),
])
def test_the_installed_console_script_exits_with_the_codes_a_shell_sees(
    tmp_path: Path, args: tuple[str, ...], code: int, stderr: str,
) -> None:
    build([], tmp_path / "index")
    out = run_script(*(a.format(tmp=tmp_path) for a in args))
    expected = stderr.format(tmp=tmp_path)
    assert (out.returncode, out.stderr[:len(expected)]) == (code, expected), out.stderr
    assert "Traceback" not in out.stderr


def run_in_terminal(command: list[str], cwd: Path) -> tuple[int, str]:
    """Run a command with stdin, stdout and stderr on a pseudo-terminal, as a person runs it."""
    main_fd, sub_fd = pty.openpty()
    fcntl.ioctl(sub_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # a new pty is 0 columns wide
    try:
        proc = subprocess.run(command, stdin=sub_fd, stdout=sub_fd, stderr=sub_fd, cwd=cwd, timeout=300, check=False)
    finally:
        os.close(sub_fd)
    output = b""
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # the terminal is closed once everything was read
            break
        if not chunk:
            break
        output += chunk
    os.close(main_fd)
    return proc.returncode, output.decode("utf-8", "replace").replace("\r", "\n")


@pytest.mark.system
def test_build_in_a_terminal_shows_progress_and_indexes_the_seeds(tmp_path: Path) -> None:
    (tmp_path / "seeds").symlink_to(ROOT / "seeds")
    code, output = run_in_terminal([QIAO, "index", "build"], cwd=tmp_path)
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 0, output
    assert "846 articles" in lines[-2]  # the progress bar's last state
    assert lines[-1].startswith("indexed 846 articles into index, skipped 0,")


@pytest.mark.system
def test_search_into_a_closed_pipe_ends_quietly(seeds_index_dir: Path) -> None:
    proc = subprocess.Popen([QIAO, "search", "香港", "--index", str(seeds_index_dir), "--limit", "100"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # as `| head -1` does once it has its line: every write now fails
    stderr = proc.stderr.read().decode()
    assert (proc.wait(timeout=60), stderr) == (141, "")


def test_analyze_with_the_index_uses_the_dictionary_its_build_was_given(tmp_path: Path) -> None:
    words = tmp_path / "names.txt"
    words.write_text("袁家军 100 nr\n李家超 100 nr\n", encoding="utf-8")
    data = tmp_path / "a.jsonl"
    data.write_text('{"id": "a", "title": "李家超会见袁家军", "body": "香港新闻"}\n', encoding="utf-8")
    index = str(tmp_path / "index")
    assert qiao("index", "build", str(data), "--index", index, "--userdict", str(words)).exit_code == 0
    assert [line.split()[0] for line in qiao("analyze", "李家超会见袁家军", "--index", index).stdout.splitlines()[1:]] == [
        "李家超", "会见", "袁家军",
    ]
    assert (qiao("index", "verify", "--index", index).exit_code, json.loads(
        qiao("index", "stats", "--index", index, "--json").stdout)["dictionary_changed"]) == (0, False)


def test_rebuild_that_would_drop_added_articles_is_refused_until_drop_added(tmp_path: Path) -> None:
    data = tmp_path / "a.jsonl"
    data.write_text('{"id": "a", "title": "香港", "body": "香港新闻"}\n', encoding="utf-8")
    posted = tmp_path / "posted.jsonl"
    posted.write_text('{"id": "p", "title": "澳门", "body": "澳门新闻"}\n', encoding="utf-8")
    index = str(tmp_path / "index")
    assert qiao("index", "build", str(data), "--index", index).exit_code == 0
    assert qiao("index", "add", str(posted), "--index", index).exit_code == 0
    refused = qiao("index", "build", str(data), "--index", index)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.startswith(f"error: 1 articles added to {index} since its last build")
    forced = qiao("index", "build", str(data), "--index", index, "--drop-added")
    assert forced.exit_code == 0
    assert forced.stderr == "dropped 1 articles added since the last build, e.g. p\n"
    assert forced.stdout.startswith(f"indexed 1 articles into {index}, skipped 0, 1 dropped, ")


def test_build_into_its_own_input_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "seeds").symlink_to(ROOT / "seeds")
    out = qiao("index", "build", "--index", "seeds/index", cwd=tmp_path)
    assert (out.exit_code, out.stderr) == (2, ("error: the index folder seeds/index is inside the input folder "
                                               "seeds; choose an --index outside the folders being indexed\n"))
    assert not (ROOT / "seeds" / "index").exists()
