"""One job orchestration: a build and a modify are both a flat list of named steps run on a context.

`run_job` is the only function that runs steps (as mkosi's build_image()).
It owns, for every kind of job, what no step may leave behind:

- the job id, the log (every event, as a line), and the state file that lets
  `emi-tui cleanup` find and undo a job that was killed;
- the output lock, taken before the first step and released last;
- each step as events (StepStarted, StepFinished with its outcome), the one
  JobFailed event when something raised, and JobDone when all is written;
- signals, which cancel every running job (emi_tui.engine.run.signals);
- one teardown in `finally`: the undos the steps pushed onto `ctx.undo`
  (newest first: a modify's chrooted processes, its loop mount and loop
  device, the partial artifacts), then whatever is still mounted under the
  work folder, the work folder itself and the state file.

`run_build` and `run_modify` only say what their job is: its steps, how to
make its context, what it locks and how its artifacts are published.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, TypedDict, TypeVar

from emi_tui.engine import paths
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.cleanup import find_dead_builds, process_start_time
from emi_tui.engine.run.context import JobContext, JobPaths
from emi_tui.engine.run.events import (
    EventSink,
    JobDone,
    JobEvent,
    JobFailed,
    JobKind,
    JobStarted,
    OutputLine,
    StepFinished,
    StepOutcome,
    StepStarted,
    without_secrets,
)
from emi_tui.engine.run.lock import OutputLock, output_lock
from emi_tui.engine.run.mounts import MountStack, unmount_all_under, write_json_atomic
from emi_tui.engine.run.runner import Cancelled
from emi_tui.engine.run.signals import cancelled_by_signals
from emi_tui.engine.safefs import create_new, private_folder, private_subfolder

C = TypeVar("C", bound=JobContext)


@dataclass(frozen=True)
class StepResult:
    """How a step ended, and the note shown beside it ("from cache …", "skipped (no --grow)", "1.2 GB")."""

    outcome: StepOutcome
    note: str = ""


def skipped(note: str) -> StepResult:
    """The step had nothing to do: `note` says why."""
    return StepResult(StepOutcome.SKIPPED, note)


def from_cache(note: str) -> StepResult:
    """The step's result was taken from the cache: `note` says which entry."""
    return StepResult(StepOutcome.CACHED, note)


@dataclass(frozen=True)
class Step(Generic[C]):
    """One named step of a job: what it is for, and the function that does it.

    The function returns a `StepResult`, or just a note (or None) when it did its work.
    """

    name: str
    description: str
    run: Callable[[C], StepResult | str | None]


@dataclass(frozen=True)
class JobStart:
    """What `run_job` settles before a job's context exists: handed to `Job.context` to make it."""

    id: str
    paths: JobPaths
    emit: EventSink
    cancel: threading.Event


@dataclass
class Job(Generic[C]):
    """A job: its kind, its flat list of steps and how to make the context they share."""

    kind: JobKind
    name: str  # what the log file is named after (the image's stem)
    steps: Sequence[Step[C]]
    context: Callable[[JobStart], C]
    work_root: Path  # the job works in a folder of its own below this one
    output: Path
    dry_run: bool = False
    #: What the job will write, locked before the first step (a real run only).
    lock: Callable[[C], OutputLock] | None = None
    #: After the last step: the partial files become the artifacts (a real run only); returns their final paths.
    publish: Callable[[C], list[Path]] = lambda _ctx: []
    answers_path: Path | None = None  # the answer file the job follows, for JobStarted
    notes: Sequence[str] = ()  # said before the first step


@dataclass
class JobResult(Generic[C]):
    """What a job came to: its context (with the facts the steps learned), the artifacts or the failure."""

    context: C
    log_path: Path
    ok: bool = False
    artifacts: list[Path] = field(default_factory=list)
    failure: JobFailed | None = None
    error: BaseException | None = None  # what the failing step raised
    seconds: float = 0.0

    @property
    def cancelled(self) -> bool:
        return self.failure is not None and self.failure.cancelled


class LoggedSink:
    """Passes events on to the renderer and writes each as a line of the log file."""

    def __init__(self, sink: EventSink, log_path: Path):
        self.sink = sink
        # A new file in the private log folder; a name that exists already is never appended to.
        self.handle = os.fdopen(create_new(log_path, 0o600), "w", encoding="utf-8", buffering=1)
        self.tail: dict[str, list[str]] = {}

    def __call__(self, event: JobEvent) -> None:
        event = without_secrets(event)  # a mirror's password goes neither into the published log nor onto the screen
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


class JobRecord(TypedDict):
    """What the state file holds (emi_tui.engine.run.cleanup reads it back)."""

    pid: int
    started: str | None  # the process's start time, so a reused pid is not taken for the job
    work: str
    mounts: list[str]
    output: str
    log: str
    children: list[int]  # the running command


class StateFile:
    """The job's record for `emi-tui cleanup`: its pid, folders, mounts and running command, kept current."""

    def __init__(self, path: Path, work: Path, output: Path, log: Path):
        self.path = path
        self.state: JobRecord = {
            "pid": os.getpid(), "started": process_start_time(os.getpid()), "work": str(work), "mounts": [],
            "output": str(output), "log": str(log), "children": [],
        }

    def write(self) -> None:
        private_folder(self.path.parent)
        write_json_atomic(self.path, self.state)

    def mounts(self, mounted: list[str]) -> None:
        self.state["mounts"] = mounted
        self.write()

    def child(self, pid: int) -> None:
        self.state["children"] = [pid]
        self.write()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def choose_work_root(size_bytes: int) -> Path:
    """Where jobs work: tmpfs when it has room (fastest measured), else /var/tmp.

    Only the name: `run_job` checks it is private (emi_tui.engine.safefs) and makes it 0700 when missing.
    """
    override = os.environ.get("EMI_TUI_WORK_DIR")
    if override:
        return Path(override)
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > size_bytes + 4 * 1024**3:
        return shm / "emi-tui"
    return Path("/var/tmp/emi-tui")


_JOB_NUMBERS = itertools.count(1)


def new_job_id() -> str:
    """The UTC time and the pid; a second job of the same process adds its number, so jobs at once never share a folder."""
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
    number = next(_JOB_NUMBERS)
    return f"{stamp}-{os.getpid()}" + (f"-{number}" if number > 1 else "")


def run_job(job: Job[C], sink: EventSink, cancel: threading.Event | None = None) -> JobResult[C]:
    """Run every step of `job` in order; never raises for a failure of the job (it is a JobFailed event)."""
    cancel = cancel or threading.Event()
    started = time.monotonic()
    job_id = new_job_id()
    logs = logs_folder()
    log_path = logs / f"{job_id}-{job.name}{'-dry-run' if job.dry_run else ''}.log"
    logged = LoggedSink(sink, log_path)
    job_paths = JobPaths(work=job.work_root / job_id, output=job.output, log=log_path)
    ctx = job.context(JobStart(job_id, job_paths, logged, cancel))
    state = StateFile(paths.state_dir() / "builds" / f"{job_id}.json", job_paths.work, job.output, log_path)
    result: JobResult[C] = JobResult(ctx, log_path)
    current = job.steps[0]
    lock = ExitStack()
    work_made = False  # until then, the work folder's name may be anyone's: teardown leaves it alone
    # The handlers stay until teardown is done: a second Ctrl-C must not cut the cleanup short.
    with cancelled_by_signals(cancel):
        try:
            if not job.dry_run:
                if job.lock is not None:
                    lock.enter_context(output_lock(job.lock(ctx), str(job.kind)))
                state.write()
                private_subfolder(job.work_root, job_paths.work.name)  # 0700, new, in a checked parent
                work_made = True
                ctx.mounts = MountStack(record=state.mounts, log=ctx.note)
                ctx.track_pid = state.child
            logged(JobStarted(tuple(s.name for s in job.steps), log_path, job.answers_path or Path("-"), job.kind))
            for note in job.notes:
                logged(OutputLine(current.name, note))
            warn_of_dead_jobs(logged, current.name)
            for index, current in enumerate(job.steps):
                run_step(ctx, current, index)
            result.artifacts = [] if job.dry_run else job.publish(ctx)
            result.ok = True
        except (Exception, KeyboardInterrupt) as exc:
            result.error = exc
            result.failure = failure_event(exc, current.name, cancel, logged, log_path, job.kind)
            logged(result.failure)
        finally:
            leftovers = teardown(ctx, state, job.dry_run, work_made)
            lock.close()
            if leftovers:
                logged(OutputLine(current.name, f"could not clean up: {', '.join(leftovers)}; run `emi-tui cleanup`"))
    result.seconds = time.monotonic() - started
    if result.ok:
        logged(JobDone(tuple(result.artifacts), ctx.facts.get("image_id", ""), result.seconds, ctx.facts.copy(), job.kind))
    logged.close()
    return result


def logs_folder() -> Path:
    """The private folder of job logs and boot test console logs (made when missing)."""
    return private_folder(paths.logs_dir())


def run_step(ctx: C, step: Step[C], index: int) -> None:
    """Run one step as StepStarted … StepFinished; a cancel before or during it raises Cancelled."""
    if ctx.cancel.is_set():
        raise Cancelled(f"cancelled before {step.name}")
    ctx.step = step.name
    ctx.emit(StepStarted(step.name, step.description, index))
    began = time.monotonic()
    returned = step.run(ctx)
    if ctx.cancel.is_set():  # a step with no command of its own still ends in a cancel, named after it
        raise Cancelled(f"cancelled during {step.name}")
    ended = returned if isinstance(returned, StepResult) else StepResult(StepOutcome.DONE, returned or "")
    ctx.emit(StepFinished(step.name, time.monotonic() - began, ended.outcome, ended.note))


def failure_event(exc: BaseException, step: str, cancel: threading.Event, logged: LoggedSink, log_path: Path, kind: JobKind) -> JobFailed:
    """The JobFailed event for `exc` raised in `step`: one clear message, the traceback only in the log."""
    stopped = isinstance(exc, (Cancelled, KeyboardInterrupt))  # their messages say "cancelled …" already
    cancelled = stopped or cancel.is_set()
    if isinstance(exc, KeyboardInterrupt):
        message = "cancelled"
    elif isinstance(exc, OSError) and exc.strerror:
        # In words, without "[Errno 2]": the operator needs what and where, not the number.
        message = f"{exc.strerror.lower()}: {exc.filename}" if exc.filename else exc.strerror.lower()
    elif isinstance(exc, (EmiError, OSError)):
        message = str(exc) or type(exc).__name__
    else:  # a bug of ours: keep the traceback in the log, not on the operator's screen
        logged.handle.write(traceback.format_exc())
        message = f"internal error: {type(exc).__name__}: {exc}"
    if cancelled and not stopped:  # e.g. a command failed because the cancel killed what it needed
        message = f"cancelled during {step} ({message})"
    hint = getattr(exc, "hint", "") or ("" if cancelled else f"the full log is {log_path}")
    return JobFailed(step, message, hint, log_path, tuple(logged.tail.get(step, [])[-12:]), cancelled, kind)


def teardown(ctx: JobContext, state: StateFile, dry_run: bool, work_made: bool = True) -> list[str]:
    """The one teardown of every job: the steps' undos, then the mounts, the work folder and the state file.

    Returns what remains (the work folder and state file are then kept, for `emi-tui cleanup`).
    Without `work_made` (the job stopped before it made its work folder) nothing
    under the work folder's name is touched: in a refused parent, another user
    may have put a symlink there, and unmounting or removing through it would
    act on whatever it names.
    """
    leftovers = ctx.undo.close(ctx.note)
    if dry_run:
        return leftovers
    leftovers += ctx.mounts.close() if ctx.mounts else []
    if work_made:
        leftovers += unmount_all_under(ctx.paths.work)
    if not leftovers:
        if work_made:
            shutil.rmtree(ctx.paths.work, ignore_errors=True)
        state.remove()
    return leftovers


def warn_of_dead_jobs(sink: EventSink, step: str) -> None:
    """Say so (in `step`'s lines) when killed builds or modifies left mounts or files behind (`emi-tui cleanup` removes them)."""
    dead = find_dead_builds()
    if dead:
        sink(OutputLine(step, f"warning: {len(dead)} dead build(s) left files or mounts behind; run `emi-tui cleanup`"))
