"""Modifying an existing image: a copy of it, loop-mounted, changed in a chroot, re-stamped and repacked.

`run_modify` is the one entry point of both renderers, as `run_build` is for
builds: it checks a `ModifyRequest` (bad input raises `EmiError` before
anything runs), then runs the flat list of named steps of `modify_steps`,
emitting the build's events, and returns a `ModifyResult` with the old and
new image-id and the package diff. The original artifact is only read: the
work happens on a copy in a private work folder, and every mount and loop
device is undone on every exit path (signals included), as in a build.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, ContextManager

from emi_tui.engine import paths
from emi_tui.engine.answers.model import ImageFields, Metadata
from emi_tui.engine.build.job import LoggedSink, cancel_on_signals, choose_work_root, failure_event, run_step, warn_of_dead_builds
from emi_tui.engine.artifact.survey import ArtifactSurvey, survey_artifact
from emi_tui.engine.run.context import JobPaths
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.events import JobDone, JobStarted, EventSink, OutputLine
from emi_tui.engine.image.imageid import now_epoch, utc_day
from emi_tui.engine.run.cleanup import process_start_time
from emi_tui.engine.modify.identity import ArtifactError
from emi_tui.engine.modify.steps import ModifyContext, modify_steps, release_loops, stop_chrooted
from emi_tui.engine.run.mounts import MountStack, unmount_all_under, write_json_atomic
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.sizes import SizeError, human, parse_size
from emi_tui.engine.build.package import discard_partials, publish


@dataclass
class ModifyRequest:
    """What the operator asked for: one artifact and any combination of changes."""

    artifact: Path
    upgrade: bool = False
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    script: Path | None = None  # --run: copied into the image and run in the chroot
    metadata: Metadata | None = None  # --answers FILE's metadata (or the wizard's): regenerates rc.local and the rest
    answers_file: Path | None = None  # where `metadata` came from, for the log
    shell: bool = False
    grow: str | None = None
    version: str | None = None  # default: today (today.N when the image already is today's)
    output: Path | None = None  # default: the artifact's folder
    dry_run: bool = False
    zerofree: bool = True  # False only to measure what zerofree saves (--no-zerofree)
    work_root: Path | None = None
    #: Wrapped around the interactive shell, so that a renderer can step aside (the TUI suspends itself).
    shell_wrapper: Callable[[], ContextManager] | None = None

    def changes(self) -> list[str]:
        """The changes as command-line words, for the log and the stored answers' lineage."""
        words = ["--upgrade"] if self.upgrade else []
        words += [f"--add {' '.join(self.add)}"] if self.add else []
        words += [f"--remove {' '.join(self.remove)}"] if self.remove else []
        words += [f"--run {self.script.name}"] if self.script else []
        words += [f"--answers {self.answers_file.name if self.answers_file else '(metadata)'}"] if self.metadata else []
        words += ["--shell"] if self.shell else []
        words += [f"--grow {self.grow}"] if self.grow else []
        return words or ["re-stamp only"]


@dataclass
class ModifyResult:
    """The outcome, with what the Done screen shows: both image-ids and the package diff."""

    ok: bool
    artifacts: list[Path] = field(default_factory=list)
    old_image_id: str = ""
    new_image_id: str = ""
    added: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    upgraded: dict[str, tuple[str, str]] = field(default_factory=dict)
    log_path: Path | None = None
    failed_step: str | None = None
    message: str = ""
    hint: str = ""
    bad_artifact: bool = False  # the artifact itself is unusable (bad input: exit code 2)
    seconds: float = 0.0
    facts: dict = field(default_factory=dict)

    @property
    def image_id(self) -> str:
        """The new /etc/image-id (what a build's result calls `image_id`)."""
        return self.new_image_id


def request_problems(request: ModifyRequest, survey: ArtifactSurvey | None = None) -> list[tuple[str, EmiError]]:
    """Everything wrong with `request` as (field, error) pairs, in the order the CLI reports them.

    Only the script and the output folder are looked at on disk; the artifact
    is judged by `survey_artifact`, whose survey (when given) also tells
    whether --grow would shrink the image. The wizard shows each problem at
    its field; `check_request` raises the first.
    """
    problems: list[tuple[str, EmiError]] = []
    for side, names in (("add", request.add), ("remove", request.remove)):
        for name in names:
            # The image's family is only known once it is open; names valid in neither family stop here.
            # (A name ending in a newline slips through the package regexes, whose $ matches before it.)
            if package_name_problem(name, "rpm") or not name.isprintable() or name != name.strip():
                message = package_name_problem(name, "deb") or f"{name!r} is not a valid package name"
                problems.append((side, EmiError(message, hint="package names are letters, digits and + - . _")))
                break
    both = sorted(set(request.add) & set(request.remove))
    if both:
        problems.append(("remove", EmiError(f"{', '.join(both)} is both added and removed", hint="keep each package in --add or in --remove")))
    if request.script is not None and not Path(request.script).is_file():
        problems.append(("script", EmiError(f"--run {request.script}: no such script", hint="give the path of a script to run inside the image")))
    if request.version is not None:
        try:
            ImageFields(version=request.version)
        except ValueError as exc:
            problems.append(("version", EmiError(f"--version {request.version!r} is not a valid image version", hint=_first_error(exc))))
    output = request.output
    if output is not None and output.exists() and not output.is_dir():
        problems.append(("output", EmiError(f"--output {output} is not a folder", hint="give a folder for the new artifact")))
    if request.shell and not request.dry_run and not (os.isatty(0) and os.isatty(1)):
        problems.append(("shell", EmiError("--shell needs a terminal", hint="run `emi-tui modify --shell` in a terminal, or use --run SCRIPT")))
    if request.grow is not None:
        try:
            grow = parse_size(request.grow) // 1024 * 1024
        except SizeError as exc:
            problems.append(("grow", EmiError(f"--grow {request.grow}: {exc}", hint="write a size such as 4.5G or 2G")))
        else:
            if survey is not None and grow < survey.image_bytes:
                problems.append(("grow", EmiError(
                    f"--grow {request.grow} would shrink the image: it is {human(survey.image_bytes)} ({survey.image_bytes:,} bytes)",
                    hint=f"emi-tui only grows filesystems: give a size of at least {human(survey.image_bytes)}, or leave out --grow",
                )))
    return problems


def check_request(request: ModifyRequest) -> ArtifactSurvey:
    """Refuse bad input before anything runs (EmiError, exit code 2); returns the artifact's survey."""
    for _, problem in request_problems(request):
        raise problem
    survey = survey_artifact(request.artifact)
    for _, problem in request_problems(request, survey):
        raise problem
    return survey


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", lambda: [])()
    return re.sub(r"^Value error, ", "", errors[0]["msg"]) if errors else str(exc)


def run_modify(request: ModifyRequest, sink: EventSink, cancel: threading.Event | None = None) -> ModifyResult:
    """Modify a copy of `request.artifact`; bad input raises EmiError, everything after is events."""
    cancel = cancel or threading.Event()
    survey = check_request(request)
    started = time.monotonic()
    build_id = f"{datetime.now(tz=timezone.utc).strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    logs = paths.state_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{build_id}-modify-{survey.stem}{'-dry-run' if request.dry_run else ''}.log"
    work = (request.work_root or choose_work_root(2 * survey.image_bytes)) / build_id
    output = Path(request.output or survey.path.parent).expanduser().resolve()
    steps = modify_steps()
    logged = LoggedSink(sink, log_path)
    state_file = paths.state_dir() / "builds" / f"{build_id}.json"
    # answers and recipe come from the image itself, read by the unpack step.
    # The default version is the UTC day of the stamp's instant, so image_version and image_date never disagree.
    epoch = now_epoch()
    ctx = ModifyContext(
        answers=None, recipe=None, paths=JobPaths(work=work, output=output, log=log_path), emit=logged, cancel=cancel,
        dry_run=request.dry_run, epoch=epoch, today=utc_day(epoch),
        request=request, survey=survey, exits=ExitStack(),
    )
    result = ModifyResult(ok=False, log_path=log_path, facts=ctx.facts)
    state = {
        "pid": os.getpid(), "started": process_start_time(os.getpid()), "work": str(work), "mounts": [],
        "output": str(output), "log": str(log_path), "children": [],
    }

    def record(key: str, value) -> None:
        state[key] = value
        write_json_atomic(state_file, state)

    current = steps[0]
    with cancel_on_signals(cancel):
        try:
            if not request.dry_run:
                state_file.parent.mkdir(parents=True, exist_ok=True)
                work.mkdir(parents=True)
                write_json_atomic(state_file, state)
                ctx.mounts = MountStack(record=lambda mounted: record("mounts", mounted), log=ctx.note)
                ctx.track_pid = lambda pid: record("children", [pid])
            logged(JobStarted(tuple(s.name for s in steps), log_path, request.answers_file or Path("-")))
            warn_of_dead_builds(logged)
            for index, current in enumerate(steps):
                run_step(ctx, current, index, cancel)
            result.artifacts = [] if request.dry_run else publish(ctx, log_path, ctx.names)
            result.ok = True
        except (Exception, KeyboardInterrupt) as exc:
            failure = failure_event(exc, current.name, cancel, logged, log_path)
            result.failed_step, result.message, result.hint = failure.step, failure.message, failure.hint
            result.bad_artifact = isinstance(exc, ArtifactError)
            logged(failure)
        finally:
            leftovers = _teardown(ctx, state_file, success=result.ok)
            if leftovers:
                logged(OutputLine(current.name, f"could not clean up: {', '.join(leftovers)}; run `emi-tui cleanup`"))
    result.seconds = time.monotonic() - started
    facts = ctx.facts
    result.old_image_id, result.new_image_id = facts.get("old_image_id", ""), facts.get("image_id", "")
    result.added, result.removed, result.upgraded = facts.get("added", {}), facts.get("removed", {}), facts.get("upgraded", {})
    if result.ok:
        details = {"old_image_id": result.old_image_id, "added": result.added, "removed": result.removed, "upgraded": result.upgraded}
        logged(JobDone(tuple(result.artifacts), result.new_image_id, result.seconds, {**facts, **details}))
    logged.close()
    return result


def _teardown(ctx: ModifyContext, state_file: Path, success: bool) -> list[str]:
    """Unmount, detach the loop device, remove the work folder and partials; returns what remains."""
    ctx.exits.close()  # the output lock
    if ctx.dry_run:
        return []
    work = ctx.paths.work
    if ctx.mounts and ctx.mounts.mounted:
        stop_chrooted(ctx)  # what a failed script left running would keep the image busy
    leftovers = ctx.mounts.close() if ctx.mounts else []
    leftovers += unmount_all_under(work)
    leftovers += [f"loop device {d}" for d in release_loops(work)]
    if not leftovers:
        shutil.rmtree(work, ignore_errors=True)
        state_file.unlink(missing_ok=True)
    if not success and ctx.names:
        discard_partials(ctx, ctx.names)
    return leftovers


def plan_lines(request: ModifyRequest) -> list[str]:
    """The dry-run plan as text lines (every step and command), for a renderer that wants it whole."""
    lines: list[str] = []

    def collect(event) -> None:
        if isinstance(event, OutputLine):
            lines.append(f"   {event.text}")
        elif hasattr(event, "description"):
            lines.append(f"{event.index + 1}. {event.step}: {event.description}")

    dry = ModifyRequest(**{**request.__dict__, "dry_run": True, "shell_wrapper": None})
    result = run_modify(dry, collect)
    if not result.ok:
        raise EmiError(result.message, hint=result.hint)
    return lines
