"""The command runner: live lines, failures, prompts and cancellation, with real processes."""

import os
import signal
import threading
import time

import pytest
from processes import gone_or_zombie

from emi_tui.engine.run import runner
from emi_tui.engine.run.logtext import clean_line
from emi_tui.engine.run.runner import Cancelled, CommandFailed, run_command


def test_lines_arrive_in_order_and_carriage_returns_resolve():
    lines = []
    result = run_command(["sh", "-c", "echo one; printf 'progress 10%%\\rprogress 100%%\\n'; echo two >&2"], lines.append)
    assert lines == ["one", "progress 100%", "two"]
    assert result.exit_code == 0


def test_ansi_sequences_are_removed():
    assert clean_line("\x1b[1;31mred\x1b[0m text") == "red text"


def test_a_failing_command_raises_with_its_last_line():
    with pytest.raises(CommandFailed) as caught:
        run_command(["sh", "-c", "echo first; echo 'E: broken'; exit 3"], lambda _: None)
    assert "exited with 3" in str(caught.value) and "E: broken" in str(caught.value)


def test_check_false_returns_the_exit_code():
    assert run_command(["sh", "-c", "exit 4"], lambda _: None, check=False).exit_code == 4


def test_a_missing_program_is_a_clear_failure():
    with pytest.raises(CommandFailed, match="cannot start no-such-tool-xyz"):
        run_command(["no-such-tool-xyz"], lambda _: None)


def test_a_quiet_command_is_not_a_prompt():
    lines = []
    run_command(["sh", "-c", "sleep 1.5; echo done"], lines.append, prompt_seconds=0.5)
    assert lines == ["done"]


def test_a_command_waiting_on_a_prompt_is_failed():
    with pytest.raises(CommandFailed, match="waiting on a prompt"):
        run_command(["sh", "-c", "printf 'Do you want to continue? [Y/n] '; read answer; echo $answer"], lambda _: None, prompt_seconds=0.5)


#: How long a cancelled command may take to stop before the test calls it a hang. A guard, not a
#: speed target: the cancel comes 0.5 s after the pid arrived, the runner's own grace periods add at most 10 s,
#: and the command's grandchild would sleep SLEEPER_SECONDS (far past the guard) if nothing stopped it.
HANG_GUARD_SECONDS = 60.0
SLEEPER_SECONDS = 3600
SLEEPER = ["sh", "-c", f"sleep {SLEEPER_SECONDS} & echo $!; wait"]


def _cancel_in_thread(cancel_after: float, guard: float) -> tuple[bool, list[BaseException], list[int]]:
    """Run SLEEPER, cancel it `cancel_after` s after its grandchild's pid arrived; (still running `guard` s
    after the cancel, what it raised, the grandchild's pid)."""
    cancel = threading.Event()
    pid_seen = threading.Event()
    pids: list[int] = []
    raised: list[BaseException] = []

    def on_line(line: str) -> None:
        pids.append(int(line))
        pid_seen.set()

    def run() -> None:
        try:
            run_command(SLEEPER, on_line, cancel=cancel)
        except BaseException as exc:
            raised.append(exc)
        finally:
            pid_seen.set()  # a runner that ended early must not leave the test waiting

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    # The cancel waits for the pid: a loaded machine may take seconds to start sh, and a cancel
    # before the pid is known would leave the test nothing to check and nothing to clean up.
    assert pid_seen.wait(HANG_GUARD_SECONDS), "the child never printed its grandchild's pid"
    time.sleep(cancel_after)
    cancel.set()
    worker.join(guard)
    hung = worker.is_alive()
    if hung:  # let the runner finish: its grandchild, which this test started, ends and the sh with it
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        worker.join(HANG_GUARD_SECONDS)
    return hung, raised, pids


def test_cancel_stops_the_whole_process_group():
    hung, raised, pids = _cancel_in_thread(0.5, HANG_GUARD_SECONDS)
    assert not hung, f"cancel hung: the command was still running after the {HANG_GUARD_SECONDS:.0f} s hang guard"
    assert [type(exc) for exc in raised] == [Cancelled], raised
    time.sleep(0.2)
    assert pids, "the child never printed its grandchild's pid"
    for pid in pids:
        # The grandchild sleep must die too: the runner kills the child's session.
        assert gone_or_zombie(pid), f"process {pid} survived the cancel"


def test_the_hang_guard_can_fail(monkeypatch):
    # A runner that waits for the command instead of stopping it is reported as a hang (short guard, so that this is quick).
    monkeypatch.setattr(runner, "_terminate", lambda child: child.wait())
    hung, _raised, pids = _cancel_in_thread(0.1, 1.0)
    assert hung and pids



# ---- run_interactive: driven from a real pseudo-terminal, as a person would

#: A program that hands its terminal to `sh` with run_interactive and prints what it was told, as one JSON line.
#: With "cancel" as its argument it sets the cancel event when the shell prints the line `ready`.
INTERACTIVE = """
import json, sys, threading
from emi_tui.engine.run.runner import run_interactive
typed, shown, cancel = [], [], threading.Event()
def output(line):
    shown.append(line)
    if line == "ready" and sys.argv[1:] == ["cancel"]:
        cancel.set()
code = run_interactive(["sh"], env={"PS1": "emi$ "}, on_input_line=typed.append, on_output_line=output, cancel=cancel)
print("REPORT " + json.dumps({"code": code, "typed": typed, "shown": shown}))
"""


def _interactive(*args: str, typed: str) -> dict:
    import json
    import sys

    import pexpect

    child = pexpect.spawn(sys.executable, ["-c", INTERACTIVE, *args], env={**os.environ, "EMI_TUI_SECRET_TEST": "1"},
                          encoding="utf-8", timeout=60, dimensions=(30, 120))
    try:
        child.expect_exact("emi$ ")
        child.sendline(typed)
        child.expect(r"REPORT (\{.*\})\r?\n")
        return json.loads(child.match.group(1))
    finally:
        child.close(force=True)


def test_an_interactive_child_reports_what_was_typed_and_shown_and_its_exit_status():
    report = _interactive(typed="echo out-${EMI_TUI_SECRET_TEST:-unset}; exit 7")
    assert report["code"] == 7, report
    assert report["typed"] == ["echo out-${EMI_TUI_SECRET_TEST:-unset}; exit 7"], report
    assert "out-unset" in report["shown"], report  # the child got command_env, not the operator's variables


def test_a_cancel_ends_an_interactive_child():
    report = _interactive("cancel", typed="echo ready; sleep 600")
    assert report["code"] > 128 and "ready" in report["shown"], report
