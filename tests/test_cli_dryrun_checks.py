"""`emi-tui build` runs the readiness checks first: a dry run exits 2 on an error, and so does a real build, before writing anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emi_tui.commands import build as build_command
from emi_tui.engine.build.job import BuildResult
from emi_tui.engine.errors import ExitCode

ANSWERS = "version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\noutput:\n  dir: {output}\n"


def emi(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="300", NO_COLOR="1", XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               EMI_TUI_STATE_DIR=str(tmp_path / "state"), EMI_TUI_CACHE_DIR=str(tmp_path / "cache"), EMI_TUI_WORK_DIR=str(tmp_path / "work"))
    done = subprocess.run([sys.executable, "-m", "emi_tui", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def answers_file(tmp_path: Path, output: str) -> Path:
    path = tmp_path / "a.yaml"
    path.write_text(ANSWERS.format(output=output))
    return path


PROC_NOPE = "Output folder: /proc/nope cannot be made: /proc is the kernel's proc filesystem, which does not take new folders"


def test_a_dry_run_into_proc_exits_2_with_the_error_once_and_no_plan(tmp_path):
    done = emi(tmp_path, "build", "--dry-run", "--offline", str(answers_file(tmp_path, "/proc/nope")))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count(PROC_NOPE) == 1 and "fix: choose a folder on a disk" in done.stderr
    assert "a.yaml: 1 problem before the build; nothing was planned" in done.stderr
    assert "plan complete" not in done.stdout and "0 B free" not in done.stdout + done.stderr


def test_offline_the_network_checks_say_not_checked_and_the_plan_completes(tmp_path):
    done = emi(tmp_path, "build", "--dry-run", "--offline", str(answers_file(tmp_path, str(tmp_path / "out"))))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--  Mirror: not checked: offline" in done.stdout and "--  Packages: not checked: offline" in done.stdout
    assert f"ok  Output folder: {tmp_path / 'out'} will be made in {tmp_path}" in done.stdout
    assert "plan complete" in done.stdout
    assert not (tmp_path / "out").exists()


def test_online_an_unreachable_mirror_fails_the_dry_run(tmp_path):
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    path = tmp_path / "a.yaml"
    path.write_text(f"version: 1\nrecipe: debian-based\nmirror: http://127.0.0.1:{port}/debian\noutput:\n  dir: {tmp_path / 'out'}\n")
    done = emi(tmp_path, "build", "--dry-run", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"Mirror: http://127.0.0.1:{port}/debian does not serve debian bookworm" in done.stderr and "refuses the connection" in done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gets past the root check to the output folder")
def test_a_real_build_into_proc_fails_with_one_clear_message_and_writes_nothing(tmp_path):
    path = answers_file(tmp_path, "/proc/nope")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = emi(tmp_path, "build", "--offline", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count(PROC_NOPE) == 1 and "Errno" not in done.stderr
    assert "a.yaml: 1 problem before the build; nothing was built" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no history, no log, no state


def test_a_failed_build_names_its_log_once(tmp_path, monkeypatch, capsys):
    log = tmp_path / "x.log"

    def failed(*_args, **_kwargs):
        return BuildResult(ok=False, log_path=log, failed_step="bootstrap", message="no space left on device: /work", hint=f"the full log is {log}")

    monkeypatch.setattr(build_command, "run_build", failed)
    code = build_command.run(answers_file(tmp_path, str(tmp_path / "out")), False, True, False, tmp_path, False, offline=True)
    err = capsys.readouterr().err
    assert code == ExitCode.FAILED
    assert err.count(str(log)) == 1, err
    assert "build failed in step bootstrap: no space left on device: /work" in err


def test_modify_refuses_an_output_folder_that_cannot_be_made(tmp_path):
    from emi_tui.engine.modify.job import ModifyRequest, request_problems

    problems = request_problems(ModifyRequest(artifact=tmp_path / "x.tgz", output=Path("/proc/nope"), dry_run=True))
    assert [(key, error.message, error.hint) for key, error in problems] == [(
        "output", "the output folder /proc/nope cannot be made: /proc is the kernel's proc filesystem, which does not take new folders",
        "choose a folder on a disk, such as ./images or /var/tmp/images",
    )]
