"""Real builds, shared by the end-to-end tests: one cold build (cache miss) and one cached rebuild.

They need root, mmdebstrap and debootstrap, and a mirror in this workstation's apt sources.
Outside CI they are skipped when those are missing; in CI (CI=true) a missing
prerequisite fails, so a broken CI machine cannot pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from emi_tui.engine.answers.mirror import workstation_mirror


def _missing_prerequisite() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("mmdebstrap", "debootstrap", "gpgv", "mke2fs", "zerofree", "debugfs", "pigz"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if workstation_mirror(["bookworm"]) is None:
        return "needs a bookworm mirror in the apt sources"
    return None


def require_build_prerequisites() -> None:
    reason = _missing_prerequisite()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the real build, but the machine {reason}")
    if reason:
        pytest.skip(reason)


@dataclass
class Built:
    """One finished build: the CLI's output and the artifacts in its output folder."""

    output: Path
    stdout: str
    stem: str

    @property
    def tarball(self) -> Path:
        return self.output / f"{self.stem}.tgz"


ANSWERS = """\
version: 1
recipe: debian-based
size: 1.3G
packages:
  add: [{extra}]
metadata:
  ssh_key: {ssh_key}
  hostname: true
image:
  version: "{version}"
output:
  dir: {output}
"""


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emi_tui", *args], capture_output=True, text=True, env=env, timeout=1800)


@pytest.fixture(scope="session")
def build_env(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("emi-env")
    env = dict(os.environ)
    env.update(
        EMI_TUI_CACHE_DIR=str(base / "cache"), EMI_TUI_STATE_DIR=str(base / "state"),
        XDG_DATA_HOME=str(base / "data"), XDG_CONFIG_HOME=str(base / "config"),
    )
    return env


def build(env: dict, tmp: Path, *, version: str, ssh_key: str = "root", extra: str = "", options: tuple[str, ...] = ()) -> Built:
    output = tmp / f"out-{version}-{ssh_key}"
    answers = tmp / f"answers-{version}-{ssh_key}.yaml"
    answers.write_text(ANSWERS.format(extra=extra, ssh_key=ssh_key, version=version, output=output))
    done = run_cli("build", "-v", *options, str(answers), env=env)
    assert done.returncode == 0, f"build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return Built(output, done.stdout, f"euca-debian-{version}-x86_64")


@pytest.fixture(scope="session")
def cold_build(build_env, tmp_path_factory) -> Built:
    require_build_prerequisites()
    return build(build_env, tmp_path_factory.mktemp("cold"), version="2026.01.01")


@pytest.fixture(scope="session")
def cached_build(build_env, tmp_path_factory, cold_build) -> Built:
    return build(build_env, tmp_path_factory.mktemp("cached"), version="2026.01.02", ssh_key="ec2-user", extra="htop")


@pytest.fixture(scope="session")
def unpacked(cold_build, tmp_path_factory) -> Path:
    """The cold build's tarball, extracted (sparse) into a folder."""
    folder = tmp_path_factory.mktemp("unpacked")
    subprocess.run(["tar", "-xf", str(cold_build.tarball), "-C", str(folder)], check=True)
    return folder / cold_build.stem


def pytest_collection_modifyitems(config, items):
    # With pytest-xdist, every real build and boot runs on one worker (they share the
    # session's cache and artifacts) while the fast tests run on the others.
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.xdist_group("e2e"))
