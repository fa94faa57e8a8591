"""Signals belong to the process: one SIGTERM cancels every running job, and each tears down.

The jobs are faked through the public `Step` type (a step that waits for its
cancel, bounded so that a missed signal fails the test instead of hanging it);
the signal is a real one, sent to this process with os.kill.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from emi_tui.engine.run import signals
from emi_tui.engine.run.context import JobContext
from emi_tui.engine.run.events import JobKind
from emi_tui.engine.run.job import Job, JobResult, JobStart, Step, run_job
from emi_tui.engine.run.lock import OutputLock

WAIT = 60.0  # only reached when something is broken


@pytest.fixture(autouse=True)
def _private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMI_TUI_STATE_DIR", str(tmp_path / "state"))


def waiting_job(folder: Path, entered: threading.Event, torn_down: list[str], name: str) -> Job[JobContext]:
    """A real (not dry-run) job whose one step pushes an undo, then waits for its cancel."""

    def wait_for_cancel(ctx: JobContext) -> None:
        # Recorded from the teardown: whether emi-tui's handlers were still in place while it ran.
        ctx.undo.push("note the teardown", lambda: torn_down.append(f"{name}:{'handled' if signals.handlers_are_installed() else 'bare'}"))
        entered.set()
        ctx.cancel.wait(WAIT)

    def context(start: JobStart) -> JobContext:
        return JobContext(paths=start.paths, emit=start.emit, cancel=start.cancel)

    output = folder / name
    return Job(kind=JobKind.BUILD, name=name, steps=[Step("wait", "waits for a cancel", wait_for_cancel)], context=context,
               work_root=folder / "work", output=output, lock=lambda ctx: OutputLock(output / f"{name}.tgz", f"writing {name}.tgz"))


def test_one_signal_cancels_every_running_job_and_each_tears_down(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    names = ("first", "second")
    entered = {name: threading.Event() for name in names}
    torn_down: list[str] = []
    results: dict[str, JobResult[JobContext]] = {}
    threads = [
        threading.Thread(target=lambda n=name: results.__setitem__(n, run_job(waiting_job(tmp_path, entered[n], torn_down, n), lambda e: None)))
        for name in names
    ]
    with signals.handlers_installed():
        assert signal.getsignal(signal.SIGTERM) is not before  # else the kill below would end pytest itself
        for thread in threads:
            thread.start()
        assert all(entered[name].wait(WAIT) for name in names)
        assert signals.running_jobs() == 2
        os.kill(os.getpid(), signal.SIGTERM)
    # Leaving the block waited for both teardowns; only then were the handlers put back.
    assert signal.getsignal(signal.SIGTERM) == before
    for thread in threads:
        thread.join(WAIT)
    assert sorted(torn_down) == ["first:handled", "second:handled"]
    for name in names:
        result = results[name]
        assert result.cancelled and result.failure is not None and result.failure.step == "wait", result.failure
        assert not result.context.paths.work.exists()
    assert list((tmp_path / "state" / "builds").glob("*.json")) == []
    assert signals.running_jobs() == 0


def test_a_job_on_the_main_thread_holds_the_handlers_itself_and_puts_the_old_ones_back(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT)
    seen: list[bool] = []

    def look(ctx: JobContext) -> None:
        seen.append(signals.handlers_are_installed() and signal.getsignal(signal.SIGINT) is not before)

    def context(start: JobStart) -> JobContext:
        return JobContext(paths=start.paths, emit=start.emit, cancel=start.cancel)

    job = Job(kind=JobKind.MODIFY, name="main", steps=[Step("look", "looks at the handlers", look)], context=context,
              work_root=tmp_path / "work", output=tmp_path / "out", dry_run=True)
    assert run_job(job, lambda e: None).ok
    assert seen == [True] and signal.getsignal(signal.SIGINT) == before and not signals.handlers_are_installed()


def test_a_job_on_another_thread_with_no_holder_installs_nothing(tmp_path: Path) -> None:
    """The TUI's case: its worker thread cannot install handlers; the app's own handlers set the job's cancel."""
    seen: list[bool] = []

    def context(start: JobStart) -> JobContext:
        return JobContext(paths=start.paths, emit=start.emit, cancel=start.cancel)

    job = Job(kind=JobKind.BUILD, name="worker", steps=[Step("look", "looks", lambda ctx: seen.append(signals.handlers_are_installed()))],
              context=context, work_root=tmp_path / "work", output=tmp_path / "out", dry_run=True)
    worker = threading.Thread(target=lambda: run_job(job, lambda e: None))
    worker.start()
    worker.join(WAIT)
    assert seen == [False]


def test_handlers_can_only_be_held_from_the_main_thread() -> None:
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with signals.handlers_installed():
                pass
        except RuntimeError as exc:
            errors.append(exc)

    worker = threading.Thread(target=hold)
    worker.start()
    worker.join(WAIT)
    assert len(errors) == 1 and not signals.handlers_are_installed()
