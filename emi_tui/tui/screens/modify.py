"""The modify screen: pick an artifact, see its image-id and review, choose changes, run `run_modify`.

`run_modify` runs in a thread worker with a cancel event; its events reach the
screen in batches through the build's `EventBatcher`, and feed a step list and
a log as on the build screen. The end shows the old image-id against the new
one and the packages added, removed and upgraded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static, Switch

from emi_tui.core.events import (
    BuildDone,
    BuildFailed,
    BuildStarted,
    OutputLine,
    StepFinished,
    StepStarted,
)
from emi_tui.core.packages import package_name_problem
from emi_tui.tui.build_worker import EventBatcher
from emi_tui.tui.messages import BuildEnded, BuildEvents, ReviewLoaded
from emi_tui.tui.screens import steady_inputs
from emi_tui.tui.widgets.log_view import LogView

ARTIFACT_SUFFIXES = (".tgz", ".tar.gz", ".tar.zst", ".tar.xz", ".tar", ".img")

#: modify_runner(request, sink, cancel) -> ModifyResult
ModifyRunner = Callable[..., Any]
Reviewer = Callable[[list[Path]], list[Any]]


def default_modify_runner(request: Any, sink: Any, cancel: threading.Event) -> Any:
    from emi_tui.core.modify import run_modify

    return run_modify(request, sink, cancel)


def default_reviewer(paths: list[Path]) -> list[Any]:
    from emi_tui.core.review import review_paths

    return review_paths(paths)


def artifact_problem(text: str) -> str | None:
    """Why `text` is not an artifact that can be modified, or None."""
    if not text.strip():
        return "give the path of a .tgz, .tar.zst, .tar.xz, .tar or .img"
    path = Path(text.strip()).expanduser()
    if not path.name.lower().endswith(ARTIFACT_SUFFIXES):
        return f"{path.name} is not a .tgz, .tar.zst, .tar.xz, .tar or .img"
    if not path.is_file():
        return f"no file at {path}"
    return None


def package_words(text: str) -> list[str]:
    return [word for word in text.replace(",", " ").split() if word]


def names_problem(names: list[str]) -> str | None:
    """The first name that is valid neither as a deb nor as an rpm package name."""
    for name in names:
        deb = package_name_problem(name, "deb")
        if deb and package_name_problem(name, "rpm"):
            return deb
    return None


class ModifyScreen(Screen):
    """Modify an existing image: the form, then the run, then old image-id against new."""

    DEFAULT_CSS = """
    ModifyScreen #modify-form { padding: 0 1; }
    ModifyScreen .field-problem { color: $text-error; height: auto; }
    ModifyScreen #current { height: auto; border: round $primary 50%; padding: 0 1; margin: 1 0; }
    ModifyScreen #upgrade-row { height: auto; }
    ModifyScreen #upgrade-row Label { padding: 1 1; }
    ModifyScreen #modify-run { display: none; padding: 0 1; }
    ModifyScreen.-running #modify-form { display: none; }
    ModifyScreen.-running #modify-run { display: block; }
    ModifyScreen #modify-steps { height: auto; border: round $primary 50%; padding: 0 1; }
    ModifyScreen #modify-log { height: 1fr; min-height: 6; }
    ModifyScreen #modify-result { height: auto; }
    ModifyScreen #modify-buttons { height: auto; }
    """
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", priority=True),
        Binding("escape", "back", "Cancel / Back"),
    ]

    def __init__(self, runner: ModifyRunner | None = None, reviewer: Reviewer | None = None, *, today: date | None = None,
                 name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.runner = runner or default_modify_runner
        self.reviewer = reviewer or default_reviewer
        self.today = today or date.today()
        self.cancel = threading.Event()
        self.running = False
        self.finished = False
        self.request: Any = None
        self.result: Any = None
        self.error: str | None = None
        self.steps: list[str] = []
        self.step_state: dict[str, str] = {}
        self.sub_title = "modify an image"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="modify-form"):
            yield Label("Artifact to modify", classes="field-label")
            yield Input(placeholder="path/to/euca-….tgz", id="artifact")
            yield Static(id="artifact-problem", classes="field-problem")
            current = Static("pick an artifact to see its image-id", id="current")
            current.border_title = "current /etc/image-id"
            yield current
            with Horizontal(id="upgrade-row"):
                yield Switch(False, id="upgrade")
                yield Label("Upgrade every package")
            yield Label("Packages to add (space-separated)", classes="field-label")
            yield Input(placeholder="htop rsync", id="add")
            yield Static(id="add-problem", classes="field-problem")
            yield Label("Packages to remove", classes="field-label")
            yield Input(placeholder="sudo", id="remove")
            yield Static(id="remove-problem", classes="field-problem")
            yield Label("Script to run in the image (optional)", classes="field-label")
            yield Input(placeholder="path/to/script.sh", id="script")
            yield Static(id="script-problem", classes="field-problem")
            yield Label("New version (empty: today)", classes="field-label")
            yield Input(placeholder=self.today.strftime("%Y.%m.%d"), id="version")
            yield Static(id="form-problem", classes="field-problem")
            yield Button("Start (ctrl+s)", id="start", variant="primary")
        with Vertical(id="modify-run"):
            steps = Static(id="modify-steps")
            steps.border_title = "steps"
            yield steps
            log = LogView(id="modify-log")
            log.border_title = "log"
            yield log
            yield Static(id="modify-result")
            with Horizontal(id="modify-buttons"):
                yield Button("Cancel (esc)", id="cancel", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        steady_inputs(self)
        self.query_one("#artifact", Input).focus()

    # -- the form ------------------------------------------------------------------

    @on(Input.Changed, "#artifact")
    def _artifact_changed(self, event: Input.Changed) -> None:
        problem = artifact_problem(event.value) if event.value.strip() else None
        self.query_one("#artifact-problem", Static).update(problem or "")
        if event.value.strip() and problem is None:
            self.query_one("#current", Static).update(Content.styled("reading…", "$text-muted"))
            self._review(Path(event.value.strip()).expanduser())

    @on(Input.Changed, "#add")
    @on(Input.Changed, "#remove")
    def _names_changed(self, event: Input.Changed) -> None:
        problem = names_problem(package_words(event.value))
        self.query_one(f"#{event.input.id}-problem", Static).update(problem or "")

    @on(Input.Changed, "#script")
    def _script_changed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        problem = None if not text or Path(text).expanduser().is_file() else f"no file at {text}"
        self.query_one("#script-problem", Static).update(problem or "")

    @work(thread=True, exclusive=True, group="review", exit_on_error=False)
    def _review(self, path: Path) -> None:
        try:
            entries = self.reviewer([path])
        except Exception as exc:  # review_paths should not raise; a stand-in might
            self.post_message(ReviewLoaded([path], [], f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ReviewLoaded([path], entries))

    @on(ReviewLoaded)
    def _review_loaded(self, message: ReviewLoaded) -> None:
        current = self.query_one("#current", Static)
        if str(message.paths[0]) != str(Path(self.query_one("#artifact", Input).value.strip()).expanduser()):
            return  # an older path's review
        if message.error:
            current.update(Content.styled(f"cannot review: {message.error}", "$text-error"))
            return
        lines: list[Content] = []
        for entry in message.entries:
            fields = getattr(entry, "fields", {}) or {}
            for key, value in fields.items():
                lines.append(Content.assemble((f"{key}", "bold"), f" = {value}"))
            for finding in getattr(entry, "problems", ()) or ():
                style = "$text-error" if finding.severity == "error" else "$warning"
                where = f"{finding.field}: " if finding.field else ""
                lines.append(Content.styled(f"{'✗' if finding.severity == 'error' else '•'} {where}{finding.message}", style))
            for check in getattr(entry, "hygiene", None) or ():
                if not getattr(check, "ok", True):
                    lines.append(Content.styled(f"• {getattr(check, 'name', check)}", "$warning"))
        current.update(Content("\n").join(lines) if lines else Content.styled("no image-id found", "$warning"))

    def form_problems(self) -> list[str]:
        problems = []
        artifact = self.query_one("#artifact", Input).value
        if problem := artifact_problem(artifact):
            problems.append(f"artifact: {problem}")
        for field in ("add", "remove"):
            if problem := names_problem(package_words(self.query_one(f"#{field}", Input).value)):
                problems.append(f"{field}: {problem}")
        script = self.query_one("#script", Input).value.strip()
        if script and not Path(script).expanduser().is_file():
            problems.append(f"script: no file at {script}")
        return problems

    def build_request(self) -> Any:
        from emi_tui.core.modify import ModifyRequest

        script = self.query_one("#script", Input).value.strip()
        return ModifyRequest(
            artifact=Path(self.query_one("#artifact", Input).value.strip()).expanduser(),
            upgrade=self.query_one("#upgrade", Switch).value,
            add=package_words(self.query_one("#add", Input).value),
            remove=package_words(self.query_one("#remove", Input).value),
            script=Path(script).expanduser() if script else None,
            version=self.query_one("#version", Input).value.strip() or None,
        )

    # -- the run -------------------------------------------------------------------

    def action_start(self) -> None:
        if self.running or self.finished:
            return
        problems = self.form_problems()
        self.query_one("#form-problem", Static).update("\n".join(f"✗ {p}" for p in problems))
        if problems:
            self.app.bell()
            return
        self.request = self.build_request()
        self.running = True
        self.add_class("-running")
        self.sub_title = f"modifying {self.request.artifact.name}"
        self._render_steps()
        self.query_one("#modify-log", LogView).focus()
        self._run(self.request)

    @work(thread=True, exclusive=True, group="modify", exit_on_error=False)
    def _run(self, request: Any) -> None:
        post = self.post_message
        batcher = EventBatcher(lambda events, ack: post(BuildEvents(events, ack)), cancel=self.cancel,
                               abandoned=lambda: not self.is_attached).start()
        result, error = None, None
        try:
            result = self.runner(request, batcher, self.cancel)
        except Exception as exc:  # shown, not lost
            error = f"{type(exc).__name__}: {exc}"
        finally:
            batcher.close()
        post(BuildEnded(result, error))

    @on(BuildEvents)
    def _events(self, message: BuildEvents) -> None:
        lines: list[str] = []
        steps_changed = False
        for event in message.events:
            if isinstance(event, OutputLine):
                lines.append(event.text)
            elif isinstance(event, BuildStarted):
                self.steps = list(event.steps)
                self.step_state = {step: "pending" for step in self.steps}
                steps_changed = True
            elif isinstance(event, StepStarted):
                if event.step not in self.step_state:
                    self.steps.append(event.step)
                self.step_state[event.step] = "running"
                steps_changed = True
            elif isinstance(event, StepFinished):
                self.step_state[event.step] = "skipped" if event.skipped else f"done {event.seconds:.1f}s"
                steps_changed = True
            elif isinstance(event, BuildFailed):
                self.step_state[event.step] = "cancelled" if event.cancelled else "FAILED"
                lines.append(f"✗ {event.message}")
                if event.hint:
                    lines.append(f"  {event.hint}")
                steps_changed = True
            elif isinstance(event, BuildDone):
                lines.append(f"✓ wrote {', '.join(Path(p).name for p in event.artifacts)}")
        self.query_one("#modify-log", LogView).add_lines(lines)
        if steps_changed:
            self._render_steps()
        message.ack()

    def _render_steps(self) -> None:
        if not self.steps:
            self.query_one("#modify-steps", Static).update(Content.styled("starting…", "$text-muted"))
            return
        marks = {"pending": ("·", "$text-muted"), "running": ("▶", "$accent"), "skipped": ("-", "$text-muted"),
                 "FAILED": ("✗", "$text-error"), "cancelled": ("✗", "$warning")}
        rows = []
        for step in self.steps:
            state = self.step_state.get(step, "pending")
            mark, style = marks.get(state, ("✓", "$success"))
            rows.append(Content.assemble((f"{mark} ", style), step, (f"  {state}", style)))
        self.query_one("#modify-steps", Static).update(Content("\n").join(rows))

    @on(BuildEnded)
    def _ended(self, message: BuildEnded) -> None:
        self.running = False
        self.finished = True
        self.result, self.error = message.result, message.error
        self.query_one("#cancel", Button).label = "Back (esc)"
        self.query_one("#modify-result", Static).update(self.result_text())
        self.sub_title = "image modified" if getattr(self.result, "ok", False) else "modify stopped"

    def result_text(self) -> Content:
        result = self.result
        if self.error:
            return Content.styled(f"✗ the modify stopped: {self.error}", "$text-error")
        if result is None:
            return Content.styled("✗ the modify returned nothing", "$text-error")
        if not result.ok:
            words = f"✗ {result.failed_step or 'modify'} failed: {result.message}"
            lines = [Content.styled(words, "$text-error")]
            if result.hint:
                lines.append(Content(f"  {result.hint}"))
            if result.log_path:
                lines.append(Content.styled(f"  log: {result.log_path}", "$text-muted"))
            return Content("\n").join(lines)
        lines = [Content.assemble(("✓ ", "$success"), ("Image modified", "bold"), f": {', '.join(Path(p).name for p in result.artifacts)}")]
        lines.append(Content.styled("old /etc/image-id", "bold"))
        lines += [Content(f"  {line}") for line in (result.old_image_id or "(none)").rstrip("\n").splitlines()]
        lines.append(Content.styled("new /etc/image-id", "bold"))
        lines += [Content(f"  {line}") for line in (result.new_image_id or "(none)").rstrip("\n").splitlines()]
        lines.append(Content.styled(f"added ({len(result.added)})", "bold"))
        lines += [Content.assemble(("  + ", "$success"), f"{name} {version}") for name, version in sorted(result.added.items())]
        lines.append(Content.styled(f"removed ({len(result.removed)})", "bold"))
        lines += [Content.assemble(("  - ", "$text-error"), f"{name} {version}") for name, version in sorted(result.removed.items())]
        lines.append(Content.styled(f"upgraded ({len(result.upgraded)})", "bold"))
        lines += [Content(f"  ↑ {name} {old} → {new}") for name, (old, new) in sorted(result.upgraded.items())]
        return Content("\n").join(lines)

    # -- actions -------------------------------------------------------------------

    def action_back(self) -> None:
        if self.running:
            if not self.cancel.is_set():
                self.cancel.set()
                self.query_one("#modify-log", LogView).add_lines(["cancelling…"])
            return
        self.dismiss(self.result)

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_back()
