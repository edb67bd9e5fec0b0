"""The test suite as a newcomer runs it: without Chromium, the browser tests say why they did not run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.system  # each test runs pytest in a new process


def run_browser_tests(chromium: Path, *, ci: bool) -> subprocess.CompletedProcess[str]:
    """pytest over tests/test_browser.py with Chromium looked for at ``chromium``."""
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"QIAO_CHROMIUM": str(chromium)}
    if ci:
        env["CI"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/test_browser.py"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False)


def test_browser_tests_skip_with_the_install_command_when_chromium_is_missing(tmp_path: Path) -> None:
    out = run_browser_tests(tmp_path / "chromium", ci=False)
    lines = out.stdout.splitlines()
    assert lines[-2].startswith("SKIPPED [1] tests/test_browser.py:")
    assert lines[-2].split(": ", 1)[1] == (f"{tmp_path / 'chromium'} is missing: install Debian's browser with "
                                           "`sudo apt-get update && sudo apt-get install -y chromium fonts-noto-cjk`")
    assert lines[-1].startswith("1 skipped in ")


def test_browser_tests_fail_in_ci_when_chromium_is_missing(tmp_path: Path) -> None:
    out = run_browser_tests(tmp_path / "chromium", ci=True)
    assert out.returncode == 2
    assert f"{tmp_path / 'chromium'} is missing: install Debian's browser with" in out.stdout
