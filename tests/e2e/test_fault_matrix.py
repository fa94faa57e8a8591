"""Every step of the build against every fault: the workstation must be left as it was.

Faults are injected by faultinject.py at the start of a step: a failing
command (the one faked part), real SIGINT and SIGTERM, the TUI's cancel
event, a really full work filesystem (a small tmpfs made here), and a mirror
that stops answering (a loopback proxy that is killed). The table of results
is printed at the end of the module.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emi_tui.engine.answers.mirror import workstation_mirror
from emi_tui.engine.build.steps import build_steps
from emi_tui.engine.run.cleanup import loops_under
from emi_tui.engine.run.mounts import mounts_under

from .conftest import require_build_prerequisites

pytestmark = [pytest.mark.root, pytest.mark.e2e]

HERE = Path(__file__).resolve().parent
STEPS = [step.name for step in build_steps()]
KINDS = ["fail", "sigint", "sigterm", "cancel", "diskfull", "mirrordead"]
RESULTS: dict[tuple[str, str], str] = {}


class Matrix:
    """The shared set-up: a small work filesystem, a killable mirror proxy, a warm cache."""

    def __init__(self, base: Path, env: dict):
        self.base, self.workfs, self.output = base, base / "workfs", base / "out"
        self.workfs.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2600m,mode=0700", "emi-faults", str(self.workfs)], check=True)  # private, as a work folder must be
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.pidfile = base / "proxy.pid"
        self.proxy = None
        self.env = dict(env, EMI_TUI_WORK_DIR=str(self.workfs), MIRROR_PROXY_PIDFILE=str(self.pidfile), PYTHONPATH=str(HERE))
        self.answers = base / "answers.yaml"
        self.answers.write_text(
            f"version: 1\nrecipe: debian-based\nmirror: http://127.0.0.1:{self.port}\n"
            f"output: {{dir: {self.output}, compress: zstd}}\n"
        )

    def start_proxy(self) -> None:
        if self.proxy and self.proxy.poll() is None:
            return
        self.proxy = subprocess.Popen(
            [sys.executable, str(HERE / "mirror_proxy.py"), workstation_mirror(["bookworm"]), str(self.port)], stdout=subprocess.PIPE, text=True
        )
        assert self.proxy.stdout.readline().strip() == "ready"
        self.pidfile.write_text(str(self.proxy.pid))

    def reset(self) -> None:
        self.start_proxy()
        for leftover in self.workfs.iterdir():
            subprocess.run(["rm", "-rf", str(leftover)], check=True)
        subprocess.run(["rm", "-rf", str(self.output)], check=True)

    def build(self, step: str, kind: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(HERE / "faultinject.py"), step, kind, str(self.answers)],
            capture_output=True, text=True, env=self.env, timeout=timeout,
        )

    def close(self) -> None:
        if self.proxy and self.proxy.poll() is None:
            self.proxy.kill()
            self.proxy.wait()
        subprocess.run(["umount", "--lazy", str(self.workfs)])


@pytest.fixture(scope="module")
def matrix(build_env, tmp_path_factory):
    require_build_prerequisites()
    matrix = Matrix(tmp_path_factory.mktemp("faults"), build_env)
    try:
        matrix.reset()
        warm = matrix.build("none", "fail")  # no step is called "none": a clean build that warms the cache
        assert warm.returncode == 0, warm.stdout[-3000:] + warm.stderr[-3000:]
        yield matrix
    finally:
        matrix.close()


def _chrooted_processes(folder: Path) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if os.readlink(proc / "root").startswith(str(folder)):
                    found.append(proc.name)
            except OSError:
                continue
    return found


def _assert_clean(matrix: Matrix, env: dict) -> None:
    assert [m for m in mounts_under(matrix.workfs) if m != str(matrix.workfs)] == [], "a mount of ours remains"
    assert loops_under(matrix.workfs) == [] and loops_under(matrix.output) == [], "a loop device remains attached"
    assert _chrooted_processes(matrix.workfs) == [], "a process of ours still runs"
    assert [p.name for p in matrix.workfs.iterdir() if p.name != "filler"] == [], "the work folder was not removed"
    records = Path(env["EMI_TUI_STATE_DIR"]) / "builds"
    assert not records.exists() or not list(records.glob("*.json")), "a build record remains (cleanup would find a dead build)"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("step", STEPS)
def test_fault(matrix, step, kind):
    matrix.reset()
    done = matrix.build(step, kind)
    _assert_clean(matrix, matrix.env)
    produced = sorted(p.name for p in matrix.output.iterdir()) if matrix.output.exists() else []
    if done.returncode == 0:
        # The fault could not touch this step (it needs no mirror, or it only frees space): the build must be whole.
        assert kind in ("mirrordead", "diskfull"), done.stdout[-2000:]
        assert len(produced) == 5 and not any(name.startswith(".") for name in produced), produced
        RESULTS[(step, kind)] = "no effect, build complete"
        return
    assert done.returncode == (130 if kind in ("sigint", "sigterm", "cancel") else 1), done.stderr
    assert [p for p in produced if not p.startswith(".") or ".partial-" in p or p.endswith(".lock")] == [], f"partial artifacts: {produced}"
    failed_step = done.stderr.split(" in step ", 1)[1].split(":", 1)[0] if " in step " in done.stderr else "?"
    assert failed_step in STEPS and "log: " in done.stderr, done.stderr
    log = Path(done.stderr.split("log: ", 1)[1].split()[0])
    assert log.is_file() and f"==> {failed_step}" in log.read_text()
    assert f"retry: emi-tui build --retry {matrix.answers}" in done.stderr and matrix.answers.is_file()
    if kind in ("fail", "sigint", "sigterm", "cancel"):
        assert failed_step == step
    else:  # a full disk or a dead mirror shows where the step first needs space or the network
        assert STEPS.index(failed_step) >= STEPS.index(step)
    RESULTS[(step, kind)] = "ok" if failed_step == step else f"ok (failed in {failed_step})"


def test_retry_after_a_chroot_failure_starts_from_the_cached_base(matrix):
    matrix.reset()
    failed = matrix.build("chroot", "fail")
    assert failed.returncode == 1 and f"retry: emi-tui build --retry {matrix.answers}" in failed.stderr
    retry = subprocess.run([sys.executable, "-m", "emi_tui", "build", "-v", "--retry", str(matrix.answers)],
                           capture_output=True, text=True, env=matrix.env, timeout=600)
    assert retry.returncode == 0, retry.stdout[-2000:] + retry.stderr[-2000:]
    assert "retry: starting again from the cached base" in retry.stdout
    assert "cache: hit" in retry.stdout and "<== bootstrap: skipped" in retry.stdout
    _assert_clean(matrix, matrix.env)


def test_sigkill_leaves_leftovers_that_cleanup_removes(matrix):
    matrix.reset()
    process = subprocess.Popen(
        [sys.executable, str(HERE / "faultinject.py"), "chroot", "hang", str(matrix.answers)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=matrix.env,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and "HANGING" not in (process.stdout.readline() or "HANGING"):
        pass
    process.send_signal(signal.SIGKILL)
    process.wait()
    # The chroot is contained: its /proc and /dev were mounted in its own namespace, which died with it.
    assert [m for m in mounts_under(matrix.workfs) if m != str(matrix.workfs)] == [], "a mount outlived the killed build"
    left = [p for p in matrix.workfs.iterdir() if p.name != "filler"]
    assert left, "the killed build left no work folder to clean"
    cli = [sys.executable, "-m", "emi_tui"]
    warned = subprocess.run([*cli, "build", "--dry-run", str(matrix.answers)], capture_output=True, text=True, env=matrix.env)
    assert "dead build" in warned.stdout
    refused = subprocess.run([*cli, "cleanup"], capture_output=True, text=True, env=matrix.env, stdin=subprocess.DEVNULL)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert all(p.exists() for p in left), "cleanup without --yes changed something"
    cleaned = subprocess.run([*cli, "cleanup", "--yes"], capture_output=True, text=True, env=matrix.env)
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert f"removed {left[0]}" in cleaned.stdout  # its running command died with its pty (SIGHUP); cleanup stops any that did not
    time.sleep(0.5)
    _assert_clean(matrix, matrix.env)
    assert not (matrix.output.exists() and any(".partial-" in p.name for p in matrix.output.iterdir()))


def test_zz_fault_table(matrix, capsys):
    """Prints the table of faults against steps (for the closing note)."""
    missing = [(s, k) for s in STEPS for k in KINDS if (s, k) not in RESULTS]
    lines = ["", "fault matrix (step x fault):", "step".ljust(11) + "".join(k.ljust(28) for k in KINDS)]
    for step in STEPS:
        lines.append(step.ljust(11) + "".join(RESULTS.get((step, k), "FAILED").ljust(28) for k in KINDS))
    with capsys.disabled():
        print("\n".join(lines))
    assert not missing, f"cells that failed their assertions: {missing}"
