"""Modifying an existing image: a copy of it, loop-mounted, changed in a chroot, re-stamped and repacked.

`run_modify` is the one entry point of both renderers, as `run_build` is for
builds: it checks a `ModifyRequest` (bad input raises `EmiError` before
anything runs), then hands the flat list of named steps of `modify_steps` to
the one job runner (emi_tui.engine.run.job), which emits the job's events,
and returns a `ModifyResult` with the old and new image-id and the package
diff. The original artifact is only read: the work happens on a copy in a
private work folder, and every mount and loop device is undone on every exit
path (signals included), by the same teardown as a build's.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from pydantic import ValidationError

from emi_tui.engine.answers.model import ImageFields
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.artifact.survey import ArtifactSurvey, survey_artifact
from emi_tui.engine.build.folderprobe import absolute_folder, probe_folder
from emi_tui.engine.build.package import publish
from emi_tui.engine.errors import EmiError
from emi_tui.engine.image.imageid import now_epoch, utc_day
from emi_tui.engine.modify.context import ModifyContext
from emi_tui.engine.modify.identity import ArtifactError
from emi_tui.engine.modify.request import ModifyRequest, ModifyResult
from emi_tui.engine.modify.steps import modify_steps
from emi_tui.engine.run.events import EventSink, JobKind, OutputLine, StepStarted
from emi_tui.engine.run.job import Job, JobStart, choose_work_root, run_job
from emi_tui.engine.run.lock import OutputLock
from emi_tui.engine.sizes import SizeError, human, parse_size


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
    elif output is not None and not (probe := probe_folder(absolute_folder(str(output)))).ok:
        problems.append(("output", EmiError(f"the output folder {probe.problem}", hint=probe.fix)))  # such as /proc/nope
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
    errors = exc.errors() if isinstance(exc, ValidationError) else []
    return re.sub(r"^Value error, ", "", errors[0]["msg"]) if errors else str(exc)


def run_modify(request: ModifyRequest, sink: EventSink, cancel: threading.Event | None = None) -> ModifyResult:
    """Modify a copy of `request.artifact`; bad input raises EmiError, everything after is events."""
    survey = check_request(request)
    output = Path(request.output or survey.path.parent).expanduser().resolve()
    # The default version is the UTC day of the stamp's instant, so image_version and image_date never disagree.
    epoch = now_epoch()

    def context(start: JobStart) -> ModifyContext:
        # No answers nor recipe yet: they come from the image itself, and the unpack step settles them.
        return ModifyContext(
            paths=start.paths, emit=start.emit, cancel=start.cancel,
            dry_run=request.dry_run, epoch=epoch, today=utc_day(epoch), request=request, survey=survey,
        )

    # The new artifact's name is only known once the image is open, so the lock is on what is known before:
    # one modify at a time writes a new version of this artifact into this folder.
    lock = OutputLock(output / f"{survey.path.name}.modify", f"writing a new version of {survey.path.name} into {output}",
                      hint="wait for it, or give another --output")
    job = Job(
        kind=JobKind.MODIFY, name=f"modify-{survey.stem}", steps=modify_steps(), context=context,
        work_root=request.work_root or choose_work_root(2 * survey.image_bytes), output=output, dry_run=request.dry_run,
        lock=lambda _ctx: lock, publish=lambda ctx: publish(ctx, ctx.paths.log, ctx.names), answers_path=request.answers_file,
    )
    ran = run_job(job, sink, cancel)
    facts, failure = ran.context.facts, ran.failure
    return ModifyResult(
        ok=ran.ok, artifacts=ran.artifacts, old_image_id=facts.get("old_image_id", ""), new_image_id=facts.get("image_id", ""),
        added=facts.get("added", {}), removed=facts.get("removed", {}), upgraded=facts.get("upgraded", {}), log_path=ran.log_path,
        failed_step=failure.step if failure else None, message=failure.message if failure else "", hint=failure.hint if failure else "",
        bad_artifact=isinstance(ran.error, ArtifactError), cancelled=ran.cancelled, seconds=ran.seconds, facts=facts,
    )


def plan_lines(request: ModifyRequest) -> list[str]:
    """The dry-run plan as text lines (every step and command), for a renderer that wants it whole."""
    lines: list[str] = []

    def collect(event: object) -> None:
        if isinstance(event, OutputLine):
            lines.append(f"   {event.text}")
        elif isinstance(event, StepStarted):
            lines.append(f"{event.index + 1}. {event.step}: {event.description}")

    dry = ModifyRequest(**{**request.__dict__, "dry_run": True, "shell_wrapper": None})
    result = run_modify(dry, collect)
    if not result.ok:
        raise EmiError(result.message, hint=result.hint)
    return lines
