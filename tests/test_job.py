"""The one job runner: lock, state file, steps as events, undo and teardown, asserted once with faked steps.

Steps are faked through the public `Step` type on a plain `JobContext`; the
job is a real run (not a dry run) in folders under tmp_path, so the lock, the
state file and the work folder are real files. The last tests show that a
build and a modify both go through `run_job`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from emi_tui.engine import paths
from emi_tui.engine.answers.model import validate_file
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build import bootstrap as bootstrap_step
from emi_tui.engine.build import job as build_job
from emi_tui.engine.build import preflight as preflight_step
from emi_tui.engine.errors import EmiError
from emi_tui.engine.image import layout
from emi_tui.engine.modify import job as modify_job
from emi_tui.engine.run import job as job_runner
from emi_tui.engine.run.context import JobContext
from emi_tui.engine.run.events import JobDone, JobEvent, JobFailed, JobKind, JobStarted, OutputLine, StepFinished, StepOutcome
from emi_tui.engine.run.job import Job, JobResult, JobStart, Step, from_cache, run_job, skipped
from emi_tui.engine.run.lock import OutputLock
from tests.linting import is_locked


@pytest.fixture(autouse=True)
def _private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMI_TUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def plain_context(start: JobStart) -> JobContext:
    return JobContext(paths=start.paths, emit=start.emit, cancel=start.cancel)


def fake_job(tmp_path: Path, *steps: Step[JobContext], dry_run: bool = False) -> Job[JobContext]:
    output = tmp_path / "out"
    return Job(
        kind=JobKind.BUILD, name="fake", steps=steps, context=plain_context, work_root=tmp_path / "work", output=output,
        dry_run=dry_run, lock=lambda ctx: OutputLock(output / "fake.tgz", f"writing {output / 'fake.tgz'}"),
    )


def state_files() -> list[Path]:
    return sorted((paths.state_dir() / "builds").glob("*.json"))


def test_the_lock_and_the_state_file_exist_before_the_first_step_and_are_gone_after_a_failure(tmp_path: Path) -> None:
    seen: dict[str, object] = {}
    lock = tmp_path / "out" / ".fake.tgz.lock"

    def first(ctx: JobContext) -> str:
        seen["locked"] = is_locked(lock)
        seen["state"] = [json.loads(p.read_text()) for p in state_files()]
        seen["work"] = ctx.paths.work
        raise EmiError("the first step failed", hint="a hint")

    events: list[JobEvent] = []
    result = run_job(fake_job(tmp_path, Step("first", "fails", first), Step("second", "never runs", lambda ctx: "ran")), events.append)
    assert seen["locked"] is True
    assert [state["work"] for state in seen["state"]] == [str(seen["work"])]  # type: ignore[union-attr]
    assert not result.ok and isinstance(result.failure, JobFailed) and result.failure.step == "first"
    assert result.failure.message == "the first step failed" and not result.failure.cancelled and result.failure.kind is JobKind.BUILD
    assert not lock.exists() and not (tmp_path / "out").exists()  # released; the folder made for it is gone
    assert state_files() == [] and not Path(seen["work"]).exists()  # type: ignore[arg-type]
    assert [type(e) for e in events if not isinstance(e, OutputLine)][-1] is JobFailed
    assert "second" not in [getattr(e, "step", None) for e in events if not isinstance(e, JobStarted)]


def test_a_second_job_writing_the_same_artifact_is_refused_before_its_first_step(tmp_path: Path) -> None:
    holding, release = threading.Event(), threading.Event()
    results: list[JobResult[JobContext]] = []

    def hold(ctx: JobContext) -> None:
        holding.set()
        release.wait(60)

    first = threading.Thread(target=lambda: results.append(run_job(fake_job(tmp_path, Step("hold", "holds the lock", hold)), lambda e: None)))
    first.start()
    try:
        assert holding.wait(60)
        ran: list[str] = []
        second = run_job(fake_job(tmp_path, Step("first", "must not run", lambda ctx: ran.append("ran"))), lambda e: None)
    finally:
        release.set()
        first.join(60)
    assert ran == [] and not second.ok and second.failure is not None
    assert "another build" in second.failure.message and "is already writing" in second.failure.message
    assert results[0].ok


def test_undos_pushed_by_steps_run_newest_first_on_a_failure(tmp_path: Path) -> None:
    undone: list[str] = []

    def attach(ctx: JobContext) -> None:
        ctx.undo.push("detach", lambda: undone.append("detach"))
        ctx.undo.push("unmount", lambda: undone.append("unmount"))

    def broken(ctx: JobContext) -> None:
        raise OSError("disk full")

    result = run_job(fake_job(tmp_path, Step("attach", "sets up", attach), Step("broken", "fails", broken)), lambda e: None)
    assert not result.ok and undone == ["unmount", "detach"]


def test_an_undo_pushed_by_a_step_runs_on_cancel(tmp_path: Path) -> None:
    undone: list[str] = []

    def attach_then_cancelled(ctx: JobContext) -> None:
        ctx.undo.push("detach", lambda: undone.append("detach"))
        ctx.cancel.set()  # as the TUI's cancel or a signal does while the step runs

    cancel = threading.Event()
    result = run_job(fake_job(tmp_path, Step("attach", "sets up", attach_then_cancelled), Step("next", "never runs", lambda c: "")), lambda e: None, cancel)
    assert result.cancelled and result.failure is not None and result.failure.step == "attach"
    assert result.failure.message == "cancelled during attach"
    assert undone == ["detach"] and state_files() == []


def test_an_undo_that_fails_does_not_stop_the_others_and_keeps_the_record_for_cleanup(tmp_path: Path) -> None:
    undone: list[str] = []

    def attach(ctx: JobContext) -> None:
        ctx.undo.push("detach the loop device", lambda: undone.append("detach"))
        ctx.undo.push("unmount the image", lambda: ["still mounted: /x"])
        ctx.undo.push("stop what runs inside", lambda: (_ for _ in ()).throw(OSError("no such process")))

    events: list[JobEvent] = []
    result = run_job(fake_job(tmp_path, Step("attach", "sets up", attach)), events.append)
    assert result.ok and undone == ["detach"]
    said = [e.text for e in events if isinstance(e, OutputLine)]
    assert any("could not stop what runs inside: no such process" in line for line in said), said
    assert any("could not clean up: stop what runs inside, still mounted: /x" in line for line in said), said
    assert len(state_files()) == 1 and result.context.paths.work.exists()  # for `emi-tui cleanup`


def test_each_step_says_its_outcome_as_a_flag_not_in_its_note(tmp_path: Path) -> None:
    events: list[JobEvent] = []
    steps = [Step("a", "works", lambda ctx: "1.2 GB"), Step("b", "nothing to do", lambda ctx: skipped("no --grow")),
             Step("c", "cached", lambda ctx: from_cache("key 1234")), Step("d", "says nothing", lambda ctx: None),
             Step("e", "a note that merely looks like a skip", lambda ctx: "skipped (not really)")]
    result = run_job(fake_job(tmp_path, *steps, dry_run=True), events.append)
    assert result.ok
    finished = [(e.step, e.outcome, e.note) for e in events if isinstance(e, StepFinished)]
    assert finished == [("a", StepOutcome.DONE, "1.2 GB"), ("b", StepOutcome.SKIPPED, "no --grow"), ("c", StepOutcome.CACHED, "key 1234"),
                        ("d", StepOutcome.DONE, ""), ("e", StepOutcome.DONE, "skipped (not really)")]
    done = [e for e in events if isinstance(e, JobDone)]
    assert len(done) == 1 and done[0].kind is JobKind.BUILD


def test_a_step_using_the_answers_before_they_are_settled_fails_with_a_clear_message(tmp_path: Path) -> None:
    """A modify's answers and recipe are unset until its unpack step: using them earlier is one EmiError naming the step."""
    events: list[JobEvent] = []
    recipe = RecipeBook().recipes["debian-based"]

    def settle(ctx: JobContext) -> str:
        ctx.recipe = recipe
        return ctx.recipe.name

    steps = [Step("settle", "settles the recipe", settle), Step("early", "reads the answers", lambda ctx: ctx.answers.arch)]
    result = run_job(fake_job(tmp_path, *steps, dry_run=True), events.append)
    assert not result.ok and isinstance(result.error, EmiError) and result.context.recipe is recipe
    assert result.failure is not None and result.failure.step == "early"
    assert result.failure.message == "internal error: step early needs the job's answers, not settled yet", result.failure.message


# ------------------------------------------------------------------ both kinds of job go through run_job

def spy_on_run_job(monkeypatch: pytest.MonkeyPatch) -> list[JobKind]:
    """Wrap the runner where run_build and run_modify call it; returns the kinds of the jobs it ran."""
    kinds: list[JobKind] = []
    real = job_runner.run_job

    def spy(job: Job, sink: Callable[[JobEvent], None], cancel: threading.Event | None = None) -> JobResult:  # type: ignore[type-arg]
        kinds.append(job.kind)
        return real(job, sink, cancel)

    for module in (build_job, modify_job):
        monkeypatch.setattr(module, "run_job", spy)
    return kinds


def small_image(folder: Path) -> Path:
    root = folder / "root"
    for inner, text in {layout.ANSWERS: "version: 1\nrecipe: debian-based\nrelease: bookworm\nmirror: http://127.0.0.1:9/debian\n",
                        "usr/lib/os-release": "ID=debian\nVERSION_CODENAME=bookworm\n"}.items():
        (root / inner).parent.mkdir(parents=True, exist_ok=True)
        (root / inner).write_text(text)
    image = folder / "euca-debian-2026.01.01-x86_64.img"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", "-d", str(root), str(image), "16M"], check=True, capture_output=True)
    return image


@pytest.mark.skipif(not (shutil.which("mke2fs") and shutil.which("debugfs")), reason="needs e2fsprogs")
def test_a_build_and_a_modify_both_run_as_a_job_of_the_one_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = spy_on_run_job(monkeypatch)
    # The build's dry run must not depend on which tools this machine has (as the fuzz tests' sandbox).
    monkeypatch.setattr(preflight_step, "shutil", types.SimpleNamespace(which=lambda tool: f"/usr/sbin/{tool}", disk_usage=shutil.disk_usage))
    monkeypatch.setattr(bootstrap_step, "tool_version", lambda tool: f"{tool} 1.0 (test)")
    monkeypatch.setenv("EMI_TUI_CACHE_DIR", str(tmp_path / "cache"))
    answers_file = tmp_path / "answers.yaml"
    answers_file.write_text(f"version: 1\nrecipe: debian-based\nmirror: http://127.0.0.1:9/debian\noutput: {{dir: {tmp_path / 'images'}}}\n")
    checked = validate_file(answers_file, RecipeBook([paths.shipped_dir("recipes")]))
    assert checked.ok, checked.problems
    started: list[JobStarted] = []

    def sink(event: JobEvent) -> None:
        if isinstance(event, JobStarted):
            started.append(event)

    built = build_job.run_build(checked.answers, checked.recipe, sink, options=build_job.BuildOptions(dry_run=True))
    modified = modify_job.run_modify(modify_job.ModifyRequest(small_image(tmp_path), dry_run=True), sink)
    assert built.ok and modified.ok, (built.message, modified.message)
    assert kinds == [JobKind.BUILD, JobKind.MODIFY]
    assert [event.kind for event in started] == [JobKind.BUILD, JobKind.MODIFY]
