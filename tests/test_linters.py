"""The linters, run as tests: a finding fails the suite like any other defect.

Each linter runs as its own process with the configuration in pyproject.toml,
so the test checks exactly what a developer's `python -m mypy` checks. A
linter that is not installed skips the test on a workstation, and fails it in
CI (CI=true), where `make test` installs the `test` extra and a skip would hide
that nothing was checked.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: A cold mypy run of the engine takes seconds; this only stops a hung one.
LINTER_TIMEOUT_S = 900


def require_module(module: str) -> None:
    """Skip (or, under CI, fail) when `module` cannot be imported by this interpreter."""
    if importlib.util.find_spec(module) is not None:
        return
    message = f"{module} is not installed: pip install -e '.[test]'"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run_linter(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m <linter> ...` from the repository's root, where it finds pyproject.toml."""
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=LINTER_TIMEOUT_S, check=False,
    )


def test_mypy_strict_passes_on_the_engine():
    """`mypy` ([tool.mypy]: strict, no explicit Any, the pydantic plugin) finds nothing in emi_tui.engine."""
    require_module("mypy")
    done = run_linter(["mypy"])
    assert done.returncode == 0, f"mypy exited with {done.returncode}:\n{done.stdout}{done.stderr}"
    assert "no issues found" in done.stdout, done.stdout  # it checked the engine, not an empty list of files


def test_ruff_finds_nothing():
    """`ruff check` (the rule set named in [tool.ruff.lint]) passes on the code, the tests, scripts and benchmarks."""
    require_module("ruff")
    done = run_linter(["ruff", "check", "--no-cache", "emi_tui", "tests", "scripts", "benchmarks"])
    assert done.returncode == 0, f"ruff exited with {done.returncode}:\n{done.stdout}{done.stderr}"
    assert "All checks passed" in done.stdout, done.stdout


def test_ruff_would_fail_on_a_finding(tmp_path):
    # Proves the check above can fail: the same configuration, on a file with an unused import.
    require_module("ruff")
    planted = tmp_path / "planted.py"
    planted.write_text("import os\n")
    done = run_linter(["ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(planted)])
    assert done.returncode == 1 and "F401" in done.stdout, done.stdout
