"""Builds at the same time: a shared cache stays intact, a shared output file is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from emi_tui.engine.build.cache import BaseCache

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def _answers(tmp_path: Path, name: str, version: str, extra: str = "") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"version: 1\nrecipe: debian-based\nimage: {{version: '{version}'}}\n{extra}"
        f"output: {{dir: {tmp_path / 'out'}, compress: zstd}}\n"
    )
    return path


def _build(path: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "emi_tui", "build", "-v", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_two_builds_at_once_with_one_cache_both_succeed(cold_build, build_env, tmp_path):
    cache = BaseCache(Path(build_env["EMI_TUI_CACHE_DIR"]) / "bases")
    before = {entry.key: entry.size for entry in cache.entries()}
    first = _build(_answers(tmp_path, "a", "2026.03.01"), build_env)
    second = _build(_answers(tmp_path, "b", "2026.03.02", "packages: {add: [htop]}\n"), build_env)
    for process in (first, second):
        stdout, stderr = process.communicate(timeout=900)
        assert process.returncode == 0, stdout[-2000:] + stderr[-2000:]
        assert "cache: hit" in stdout
    assert {entry.key: entry.size for entry in cache.entries()} == before
    for entry in cache.entries():
        listing = subprocess.run(["tar", "--zstd", "-tf", str(entry.tarball)], capture_output=True, text=True)
        assert listing.returncode == 0 and "./etc/os-release" in listing.stdout
    assert sorted(p.name for p in (tmp_path / "out").glob("*.tar.zst")) == [
        "euca-debian-2026.03.01-x86_64.tar.zst", "euca-debian-2026.03.02-x86_64.tar.zst"]


def test_a_second_build_of_the_same_output_file_refuses_at_once(cold_build, build_env, tmp_path):
    answers = _answers(tmp_path, "same", "2026.03.03")
    first = _build(answers, build_env)
    for line in first.stdout:
        if line.startswith("==> bootstrap"):
            break
    second = subprocess.run([sys.executable, "-m", "emi_tui", "build", str(answers)], capture_output=True, text=True, env=build_env, timeout=300)
    assert first.poll() is None, "the first build ended before the second was refused"
    assert second.returncode == 1
    assert "another build" in second.stderr and "is already writing" in second.stderr
    assert "euca-debian-2026.03.03-x86_64.tar.zst" in second.stderr
    rest, errors = first.communicate(timeout=900)
    assert first.returncode == 0, rest[-2000:] + errors[-2000:]
    produced = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(produced) == 5 and not any(name.startswith(".") for name in produced), produced
