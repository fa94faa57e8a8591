"""The command runner: live lines, failures, prompts and cancellation, with real processes."""

import threading
import time

import pytest

from emi_tui.core.runner import Cancelled, CommandFailed, clean_line, run_command


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


def test_cancel_stops_the_whole_process_group():
    cancel = threading.Event()
    pids = []
    threading.Timer(0.5, cancel.set).start()
    began = time.monotonic()
    with pytest.raises(Cancelled):
        # The grandchild sleep must die too: the runner kills the child's session.
        run_command(["sh", "-c", "sleep 60 & echo $!; wait"], lambda line: pids.append(int(line)), cancel=cancel)
    assert time.monotonic() - began < 10  # not a speed target: uncancelled, the command runs 60 s
    time.sleep(0.2)
    assert pids, "the child never printed its grandchild's pid"
    for pid in pids:
        assert _gone_or_zombie(pid), f"process {pid} survived the cancel"


def _gone_or_zombie(pid: int) -> bool:
    # A killed orphan may linger as a zombie until PID 1 reaps it; it runs no more.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
