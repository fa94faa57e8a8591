"""The build screen: the steps with their state and time, overall progress, and the live log.

The build runs in a thread worker (`build_worker.run_build_job`); its events
arrive here in batches. Cancelling asks first, then sets the build's cancel
event: the engine stops the current command and cleans up, and reports a
cancelled JobFailed. A failure opens a panel with the step, the last lines
of its output and the log path, and offers Retry and Back to summary. A build
that succeeds opens the DoneScreen.

Progress is weighted by each step's expected time (the last builds' timings,
emi_tui.engine.build.timings) and shows an ETA; the bootstrap's packages come
as StepProgress events. The log's tools (search, step filter, save, wrap,
copy its path) are in emi_tui.tui.screens.job.log_tools.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Footer, ProgressBar, Static
from textual.worker import get_current_worker

from emi_tui.engine.build.history import record_outcome
from emi_tui.engine.build.progress import JobProgress, format_eta
from emi_tui.engine.build.timings import from_history
from emi_tui.engine.run.events import (
    JobDone,
    JobFailed,
    JobKind,
    JobStarted,
    OutputLine,
    StepFinished,
    StepOutcome,
    StepStarted,
)
from emi_tui.tui.messages import BuildEnded, BuildEvents
from emi_tui.tui.screens.job.confirm_cancel import ConfirmCancel, retry_note
from emi_tui.tui.screens.job.done import DoneScreen
from emi_tui.tui.screens.job.log_tools import LOG_TOOL_BINDINGS, LogPath, LogTools, SearchBar
from emi_tui.tui.screens.job.step_rows import DryRunPlan, StepRow, format_elapsed, render_rows
from emi_tui.tui.widgets.header import ScreenHeader
from emi_tui.tui.widgets.log_view import LogView
from emi_tui.tui.workers.build_worker import Job, Runner, build_options, run_build_job

TAIL_LINES = 12
#: The failure panel shows this many of them, so its buttons stay on screen in a small terminal.
PANEL_TAIL_LINES = 8
PROGRESS_STEPS = 1000  # the bar's total: the weighted fraction in thousandths


class BuildScreen(LogTools, Screen):
    """Runs one build and shows it live; Retry and Back once it has stopped."""

    DEFAULT_CSS = """
    BuildScreen #body { height: 1fr; }
    BuildScreen #side { width: 34; padding: 0 1; }
    BuildScreen #steps { height: auto; }
    BuildScreen #progress { margin-top: 1; width: 100%; }
    BuildScreen #progress Bar { width: 1fr; }
    BuildScreen #counts { color: $text-muted; }
    BuildScreen #step-detail { color: $text-muted; height: auto; }
    BuildScreen #main { width: 1fr; }
    BuildScreen #current { height: auto; padding: 0 1; color: $text-muted; }
    BuildScreen LogView { height: 1fr; }
    BuildScreen #failure {
        display: none; height: auto;
        border: round $error; border-title-color: $error; padding: 0 1;
    }
    BuildScreen #failure.-shown { display: block; }
    BuildScreen #failure.-cancelled { border: round $warning; border-title-color: $warning; }
    BuildScreen #failure-tail { color: $text-muted; }
    BuildScreen #failure-log { text-overflow: fold; }
    BuildScreen #failure-buttons { height: auto; }
    BuildScreen #failure-buttons Button { margin-right: 2; }
    BuildScreen #failure-log { margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel_build", "Cancel build"),
        Binding("escape", "back", "Back to summary"),
        Binding("r", "retry", "Retry"),
        Binding("f", "follow_log", "Follow log"),
        Binding("o", "open_results", "Results"),
        *LOG_TOOL_BINDINGS,
    ]

    status: reactive[str] = reactive("starting")
    """starting | running | cancelling | failed | cancelled | done"""

    def __init__(
        self,
        answers: Any,
        recipe: Any,
        answers_path: Path,
        dry_run: bool = False,
        *,
        runner: Runner | None = None,
        options_factory: Callable[..., Any] = build_options,
        clock: Callable[[], float] = time.monotonic,
        max_log_lines: int = 10_000,
        batching: dict[str, Any] | None = None,
        job: Job | None = None,
        title: str | None = None,
        expected: Callable[[JobKind, tuple[str, ...]], Mapping[str, float]] = from_history,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.answers = answers
        self.recipe = recipe
        self.answers_path = answers_path
        self.dry_run = dry_run
        self._runner = runner
        self._options_factory = options_factory
        self._clock = clock
        self._max_log_lines = max_log_lines
        self._batching = batching or {}
        self._job = job  # another engine than run_build (a modify), with the same events
        self._expected = expected
        self.progress = JobProgress(expected, clock)
        #: Whether the base system is in the cache (a retry then starts from it): a hit, or a store the build reported.
        self.base_cached = False
        #: A dry run's plan: each step's description and the commands it would run (shown on the Done screen).
        self._plan = DryRunPlan(max_log_lines)
        self._cancel = threading.Event()
        self._rows: dict[str, StepRow] = {}
        self._tails: dict[str, deque[str]] = {}
        self._step_width = 10
        self._current: StepStarted | None = None
        self._failure: JobFailed | None = None
        self._done: JobDone | None = None
        self.result: Any | None = None
        self.log_path: Path | None = None
        self.batches_received = 0
        self.lines_received = 0
        image = getattr(getattr(answers, "image", None), "file", None) or "the image"
        self.sub_title = title or f"{'Dry run of' if dry_run else 'Building'} {image}"

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ScreenHeader()
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield Static(id="steps")
                yield ProgressBar(id="progress", show_eta=False)
                yield Static(id="counts")
                yield Static(id="step-detail")
            with Vertical(id="main"):
                yield Static(id="current")
                yield LogPath(id="log-path")
                yield LogView(max_lines=self._max_log_lines, id="log")
                yield SearchBar(id="log-search")
                with Vertical(id="failure"):
                    yield Static(id="failure-text")
                    yield Static(id="failure-tail")
                    yield Static(id="failure-log")
                    with Horizontal(id="failure-buttons"):
                        yield Button("Retry (r)", variant="primary", id="retry", compact=True)
                        yield Button("Back (esc)" if self._job else "Back to summary (esc)", id="back", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(LogView).border_title = "log"
        self.set_interval(1.0, self._tick)
        self._start(retry=False)

    def stop_running(self) -> None:
        """Stop the build (the app is going away): the engine unmounts and cleans up, then returns."""
        self._cancel.set()

    def on_unmount(self) -> None:
        # Leaving the screen (or quitting) must not leave a build running with its mounts.
        self._cancel.set()

    # -- running ------------------------------------------------------------------------

    def _start(self, retry: bool) -> None:
        self._cancel = threading.Event()
        self._rows, self._tails = {}, {}
        self._current = self._failure = self._done = None
        self._plan = DryRunPlan(self._max_log_lines)
        self.result = None
        self.query_one("#failure").remove_class("-shown", "-cancelled")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.progress = JobProgress(self._expected, self._clock)
        self.status = "starting"
        self._render_steps()
        self._show_current("starting the build…")
        if retry:
            self.query_one(LogView).add_lines(["", "──── retry ────", ""])
        self._run(None if self._job else self._options_factory(dry_run=self.dry_run, retry=retry), self._cancel, retry)

    @work(thread=True, exclusive=True, group="build", exit_on_error=False)
    def _run(self, options: Any, cancel: threading.Event, retry: bool) -> None:
        worker = get_current_worker()
        if self._job is not None:
            self._job(self.post_message, cancel, lambda: worker.is_cancelled, retry, **self._batching)
            return
        run_build_job(
            self.post_message, answers=self.answers, recipe=self.recipe, answers_path=self.answers_path, options=options,
            cancel=cancel, runner=self._runner, abandoned=lambda: worker.is_cancelled, **self._batching,
        )

    @on(BuildEvents)
    def _events(self, message: BuildEvents) -> None:
        self.batches_received += 1
        lines: list[str] = []
        tags: list[str] = []
        for event in message.events:
            self.progress.feed(event)
            if self.dry_run:
                self._plan.feed(event)
            if isinstance(event, OutputLine):
                lines.append(f"{event.step:<{self._step_width}} │ {event.text}")
                tags.append(event.step)
                (self._tails.get(event.step) or self._tails.setdefault(event.step, deque(maxlen=TAIL_LINES))).append(event.text)
                if event.text.startswith(("cache: hit ", "cache: stored ")):
                    self.base_cached = True
            else:
                self._apply(event)
        self.lines_received += len(lines)
        self.query_one(LogView).add_lines(lines, tags)
        if len(lines) != len(message.events):
            self._render_steps()
        message.ack()

    def _apply(self, event: Any) -> None:
        if isinstance(event, JobStarted):
            self._rows = {name: StepRow(name) for name in event.steps}
            self._step_width = max((len(name) for name in event.steps), default=10)
            self.log_path = event.log_path
            self.show_log_path(event.log_path)
            self.query_one(ProgressBar).update(total=PROGRESS_STEPS, progress=0)
            self.status = "running"
        elif isinstance(event, StepStarted):
            row = self._rows.setdefault(event.step, StepRow(event.step))
            row.state, row.started = "running", self._clock()
            self._current = event
            if self.status == "running":
                self._show_current(f"{event.step}: {event.description}")
        elif isinstance(event, StepFinished):
            row = self._rows.setdefault(event.step, StepRow(event.step))
            row.state = "skipped" if event.skipped else "done"
            row.seconds, row.note = event.seconds, event.note
            if event.step == "bootstrap" and event.outcome is StepOutcome.CACHED:
                self.base_cached = True
        elif isinstance(event, JobFailed):
            row = self._rows.setdefault(event.step, StepRow(event.step))
            row.state = "cancelled" if event.cancelled else "failed"
            if row.started is not None:
                row.seconds = self._clock() - row.started
            self._failure = event
            self.log_path = event.log_path
        elif isinstance(event, JobDone):
            self._done = event

    @on(BuildEnded)
    def _ended(self, message: BuildEnded) -> None:
        self.result = message.result
        ok = message.error is None and (getattr(message.result, "ok", False) or self._done is not None)
        if ok and self._failure is None:
            self._record_outcome("dry run" if self.dry_run else "built")
            self.status = "done"
            self.query_one(ProgressBar).update(total=PROGRESS_STEPS, progress=PROGRESS_STEPS)
            self._show_current(f"finished in {format_elapsed(self._done.seconds if self._done else 0)}")
            self.action_open_results()
            return
        failure = self._failure
        if failure is None:  # the runner raised, or returned a failure without saying so in an event
            result = message.result
            failure = JobFailed(
                step=getattr(result, "failed_step", None) or (self._current.step if self._current else "build"),
                message=message.error or getattr(result, "message", "") or "the build stopped",
                hint=getattr(result, "hint", "") or "",
                log_path=getattr(result, "log_path", None) or self.log_path or Path("-"),
            )
            self._apply(failure)
        self.status = "cancelled" if failure.cancelled else "failed"
        self._record_outcome(self.status)
        self._show_failure(failure)

    def _record_outcome(self, outcome: str) -> None:
        """Keep how the build ended beside its answers in the history (Home lists it), when they are there."""
        if self._job is None:
            record_outcome(self.answers_path, outcome)

    # -- drawing ------------------------------------------------------------------------

    def watch_status(self, status: str) -> None:
        self.refresh_bindings()

    def _tick(self) -> None:
        if self.status in ("running", "cancelling"):
            self._render_steps()

    def _render_steps(self) -> None:
        now = self._clock()
        self.query_one("#steps", Static).update(render_rows(self._rows.values(), now))
        done = sum(r.state in ("done", "skipped") for r in self._rows.values())
        running = self.status in ("running", "cancelling")
        eta = format_eta(self.progress.eta(now)) if running and self.progress.started else ""
        counts = f"{done} of {len(self._rows)} steps" + (f" · {eta}" if eta else "")
        self.query_one("#counts", Static).update(counts if self._rows else "")
        detail = self.progress.detail if running and self.progress.current else ""
        self.query_one("#step-detail", Static).update(Content(detail))
        if self.progress.started and self.status != "done":
            self.query_one(ProgressBar).update(progress=round(self.progress.fraction(now) * PROGRESS_STEPS))

    def _show_current(self, text: str) -> None:
        self.query_one("#current", Static).update(Content(text))

    def _show_failure(self, failure: JobFailed) -> None:
        panel = self.query_one("#failure")
        cancelled = failure.cancelled
        panel.border_title = "Build cancelled" if cancelled else "Build failed"
        headline = f"cancelled during step {failure.step}" if cancelled else f"step {failure.step} failed: {failure.message}"
        text = Content.assemble((headline, "bold"))
        if failure.hint:
            text = Content.assemble(text, "\n", ("hint: ", "$text-muted"), failure.hint)
        self.query_one("#failure-text", Static).update(text)
        tail = list(failure.last_lines) or list(self._tails.get(failure.step, ()))
        lines = [Content.styled(f"last lines of {failure.step}:", "$text")] + [Content(f"  {line}") for line in tail[-PANEL_TAIL_LINES:]]
        self.query_one("#failure-tail", Static).update(Content("\n").join(lines) if tail else "")
        self.query_one("#failure-log", Static).update(Content.assemble(("full log: ", "$text-muted"), str(failure.log_path)))
        panel.set_class(cancelled, "-cancelled")
        panel.add_class("-shown")
        self._show_current("cancelled" if cancelled else f"failed at {failure.step}")
        self._render_steps()
        self.query_one("#retry", Button).focus()

    # -- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        stopped = self.status in ("failed", "cancelled")
        if action == "cancel_build":
            return True if self.status in ("starting", "running") else (None if self.status == "cancelling" else False)
        if action == "back":
            return stopped or self.status == "done"
        if action == "retry":
            return stopped
        if action == "open_results":
            return self.status == "done"
        if action == "follow_log":
            logs = self.query(LogView)
            return None if not logs or logs.first().following else True
        return True

    def action_cancel_build(self) -> None:
        def confirmed(stop: bool | None) -> None:
            if stop and self.status in ("starting", "running"):
                self._cancel.set()
                self.status = "cancelling"
                self._show_current("cancelling: stopping the running command and cleaning up…")

        self.app.push_screen(ConfirmCancel(retry_note(modify=self._job is not None, base_cached=self.base_cached)), confirmed)

    def log_steps(self) -> list[str]:
        return list(self._rows)

    def action_back(self) -> None:
        self.dismiss(self.status)

    def action_retry(self) -> None:
        self._start(retry=True)

    def action_follow_log(self) -> None:
        self.query_one(LogView).follow()

    def action_open_results(self) -> None:
        outcome = self.result if getattr(self.result, "artifacts", None) is not None else self._done
        self.app.push_screen(DoneScreen(outcome, self.answers, dry_run=self.dry_run, plan=self._plan.text() if self.dry_run else ""))

    @on(LogView.FollowChanged)
    def _follow_changed(self) -> None:
        self.refresh_bindings()

    @on(Button.Pressed, "#retry")
    async def _retry_pressed(self) -> None:
        await self.run_action("retry")

    @on(Button.Pressed, "#back")
    async def _back_pressed(self) -> None:
        await self.run_action("back")
