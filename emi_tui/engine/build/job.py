"""Running a build: the job of the build's steps, run by the one job runner.

`run_build` is the one entry point of both renderers (the CLI and the TUI's
thread worker). It only says what a build's job is: the steps of
`build_steps`, a BuildContext made from the answers, the tarball it locks and
how its artifacts are published. The job runner (emi_tui.engine.run.job)
owns the rest: the job id, the log, the state file for `emi-tui cleanup`, the
output lock, signals and the one teardown.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.answers.storage import render_answers, write_atomic
from emi_tui.engine.build.context import BuildContext
from emi_tui.engine.build.history import history_path
from emi_tui.engine.build.package import artifact_names, publish
from emi_tui.engine.build.steps import build_steps
from emi_tui.engine.build.timings import RecordingSink
from emi_tui.engine.image.imageid import now_epoch
from emi_tui.engine.run.events import EventSink, JobFacts, JobKind
from emi_tui.engine.run.job import Job, JobStart, choose_work_root, run_job
from emi_tui.engine.run.lock import OutputLock


@dataclass
class BuildOptions:
    dry_run: bool = False
    use_cache: bool = True
    retry: bool = False
    work_root: Path | None = None
    bootstrapper: str | None = None  # debootstrap or mmdebstrap; None: the recipe's, as preflight settles it


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
    facts: JobFacts = field(default_factory=JobFacts)
    cancelled: bool = False  # stopped by the operator, a signal or the TUI's cancel (not a failure of the build)


def run_build(
    answers: Answers, recipe: Recipe, sink: EventSink, cancel: threading.Event | None = None,
    options: BuildOptions | None = None, answers_path: Path | None = None, epoch: int | None = None,
) -> BuildResult:
    """Run every step of the build of `answers`; never raises for build failures (they are events)."""
    options = options or BuildOptions()
    stamped = epoch if epoch is not None else now_epoch()

    def context(start: JobStart) -> BuildContext:
        return BuildContext(
            settled_answers=answers, settled_recipe=recipe, paths=start.paths, emit=start.emit, cancel=start.cancel,
            dry_run=options.dry_run, use_cache=options.use_cache or options.retry, epoch=stamped,
            requested_bootstrapper=options.bootstrapper,
        )

    def tarball(ctx: BuildContext) -> OutputLock:
        final = artifact_names(ctx)["tarball"]
        return OutputLock(final, f"writing {final}")

    job = Job(
        kind=JobKind.BUILD, name=answers.image.resolved_file.removesuffix(".img"), steps=build_steps(), context=context,
        work_root=options.work_root or choose_work_root(answers.size_bytes),
        output=Path(answers.output.dir).expanduser().resolve(), dry_run=options.dry_run,
        lock=tarball, publish=lambda ctx: publish(ctx, ctx.paths.log),
        answers_path=answers_path or (None if options.dry_run else _save_history(answers)),
        notes=["retry: starting again from the cached base"] if options.retry else [],
    )
    # A real build keeps its step timings, so the next one's progress is weighted by them.
    ran = run_job(job, sink if options.dry_run else RecordingSink(sink), cancel)
    failure = ran.failure
    return BuildResult(
        ok=ran.ok, artifacts=ran.artifacts, image_id=ran.context.facts.get("image_id", "") if ran.ok else "",
        log_path=ran.log_path, failed_step=failure.step if failure else None, message=failure.message if failure else "",
        hint=failure.hint if failure else "", seconds=ran.seconds, facts=ran.context.facts, cancelled=ran.cancelled,
    )


def _save_history(answers: Answers) -> Path:
    """Save the resolved answers before anything runs, so a failed build can be retried."""
    path = history_path(datetime.now(), answers)
    write_atomic(path, render_answers(answers))
    return path
