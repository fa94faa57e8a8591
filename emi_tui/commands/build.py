"""`emi-tui build ANSWERS`: the headless renderer of the build's events.

On a terminal it shows a live rich view (each step with its state and time,
an overall progress bar and the tail of the log); elsewhere (CI, pipes) it
prints one line per step event. The full log is always in build.log.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from emi_tui.commands.console import err, out, report_error, safe_text
from emi_tui.engine.answers.model import validate_file
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build import emulation
from emi_tui.engine.build.job import BuildOptions, run_build
from emi_tui.engine.build.progress import JobProgress, format_eta
from emi_tui.engine.build.readiness import CheckStatus, Readiness, check_readiness
from emi_tui.engine.build.timings import from_history
from emi_tui.engine.errors import EmiError, ExitCode
from emi_tui.engine.run.events import JobFailed, JobStarted, OutputLine, StepFinished, StepOutcome, StepStarted
from emi_tui.engine.text import printable

STATE_STYLE = {"pending": "dim", "running": "bold yellow", "done": "green", "skipped": "cyan", "failed": "bold red"}


class LiveView:
    """Step table + progress bar + log tail, redrawn by rich.Live."""

    def __init__(self, tail_lines: int = 10):
        self.steps: dict[str, dict] = {}
        self.tail: deque[str] = deque(maxlen=tail_lines)
        # Weighted by each step's expected time (the last builds' timings); the ETA and the bootstrap's packages beside it.
        self.weighted = JobProgress(from_history)
        # The bar takes the room the rest leaves (at 40 columns too); the ETA goes on a line of its own, in __rich__.
        self.progress = Progress(TextColumn("[bold]build"), BarColumn(bar_width=None), TaskProgressColumn(), TimeElapsedColumn(), expand=True)
        self.task = self.progress.add_task("build", total=1)

    def handle(self, event) -> None:
        self.weighted.feed(event)
        if isinstance(event, JobStarted):
            self.steps = {name: {"state": "pending", "began": 0.0, "seconds": None, "note": ""} for name in event.steps}
            self.progress.update(self.task, total=1000, completed=0)
        elif isinstance(event, StepStarted):
            self.steps[event.step].update(state="running", began=time.monotonic())
        elif isinstance(event, OutputLine):
            self.tail.append(f"[{event.step}] {printable(event.text)}")
        elif isinstance(event, StepFinished):
            self.steps[event.step].update(state="done" if event.outcome is StepOutcome.DONE else "skipped", seconds=event.seconds, note=event.note)
        elif isinstance(event, JobFailed) and event.step in self.steps:
            self.steps[event.step]["state"] = "failed"

    def __rich__(self) -> Group:
        # One line per step at any width: the state, name and time are never cut; the note gets the rest of the line,
        # and ends in "…" where it is longer (it is in the log in full).
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        for _ in range(3):
            table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        for name, info in self.steps.items():
            seconds = info["seconds"] if info["seconds"] is not None else (time.monotonic() - info["began"] if info["state"] == "running" else None)
            table.add_row(
                Text(info["state"], style=STATE_STYLE[info["state"]]), name,
                f"{seconds:6.1f}s" if seconds is not None else "", Text(printable(info["note"]), style="dim"),
            )
        eta = format_eta(self.weighted.eta()) if self.weighted.current else ""
        self.progress.update(self.task, completed=round(self.weighted.fraction() * 1000))
        estimate = Text(printable(" · ".join(w for w in (eta, self.weighted.detail) if w)), no_wrap=True, overflow="ellipsis")
        log = Text("\n".join(self.tail), style="dim", no_wrap=True, overflow="ellipsis")
        return Group(table, self.progress, estimate, log)


def _plain(event) -> None:
    """One line per step event, for logs and CI."""
    if isinstance(event, JobStarted):
        out.print(safe_text(f"{event.kind}: {len(event.steps)} steps; log: {event.log_path}"))
    elif isinstance(event, StepStarted):
        out.print(safe_text(f"==> {event.step}: {event.description}"))
    elif isinstance(event, StepFinished):
        out.print(safe_text(f"<== {event.step}: {'done' if event.outcome is StepOutcome.DONE else 'skipped'} in {event.seconds:.1f}s {event.note}"))


def _plan(event) -> None:
    """The dry-run plan: every step and every command with its argv."""
    if isinstance(event, StepStarted):
        # A description may name an artifact's members or an operator's paths: never markup.
        out.print(safe_text("\n", (f"{event.index + 1}. {event.step}", "bold"), ": ", event.description, lines=True))
    elif isinstance(event, OutputLine):
        out.print(safe_text(f"   {event.text}"))


MARKS = {CheckStatus.OK: ("ok", "green"), CheckStatus.NOT_CHECKED: ("--", "dim"), CheckStatus.WARNING: ("warning:", "yellow")}


def report_readiness(readiness: Readiness, plan: bool) -> None:
    """The checks before a build, each said once.

    With `plan` (a dry run) every check but the errors is listed on stdout,
    above the plan; otherwise only the warnings, on stderr. Each error goes to
    stderr with its fix.
    """
    if plan:
        out.print(safe_text(("checks before the build", "bold")))
    for check in readiness.checks:
        if check.status is CheckStatus.ERROR or (not plan and check.status is not CheckStatus.WARNING):
            continue
        word, style = MARKS[check.status]
        # A check's message may quote a mirror's answer or a folder's name: never markup.
        line = safe_text("   " if plan else "emi-tui: ", (word.ljust(3), style), f" {check.label}: {check.message}", lines=True)
        (out if plan else err).print(line)
        if check.status is CheckStatus.WARNING and check.hint:
            (out if plan else err).print(safe_text("       " if plan else "  ", ("fix:", "dim"), f" {check.hint}", lines=True))
    for check in readiness.errors:
        err.print(safe_text(("emi-tui: error:", "bold red"), f" {check.label}: {check.message}", lines=True))
        if check.hint:
            err.print(safe_text("  ", ("fix:", "dim"), f" {check.hint}", lines=True))


def run(
    answers_file: Path, dry_run: bool, use_cache: bool, retry: bool, work_dir: Path | None, verbose: bool, recipes_dir: Path | None = None,
    bootstrapper: str | None = None, offline: bool = False, setup_emulation: bool = False,
) -> ExitCode:
    book = RecipeBook.named(recipes_dir)
    result = validate_file(answers_file, book)
    if not result.ok:
        return report_error(EmiError(f"{answers_file} has {len(result.problems)} problem(s); nothing was built", problems=result.problems))
    if setup_emulation:
        if dry_run:
            out.print(safe_text("--setup-emulation: nothing registered in a dry run (it changes the host's binfmt_misc)"))
        else:
            try:
                changed = emulation.setup_emulation(result.answers.arch)
            except EmiError as exc:
                return report_error(exc)
            except OSError as exc:  # binfmt_misc refuses the write: not root, or a container without it
                return report_error(EmiError(f"--setup-emulation: could not register: {exc.strerror or exc}",
                                             hint="run it as root on the host (a container may not change binfmt_misc)"))
            for line in changed:
                out.print(safe_text(f"emulation: {line}"))
    # The same checks as the wizard's Summary, before anything is written (a dry run's plan, or a real build's history and lock).
    readiness = check_readiness(result.answers, result.recipe, offline=offline, work_parent=work_dir)
    report_readiness(readiness, plan=dry_run)
    if not readiness.can_build:
        count = len(readiness.errors)
        err.print(safe_text(f"{answers_file}: {count} problem{'s' if count != 1 else ''} before the build; nothing was {'planned' if dry_run else 'built'}"))
        return ExitCode.BAD_INPUT
    options = BuildOptions(dry_run=dry_run, use_cache=use_cache, retry=retry, work_root=work_dir, bootstrapper=bootstrapper)
    if dry_run:
        build = run_build(result.answers, result.recipe, _plan, options=options, answers_path=answers_file)
    elif out.is_terminal and not verbose:
        view = LiveView()
        with Live(view, console=out, refresh_per_second=8, transient=False):
            build = run_build(result.answers, result.recipe, view.handle, options=options, answers_path=answers_file)
    else:
        def sink(event):
            _plain(event)
            if verbose and isinstance(event, OutputLine):
                out.print(safe_text(f"[{event.step}] {event.text}"))

        build = run_build(result.answers, result.recipe, sink, options=options, answers_path=answers_file)
    if build.ok:
        if dry_run:
            out.print(safe_text("\n", ("plan complete", "green"), f": nothing was run or written (log: {build.log_path})", lines=True))
            return ExitCode.OK
        out.print(f"[green]built[/] in {build.seconds:.0f}s:")
        for path in build.artifacts:
            out.print(safe_text(f"  {path}"))
        out.print(safe_text(build.image_id, lines=True), end="")
        return ExitCode.OK
    # The message may quote a member name or a command's output: never markup.
    err.print(safe_text((f"emi-tui: build {'cancelled' if build.cancelled else 'failed'}", "bold red"), " in step ",
                        (build.failed_step, "bold"), ": ", build.message, lines=True))
    if build.hint and build.hint != f"the full log is {build.log_path}":  # the log's path follows once, below
        err.print(safe_text(f"  hint: {build.hint}", lines=True))
    err.print(safe_text(f"  log: {build.log_path}"))
    err.print(safe_text(f"  retry: emi-tui build --retry {answers_file}"))
    return ExitCode.CANCELLED if build.cancelled else ExitCode.FAILED
