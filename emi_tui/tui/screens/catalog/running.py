"""Release a catalog, third screen: every image's build, live, one row each.

`run_catalog` runs in a thread worker with a cancel event; its events (the
catalog's own, and each image's build events wrapped in ImageEvent) arrive
in batches through the build screen's batcher (`run_in_batches`), so a flood
of log lines from four builds at once costs the UI a few messages a second.
Each row shows the image's step, its progress (weighted by the steps'
expected times, as on the build screen), its elapsed time and its result.
Enter on a row opens that image's live log. Esc (or ctrl+c) asks, then
cancels every build; each tears down as one build does. When every image is
built, the released catalog opens, reviewed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Static
from textual.worker import get_current_worker

from emi_tui.engine.build.progress import JobProgress
from emi_tui.engine.build.timings import from_history
from emi_tui.engine.catalog.build import CatalogFinished, CatalogOptions, CatalogStarted, ImageEvent, ImageFinished, ImageStarted
from emi_tui.engine.catalog.plan import CatalogPlan
from emi_tui.engine.catalog.resolve import ResolvedCatalog
from emi_tui.engine.run.events import JobFailed, JobKind, OutputLine, StepStarted
from emi_tui.engine.text import printable
from emi_tui.tui.messages import BuildEnded, BuildEvents
from emi_tui.tui.screens.catalog.image_log import CatalogImageLogScreen
from emi_tui.tui.screens.job.confirm_cancel import ConfirmCancel
from emi_tui.tui.screens.job.step_rows import format_elapsed
from emi_tui.tui.widgets.header import ScreenHeader
from emi_tui.tui.workers.build_worker import run_in_batches

#: Lines kept per image for its log view (four images building at once stay bounded).
IMAGE_LOG_LINES = 5_000
BAR_CELLS = 8
RESULT_STYLE = {"built": "$success", "failed": "$error", "cancelled": "$warning", "kept": "$success"}


def default_runner() -> Callable[..., Any]:
    """The engine's run_catalog, looked up when the build starts (a test stands in for it at the engine boundary)."""
    from emi_tui.engine.catalog import build

    return build.run_catalog


def progress_bar(fraction: float) -> str:
    """"█████░░░ 62%": a bar a table cell can hold."""
    filled = round(max(0.0, min(1.0, fraction)) * BAR_CELLS)
    return f"{'█' * filled}{'░' * (BAR_CELLS - filled)} {round(fraction * 100):>3}%"


@dataclass
class ImageRow:
    """One image's state on the screen."""

    heading: str
    progress: JobProgress
    state: str = "waiting"  # waiting | running | built | failed | cancelled | kept
    step: str = ""
    started: float | None = None
    seconds: float | None = None
    message: str = ""
    lines: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=IMAGE_LOG_LINES))


class CatalogRunScreen(Screen):
    """Builds the catalog and shows each image's row; Enter opens an image's log."""

    DEFAULT_CSS = """
    CatalogRunScreen #catalog-run { padding: 0 1; height: 1fr; }
    CatalogRunScreen #run-table { height: 1fr; }
    CatalogRunScreen #run-status { height: auto; }
    CatalogRunScreen #run-buttons { height: auto; align-horizontal: right; display: none; }
    CatalogRunScreen #run-buttons.-shown { display: block; }
    CatalogRunScreen #run-buttons Button { margin-left: 2; }
    """
    AUTO_FOCUS = "#run-table"
    BINDINGS = [
        Binding("escape", "cancel_build", "Cancel"),
        Binding("ctrl+c", "cancel_build", "Cancel", show=False, priority=True),
        Binding("escape", "back", "Back to the plan"),
        Binding("r", "retry", "Retry what failed"),
        Binding("v", "review", "Review the catalog"),
    ]

    status: reactive[str] = reactive("starting")
    """starting | running | cancelling | built | failed | cancelled"""

    def __init__(
        self, catalog: ResolvedCatalog, plan: CatalogPlan, jobs: int, *, runner: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.monotonic, expected: Callable[[JobKind, tuple[str, ...]], Mapping[str, float]] = from_history,
        batching: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.catalog, self.plan, self.jobs = catalog, plan, jobs
        self._runner = runner
        self._clock = clock
        self._expected = expected
        self._batching = batching or {}
        self._cancel = threading.Event()
        self.rows = {p.heading: ImageRow(p.heading, JobProgress(expected, clock)) for p in plan.images}
        self.result: Any | None = None
        self._log_screen: CatalogImageLogScreen | None = None
        self.sub_title = f"release a catalog · building {len(plan.images)} images"

    def compose(self) -> ComposeResult:
        yield ScreenHeader()
        with Vertical(id="catalog-run"):
            yield DataTable(id="run-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="run-status")
            with Horizontal(id="run-buttons"):
                yield Button("Back to the plan (esc)", id="run-back", compact=True)
                yield Button("Retry what failed (r)", id="run-retry", compact=True)
                yield Button("Review the catalog (v)", id="run-review", variant="primary", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#run-table", DataTable)
        widths = {"image": max([5, *(len(h) for h in self.rows)]), "step": 10, "progress": BAR_CELLS + 5, "elapsed": 7, "result": 9}
        for label, width in widths.items():
            table.add_column(label, key=label, width=width)
        colours = self.app.get_css_variables()
        for heading in self.rows:
            table.add_row(*self._cells(self.rows[heading], colours), key=heading)
        self._show_status(f"starting {len(self.rows)} builds, {self.jobs} at once… Enter on an image opens its log")
        self.set_interval(1.0, self._tick)
        self._run(self._cancel, False)

    def stop_running(self) -> None:
        """Stop every build (the app is going away): each unmounts and cleans up, then returns."""
        self._cancel.set()

    def on_unmount(self) -> None:
        # Leaving the screen (or quitting) must not leave builds running with their mounts.
        self._cancel.set()

    # -- running ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="catalog", exit_on_error=False)
    def _run(self, cancel: threading.Event, retry: bool) -> None:
        worker = get_current_worker()
        runner = self._runner or default_runner()
        # A retry builds only what is not built yet: the engine keeps each image's outcome in the output folder.
        options = CatalogOptions(jobs=self.jobs, retry_failed=retry)
        run_in_batches(self.post_message, lambda sink: runner(self.catalog, sink, cancel, options),
                       cancel=cancel, abandoned=lambda: worker.is_cancelled, **self._batching)

    @on(BuildEvents)
    def _events(self, message: BuildEvents) -> None:
        log = self._log_screen
        shown_lines: list[tuple[str, str]] = []  # the open log's image's new lines
        changed: set[str] = set()
        for event in message.events:
            if isinstance(event, ImageEvent) and isinstance(event.event, OutputLine):
                row = self.rows.get(event.heading)
                if row is not None:
                    row.lines.append((event.event.step, event.event.text))
                    if log is not None and event.heading == log.heading:
                        shown_lines.append((event.event.step, event.event.text))
                continue
            changed |= self._apply(event)
        if log is not None and shown_lines:
            log.add_lines(shown_lines)  # before its mount, it keeps them for then
        self._redraw(*changed)
        message.ack()

    def _apply(self, event: Any) -> set[str]:
        """Take one catalog event into the rows; the headings whose row changed."""
        now = self._clock()
        if isinstance(event, CatalogStarted):
            self.status = "running"
            for heading in event.already_built:
                if heading in self.rows:
                    self.rows[heading].state, self.rows[heading].message = "kept", "built by an earlier run"
            self._show_status(f"{len(event.building)} images building, {event.jobs.jobs} at once. Enter on an image opens its log")
            return set(event.already_built)
        if isinstance(event, ImageStarted) and event.heading in self.rows:
            row = self.rows[event.heading]
            row.state, row.started = "running", now
            return {event.heading}
        if isinstance(event, ImageEvent) and event.heading in self.rows:
            row = self.rows[event.heading]
            row.progress.feed(event.event)
            if isinstance(event.event, StepStarted):
                row.step = event.event.step
            elif isinstance(event.event, JobFailed):
                row.message = event.event.message
            return {event.heading}
        if isinstance(event, ImageFinished) and event.heading in self.rows:
            row = self.rows[event.heading]
            row.state, row.message = event.outcome, event.message or row.message
            row.seconds = (now - row.started) if row.started is not None else None
            return {event.heading}
        if isinstance(event, CatalogFinished):
            self.result = event.result
        return set()

    @on(BuildEnded)
    def _ended(self, message: BuildEnded) -> None:
        self.result = message.result if message.result is not None else self.result
        result = self.result
        if message.error is None and getattr(result, "ok", False):
            self.status = "built"
            written = ", ".join(p.name for p in result.written)
            self._show_status(f"every image built in {format_elapsed(result.seconds)}; written: {written}", "$success")
            self._ended_buttons()
            if self.app.screen is self:  # not over an image's log the operator is reading: v opens it from here
                self.action_review()
            return
        failed = [h for h, r in self.rows.items() if r.state == "failed"]
        cancelled = bool(getattr(result, "cancelled", False)) or self._cancel.is_set()
        self.status = "cancelled" if cancelled and not failed else "failed"
        if message.error is not None:
            text = f"the catalog build stopped: {message.error}"
        elif self.status == "cancelled":
            text = "cancelled: every build stopped and cleaned up; the images built are kept (emi-tui catalog build --retry-failed builds the rest)"
        else:
            text = (f"{len(failed)} image(s) failed: {', '.join(failed)}. The others are kept; no catalog was written. "
                    "Enter on a row shows its log; emi-tui catalog build --retry-failed builds only what failed")
        self._show_status(text, "$text-error" if self.status == "failed" else "$text-warning")
        self._ended_buttons()

    def _ended_buttons(self) -> None:
        self.query_one("#run-buttons").add_class("-shown")
        self.query_one("#run-review", Button).display = self.status == "built"
        self.query_one("#run-retry", Button).display = self.status in ("failed", "cancelled")
        self._redraw(*self.rows)

    # -- drawing ------------------------------------------------------------------------

    def watch_status(self, status: str) -> None:
        self.refresh_bindings()

    def _cells(self, row: ImageRow, colours: dict[str, str]) -> tuple[object, ...]:
        # Rich Text, not Content: DataTable draws Rich renderables, in the theme's colours.
        def styled(text: str, style: str) -> Text:
            return Text(text, style=colours.get(style.lstrip("$"), "dim") if style.startswith("$") else style)

        now = self._clock()
        if row.state == "running":
            elapsed: float | None = now - row.started if row.started is not None else 0.0
            progress = progress_bar(row.progress.fraction(now)) if row.progress.started else ""
            result = styled("cancelling" if self.status == "cancelling" else "building", "$accent")
        else:
            elapsed = row.seconds
            progress = progress_bar(1.0) if row.state in ("built", "kept") else ""
            result = styled(row.state, RESULT_STYLE.get(row.state, "dim"))
        return (Text(printable(row.heading)), row.step, progress, format_elapsed(elapsed) if elapsed is not None else "", result)

    def _redraw(self, *headings: str) -> None:
        if not headings:
            return
        table = self.query_one("#run-table", DataTable)
        colours = self.app.get_css_variables()  # the theme's colour system, made anew by each call: once per redraw
        for heading in headings:
            for column, value in zip(("image", "step", "progress", "elapsed", "result"), self._cells(self.rows[heading], colours), strict=True):
                table.update_cell(heading, column, value)

    def _tick(self) -> None:
        self._redraw(*(heading for heading, row in self.rows.items() if row.state == "running"))

    def _show_status(self, text: str, style: str = "") -> None:
        self.query_one("#run-status", Static).update(Content.styled(printable(text), style) if style else Content(printable(text)))

    # -- actions ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.status in ("starting", "running")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_build":
            return True if self.running else (None if self.status == "cancelling" else False)
        if action == "back":
            return self.status in ("built", "failed", "cancelled")
        if action == "review":
            return self.status == "built"
        if action == "retry":
            return self.status in ("failed", "cancelled")
        return True

    def action_cancel_build(self) -> None:
        def confirmed(stop: bool | None) -> None:
            if stop and self.running:
                self._cancel.set()
                self.status = "cancelling"
                self._show_status("cancelling: stopping every build and cleaning up…", "$text-warning")
                self._redraw(*self.rows)

        note = "Every running build stops and unmounts what it mounted. Images already built are kept."
        self.app.push_screen(ConfirmCancel(note), confirmed)

    @on(DataTable.RowSelected, "#run-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        heading = str(event.row_key.value)
        row = self.rows.get(heading)
        if row is None:
            return
        self._log_screen = CatalogImageLogScreen(heading, row.lines, IMAGE_LOG_LINES)
        # Once closed, its widgets are gone: nothing more is sent to it.
        self.app.push_screen(self._log_screen, lambda _: setattr(self, "_log_screen", None))

    @on(Button.Pressed, "#run-review")
    def action_review(self) -> None:
        if self.status != "built":
            return
        from emi_tui.tui.screens.catalog.end import CatalogEndScreen

        self.app.push_screen(CatalogEndScreen(self.catalog.folder, self.result))

    @on(Button.Pressed, "#run-retry")
    def action_retry(self) -> None:
        """Build again only the images not built: those built stay, and the catalog is written once all are."""
        if self.status not in ("failed", "cancelled"):
            return
        self._cancel = threading.Event()
        for row in self.rows.values():
            if row.state not in ("built", "kept"):
                row.state, row.step, row.started, row.seconds, row.message = "waiting", "", None, None, ""
                row.progress = JobProgress(self._expected, self._clock)
                row.lines.append(("retry", "──── retry ────"))
        self.result = None
        self.status = "starting"
        self.query_one("#run-buttons").remove_class("-shown")
        self._redraw(*self.rows)
        self._show_status("retrying the images not built…")
        self._run(self._cancel, True)

    @on(Button.Pressed, "#run-back")
    def action_back(self) -> None:
        self.dismiss(self.status)
