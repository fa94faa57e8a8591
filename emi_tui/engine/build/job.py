"""Running a build: the steps in order, as events, with every exit path cleaned up.

`run_build` is the one entry point of both renderers (the CLI and the TUI's
thread worker). It owns what no step may leave behind: mounts, the work
folder, partial artifacts, the output lock and the state file that lets
`emi-tui cleanup` find a build that was killed.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import threading
import time
import traceback
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from emi_tui.engine import paths
from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.storage import render_answers, write_atomic
from emi_tui.engine.run.context import JobContext, JobPaths
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.events import JobDone, JobFailed, JobStarted, EventSink, OutputLine, StepFinished, StepStarted
from emi_tui.engine.build.history import history_path
from emi_tui.engine.image.imageid import now_epoch
from emi_tui.engine.run.cleanup import find_dead_builds, process_start_time
from emi_tui.engine.run.mounts import MountStack, unmount_all_under, write_json_atomic
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.run.runner import Cancelled
from emi_tui.engine.build.steps import Step, build_steps
from emi_tui.engine.build.package import artifact_names, discard_partials, publish


@dataclass
class BuildOptions:
    dry_run: bool = False
    use_cache: bool = True
    retry: bool = False
    work_root: Path | None = None


@dataclass
class BuildResult:
    ok: bool
    artifacts: list[Path] = field(default_factory=list)
    image_id: str = ""
    log_path: Path | None = None
    failed_step: str | None = None
    message: str = ""
    hint: str = ""
    seconds: float = 0.0
    facts: dict = field(default_factory=dict)


def choose_work_root(size_bytes: int) -> Path:
    """Where builds work: tmpfs when it has room (fastest measured), else /var/tmp."""
    override = os.environ.get("EMI_TUI_WORK_DIR")
    if override:
        return Path(override)
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > size_bytes + 4 * 1024**3:
        return shm / "emi-tui"
    return Path("/var/tmp/emi-tui")


@contextmanager
def cancel_on_signals(cancel: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set the cancel event (main thread only), so teardown runs in order."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def handler(signum, _frame):
        cancel.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class LoggedSink:
    """Passes events on to the renderer and writes each as a line of the log file."""

    def __init__(self, sink: EventSink, log_path: Path):
        self.sink = sink
        self.handle = open(log_path, "a", encoding="utf-8", buffering=1)
        self.tail: dict[str, list[str]] = {}

    def __call__(self, event) -> None:
        if isinstance(event, OutputLine):
            self.handle.write(f"[{event.step}] {event.text}\n")
            lines = self.tail.setdefault(event.step, [])
            lines.append(event.text)
            del lines[:-30]
        elif isinstance(event, StepStarted):
            self.handle.write(f"==> {event.step}: {event.description}\n")
        elif isinstance(event, StepFinished):
            self.handle.write(f"<== {event.step}: {event.seconds:.1f}s {event.note}\n")
        elif isinstance(event, JobFailed):
            self.handle.write(f"!!! {event.step}: {event.message}\n")
        self.sink(event)

    def close(self) -> None:
        self.handle.close()


@contextmanager
def output_lock(final: Path) -> Iterator[None]:
    """One build at a time may write a given artifact; a second one refuses at once."""
    final.parent.mkdir(parents=True, exist_ok=True)
    lock_path = final.with_name(f".{final.name}.lock")
    handle = open(lock_path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise EmiError(f"another build (pid {owner}) is already writing {final}", hint="wait for it, or choose another image.file or output.dir") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        lock_path.unlink(missing_ok=True)
        handle.close()


def run_build(
    answers: Answers, recipe: Recipe, sink: EventSink, cancel: threading.Event | None = None,
    options: BuildOptions | None = None, answers_path: Path | None = None, epoch: int | None = None,
) -> BuildResult:
    """Run every step of the build of `answers`; never raises for build failures (they are events)."""
    options = options or BuildOptions()
    cancel = cancel or threading.Event()
    started = time.monotonic()
    stamp = datetime.now(tz=timezone.utc).strftime("%Y%m%d-%H%M%S")
    build_id = f"{stamp}-{os.getpid()}"
    stem = answers.image.file.removesuffix(".img")
    logs = paths.state_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{build_id}-{stem}{'-dry-run' if options.dry_run else ''}.log"
    work = (options.work_root or choose_work_root(answers.size_bytes)) / build_id
    output = Path(answers.output.dir).expanduser().resolve()
    steps = build_steps()
    logged = LoggedSink(sink, log_path)
    state_file = paths.state_dir() / "builds" / f"{build_id}.json"
    ctx = JobContext(
        answers=answers, recipe=recipe, paths=JobPaths(work=work, output=output, log=log_path), emit=logged,
        cancel=cancel, dry_run=options.dry_run, use_cache=options.use_cache or options.retry,
        epoch=epoch if epoch is not None else now_epoch(),
    )
    saved_answers = answers_path or (None if options.dry_run else _save_history(answers))
    result = BuildResult(ok=False, log_path=log_path, facts=ctx.facts)
    state = {
        "pid": os.getpid(), "started": process_start_time(os.getpid()), "work": str(work), "mounts": [],
        "output": str(output), "log": str(log_path), "children": [],
    }

    def record_mounts(mounted: list[str]) -> None:
        state["mounts"] = mounted
        write_json_atomic(state_file, state)

    def track_pid(pid: int) -> None:
        state["children"] = [pid]
        write_json_atomic(state_file, state)

    current = steps[0]
    # The handlers stay until teardown is done: a second Ctrl-C must not cut the cleanup short.
    with cancel_on_signals(cancel):
        try:
            with (output_lock(artifact_names(ctx)["tarball"]) if not options.dry_run else nullcontext()):
                if not options.dry_run:
                    state_file.parent.mkdir(parents=True, exist_ok=True)
                    work.mkdir(parents=True)
                    write_json_atomic(state_file, state)
                    ctx.mounts = MountStack(record=record_mounts, log=ctx.note)
                    ctx.track_pid = track_pid
                logged(JobStarted(tuple(s.name for s in steps), log_path, saved_answers or Path("-")))
                if options.retry:
                    logged(OutputLine("preflight", "retry: starting again from the cached base"))
                warn_of_dead_builds(logged)
                for index, current in enumerate(steps):
                    run_step(ctx, current, index, cancel)
                artifacts = [] if options.dry_run else publish(ctx, log_path)
                result.ok, result.artifacts, result.image_id = True, artifacts, ctx.facts.get("image_id", "")
        except (Exception, KeyboardInterrupt) as exc:
            failure = failure_event(exc, current.name, cancel, logged, log_path)
            result.failed_step, result.message, result.hint = failure.step, failure.message, failure.hint
            logged(failure)
        finally:
            leftovers = _teardown(ctx, state_file, success=result.ok)
            if leftovers:
                logged(OutputLine(current.name, f"could not clean up: {', '.join(leftovers)}; run `emi-tui cleanup`"))
    result.seconds = time.monotonic() - started
    if result.ok:
        logged(JobDone(tuple(result.artifacts), result.image_id, result.seconds, dict(ctx.facts)))
    logged.close()
    return result


def warn_of_dead_builds(sink: EventSink) -> None:
    """Say so when killed builds left mounts or files behind (`emi-tui cleanup` removes them)."""
    dead = find_dead_builds()
    if dead:
        sink(OutputLine("preflight", f"warning: {len(dead)} dead build(s) left files or mounts behind; run `emi-tui cleanup`"))


def failure_event(exc: BaseException, step: str, cancel: threading.Event, logged: "LoggedSink", log_path: Path) -> JobFailed:
    """The JobFailed event for `exc` raised in `step`: one clear message, the traceback only in the log."""
    cancelled = isinstance(exc, (Cancelled, KeyboardInterrupt)) or cancel.is_set()
    if isinstance(exc, KeyboardInterrupt):
        message = "cancelled"
    elif isinstance(exc, (EmiError, OSError)):
        message = str(exc) or type(exc).__name__
    else:  # a bug of ours: keep the traceback in the log, not on the operator's screen
        logged.handle.write(traceback.format_exc())
        message = f"internal error: {type(exc).__name__}: {exc}"
    if cancelled and not message.startswith("cancelled"):
        message = f"cancelled during {step} ({message})"
    hint = getattr(exc, "hint", "") or ("" if cancelled else f"the full log is {log_path}")
    return JobFailed(step, message, hint, log_path, tuple(logged.tail.get(step, [])[-12:]), cancelled)


def run_step(ctx: JobContext, step: Step, index: int, cancel: threading.Event) -> None:
    if cancel.is_set():
        raise Cancelled(f"cancelled before {step.name}")
    ctx.step = step.name
    ctx.emit(StepStarted(step.name, step.description, index))
    began = time.monotonic()
    note = step.run(ctx) or ""
    if cancel.is_set():  # a step with no command of its own still ends in a cancel, named after it
        raise Cancelled(f"cancelled during {step.name}")
    skipped = note.startswith("from cache") or note.startswith("skipped")
    ctx.emit(StepFinished(step.name, time.monotonic() - began, skipped=skipped, note=note))


def _teardown(ctx: JobContext, state_file: Path, success: bool) -> list[str]:
    """Unmount, remove the work folder and partials, drop the state file; returns what remains."""
    if ctx.dry_run:
        return []
    leftovers = ctx.mounts.close() if ctx.mounts else []
    leftovers += unmount_all_under(ctx.paths.work)
    if not leftovers:
        shutil.rmtree(ctx.paths.work, ignore_errors=True)
        state_file.unlink(missing_ok=True)
    if not success:
        discard_partials(ctx)
    return leftovers


def _save_history(answers: Answers) -> Path:
    """Save the resolved answers before anything runs, so a failed build can be retried."""
    path = history_path(datetime.now(), answers)
    write_atomic(path, render_answers(answers))
    return path
