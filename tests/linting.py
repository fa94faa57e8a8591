"""Helpers of the tests that lint shell emi-tui ships, and check file locks: one place for each."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest


def shellcheck_program() -> str:
    """The shellcheck program; outside CI a missing one skips the test, in CI it fails it."""
    found = shutil.which("shellcheck")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("shellcheck is not installed, and CI must run it")
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    return found


def run_shellcheck(shellcheck: str, shell: str, paths: list[Path]) -> subprocess.CompletedProcess[str]:
    """shellcheck at every severity, all files in one call."""
    return subprocess.run(
        [shellcheck, "-s", shell, "-f", "gcc", "--", *map(str, paths)], capture_output=True, text=True, timeout=300, check=False
    )


def is_locked(lock: Path) -> bool:
    """Whether another holder has `lock` (a new open file: flock refuses it even within this process)."""
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
