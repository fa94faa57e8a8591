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
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from emi_tui.engine.answers.model import ImageFields
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.artifact.compress import COMPRESSORS
from emi_tui.engine.build.package import publish
from emi_tui.engine.errors import EmiError
from emi_tui.engine.image.imageid import now_epoch, utc_day
from emi_tui.engine.modify.context import ModifyContext
from emi_tui.engine.modify.identity import ArtifactError, tar_read_args
from emi_tui.engine.modify.request import ModifyRequest, ModifyResult
from emi_tui.engine.modify.steps import modify_steps
from emi_tui.engine.run.events import EventSink, JobKind, OutputLine, StepStarted
from emi_tui.engine.run.job import Job, JobStart, choose_work_root, run_job
from emi_tui.engine.run.lock import OutputLock
from emi_tui.engine.sizes import SizeError, human, parse_size

KINDS_HINT = "give a .tgz/.tar.zst/.tar.xz built by emi-tui or laid out like the starter images (NAME/NAME.img), or a bare ext2/3/4 .img"
#: Tarball suffixes and the output.compress each stands for (.tar.gz is the operators' older spelling of .tgz).
TARBALLS = {**{c.suffix: c.name for c in COMPRESSORS.values()}, ".tar.gz": "gzip"}


@dataclass
class ArtifactSurvey:
    """What an artifact is, found without unpacking it: its kind, its layout and the size of its image."""

    path: Path
    kind: Literal["tarball", "image"]
    compress: str  # the output.compress name the new artifact uses ("none" for a bare image)
    image_member: str  # the image's path inside the tarball ("" for a bare .img)
    members: list[str]  # the tarball's top-level entries, in order
    image_bytes: int  # the image's apparent size

    @property
    def stem(self) -> str:
        name = self.path.name
        for suffix in (*TARBALLS, ".img"):
            if name.lower().endswith(suffix):
                return name[: -len(suffix)]
        return name


def survey_artifact(path: Path) -> ArtifactSurvey:
    """Tell what `path` is and where its image sits; EmiError (bad input) when emi-tui cannot modify it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise EmiError(f"no such artifact: {path}", hint=KINDS_HINT)
    if not path.is_file():
        raise EmiError(f"{path} is not a regular file", hint=KINDS_HINT)
    lower = path.name.lower()
    if lower.endswith(".img"):
        done = subprocess.run(["dumpe2fs", "-h", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            raise EmiError(f"{path.name} is not an ext2/3/4 filesystem image", hint=KINDS_HINT)
        return ArtifactSurvey(path, "image", "none", "", [], path.stat().st_size)
    suffix = next((s for s in TARBALLS if lower.endswith(s)), None)
    if suffix is None:
        raise EmiError(f"{path.name} is neither an image (.img) nor an artifact tarball", hint=KINDS_HINT)
    done = subprocess.run(["tar", *tar_read_args(TARBALLS[suffix]), "-tvf", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"tar exited with {done.returncode}"])[0]
        raise EmiError(f"{path.name} could not be read ({why})", hint="check that it is a complete tarball")
    images, members = [], []
    for line in done.stdout.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6:
            continue
        mode, size, name = parts[0], parts[2], parts[5].split(" -> ")[0].removeprefix("./").rstrip("/")
        if name.startswith("/") or ".." in name.split("/"):
            raise EmiError(f"{path.name} holds a member outside its folder ({name})", hint="refusing to unpack it as root")
        top = name.split("/")[0]
        if name and top not in members:
            members.append(top)
        base = name.rsplit("/", 1)[-1]
        if mode.startswith("-") and base.endswith(".img") and not base.startswith(("initrd", "initramfs")):
            images.append((name, int(size)))
    if len(images) != 1:
        found = f"{len(images)} images ({', '.join(n for n, _ in images)})" if images else "no image (*.img)"
        raise EmiError(f"{path.name} holds {found}", hint="an artifact carries exactly one NAME/NAME.img, as the starter images do")
    return ArtifactSurvey(path, "tarball", TARBALLS[suffix], images[0][0], members, images[0][1])


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
    survey = check_request(request)
    output = Path(request.output or survey.path.parent).expanduser().resolve()
    # The default version is the UTC day of the stamp's instant, so image_version and image_date never disagree.
    epoch = now_epoch()

    def context(start: JobStart) -> ModifyContext:
        # answers and recipe come from the image itself: the unpack step settles them.
        return ModifyContext(
            answers=None, recipe=None, paths=start.paths, emit=start.emit, cancel=start.cancel,  # type: ignore[arg-type]
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
