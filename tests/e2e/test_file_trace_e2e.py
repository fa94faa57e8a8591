"""The file trace of a real build, review, modify and boot test: nothing is read or written outside the threat model's places.

Each runs the CLI under strace (tests/security/filetrace.py) and fails with a
table of every file touched outside PLACES. A traced cold build takes about
ten minutes (strace stops every file call of debootstrap and dpkg), so the
build traced is a rebuild from the session's cached base (after the shared
cold build); the modify re-stamps the cold build's artifact; the boot test
follows QEMU too (its firmware lies under /usr/share).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.security import filetrace as ft

from .conftest import ANSWERS, Built

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def _traced(env: dict, tmp: Path, *args: str | Path, inputs: tuple[Path, ...] = (), output: Path | None = None,
            extra: tuple[ft.Place, ...] = ()) -> tuple[str, list[ft.Violation]]:
    traced_env = dict(env, PYTHONDONTWRITEBYTECODE="1")
    done, accesses = ft.trace([sys.executable, "-m", "emi_tui", *map(str, args)], tmp / "strace.log", env=traced_env)
    state = Path(env["EMI_TUI_STATE_DIR"])
    places = ft.Places(output=output, cache=Path(env["EMI_TUI_CACHE_DIR"]), state=state,
                       data=Path(env["XDG_DATA_HOME"]) / "emi-tui", config=Path(env["XDG_CONFIG_HOME"]) / "emi-tui",
                       inputs=inputs, extra=extra)
    assert done.returncode == 0, f"{args[0]} failed under strace:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout, ft.judge(accesses, places)


def test_a_cached_build_stays_in_the_places(build_env, cold_build: Built, tmp_path: Path) -> None:
    output = tmp_path / "out"
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS.format(extra="", ssh_key="root", version="2026.01.03", output=output))
    _, violations = _traced(build_env, tmp_path, "build", "-v", answers, inputs=(answers,), output=output)
    assert not violations, ft.report(violations)


def test_a_review_of_the_artifact_and_its_folder_stays_in_the_places(build_env, cold_build: Built, tmp_path: Path) -> None:
    shown, violations = _traced(build_env, tmp_path, "review", cold_build.tarball, cold_build.output, inputs=(cold_build.output,))
    assert "euca-debian" in shown
    assert not violations, ft.report(violations)


def test_a_modify_stays_in_the_places(build_env, cold_build: Built, tmp_path: Path) -> None:
    original = tmp_path / "in" / cold_build.tarball.name
    original.parent.mkdir()
    shutil.copy2(cold_build.tarball, original)
    output = tmp_path / "out"
    output.mkdir()
    _, violations = _traced(build_env, tmp_path, "modify", original, "--version", "2026.02.02", "--output", output,
                            inputs=(original.parent,), output=output)
    assert not violations, ft.report(violations)


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None and os.environ.get("CI") != "true", reason="needs qemu-system-x86")
def test_a_boot_test_stays_in_the_places(build_env, cold_build: Built, tmp_path: Path) -> None:
    # QEMU reads its firmware and keymaps under /usr/share (the system place); its console log goes to the log folder.
    _, violations = _traced(build_env, tmp_path, "boot-test", cold_build.tarball, "--accel", "auto", inputs=(cold_build.output,))
    assert not violations, ft.report(violations)
