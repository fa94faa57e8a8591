"""Step 6, Summary: the answer file as it will be saved, its problems, the readiness checks, Save, Dry run and Build.

Nothing runs as root from one key here. Dry run (ctrl+d) shows the plan. Build
(ctrl+n) waits for the readiness checks (emi_tui.engine.build.readiness, run in
a thread, again whenever the answers or the offline switch change); errors
keep it off, warnings make it ask twice, and then a dialog names what will run
as root, with Cancel focused. Arriving here focuses the list, never Build.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Label, OptionList, Static, Switch
from textual.widgets.option_list import Option

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.answers.storage import render_answers, save_answers
from emi_tui.engine.answers.trust import recipe_override_warning, trust_warnings
from emi_tui.engine.build.readiness import CheckStatus, Readiness, check_readiness
from emi_tui.engine.errors import Problem
from emi_tui.engine.text import printable
from emi_tui.tui.screens.step import StepScreen, update_if_changed
from emi_tui.tui.screens.wizard.confirm_build import ConfirmRoot, build_root_lines
from emi_tui.tui.screens.wizard.metadata import highlighted
from emi_tui.tui.screens.wizard.preflight import ReadinessCheck, check_line, run_checks, verdict
from emi_tui.tui.state.wizard_state import STEP_TITLES, WizardState, history_dir, history_path, step_for_key, tilde
from emi_tui.tui.widgets.path_prompt import ask_save_answers

#: How long the answers must stay unchanged before the checks run again (they may ask the mirror).
DEBOUNCE_S = 0.4


class SummaryScreen(StepScreen):
    """The answers as YAML beside their problems and checks; Save answers…, Dry run and Build…."""

    STEP = "summary"
    INTRO = "The answer file this wizard wrote, and the checks a build needs. Dry run shows the plan; Build asks first."
    AUTO_FOCUS = "#problem-list"
    _shown_yaml = ""
    BINDINGS = [
        Binding("ctrl+n", "next", "Build", priority=True),
        Binding("ctrl+d", "dry_run", "Dry run", priority=True),
        Binding("ctrl+s", "save", "Save answers…", priority=True),
    ]

    class Build(Message):
        """A build was asked for (and, unless a dry run, confirmed): these answers, saved at `answers_path`, are valid."""

        def __init__(self, answers: Answers, recipe: Recipe, answers_path: Path, dry_run: bool) -> None:
            super().__init__()
            self.answers, self.recipe, self.answers_path, self.dry_run = answers, recipe, answers_path, dry_run

    def __init__(self, wizard: WizardState, *, now: Callable[[], datetime], readiness: ReadinessCheck | None = None) -> None:
        """`now` dates the copy of the answers that Build keeps in the history; `readiness` runs the checks."""
        super().__init__(wizard)
        self._now = now
        self._readiness_check: ReadinessCheck = readiness or check_readiness
        self.readiness: Readiness | None = None
        self._checks_key: tuple[int, bool] | None = None  # what the shown (or running) checks were made for
        self._checks_running = False
        self._debounce: Timer | None = None
        self._warned_for: tuple[int, bool] | None = None  # Build was pressed once despite these checks' warnings

    @property
    def checks_done(self) -> bool:
        """Whether the readiness checks of the answers as they are now have come back (snapshots wait for this)."""
        return self.readiness is not None and not self._checks_running

    @property
    def offline(self) -> bool:
        """The offline switch, kept on the wizard state so it outlives this screen."""
        return self.wizard.offline

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="summary-columns"):
            with VerticalScroll(id="answers-yaml", classes="column"):
                yield Static(id="yaml")
            with Vertical(id="summary-side", classes="column"):
                yield Label("Problems and checks", classes="field-label")
                yield OptionList(id="problem-list")
                yield Static(id="check-verdict")
                with Horizontal(id="offline-row", classes="switch-row"):
                    yield Switch(self.offline, id="offline")
                    yield Label("Offline (no mirror checks)")
                yield Static(id="saved-note")

    def compose_nav(self) -> ComposeResult:
        yield Button("Back", id="back")
        yield Static(id="nav-note")
        yield Button("Save answers…", id="save")
        yield Button("Dry run", id="dry-run")
        yield Button("Build…", id="build", variant="success")

    # -- drawing ---------------------------------------------------------------------

    def show_problems(self, problems: list[Problem], notes: list[Problem]) -> None:
        if not self.has_body:
            return super().show_problems(problems, notes)
        listing = self.query_one("#problem-list", OptionList)
        highlighted_index = listing.highlighted
        listing.clear_options()
        for index, problem in enumerate(problems):
            step = step_for_key(problem.key)
            label = Content.from_markup(
                "[$text-error]✗[/] [b]$key[/b]: $message [dim]→ $step[/]",
                key=printable(problem.key or "(file)"),
                message=printable(problem.message),  # quotes the answer file's values
                step=STEP_TITLES.get(step, step),
            )
            listing.add_option(Option(label, id=f"p{index}:{step}"))
        for warning in self._trust_warnings():
            listing.add_option(Option(Content.from_markup("[$text-warning]⚠ warning:[/] $w", w=printable(warning)), disabled=True))
        for note in notes:
            listing.add_option(Option(Content.from_markup("[$text-warning]•[/] dropped from the file: $n", n=printable(str(note))), disabled=True))
        if problems:
            listing.add_option(Option(Content.from_markup("[$text-muted]The checks run once the problems are fixed.[/]"), disabled=True))
        elif not notes:
            listing.add_option(Option(Content.from_markup("[$text-success]✓[/] No problems in the answers."), disabled=True))
        if not problems and self.readiness is not None and not self._checks_running:
            for index, check in enumerate(self.readiness.checks):
                step = step_for_key(check.key) if check.key else ""
                listing.add_option(Option(check_line(check), id=f"c{index}:{step}" if step else None, disabled=not step))
        if highlighted_index is not None and listing.option_count:
            listing.highlighted = min(highlighted_index, listing.option_count - 1)
        self._show_buttons(problems)
        self.query_one("#step-problems", Static).set_class(False, "-shown")

    def _show_buttons(self, problems: list[Problem]) -> None:
        ready = self.readiness is not None and not self._checks_running
        self.query_one("#dry-run", Button).disabled = bool(problems)
        self.query_one("#build", Button).disabled = bool(problems) or not ready or not self.readiness.can_build  # type: ignore[union-attr]
        text = verdict(self.readiness, self._checks_running) if not problems else Content("")
        if not problems and ready and self._warned_for == self._checks_key and self.readiness is not None and self.readiness.warnings:
            count = len(self.readiness.warnings)
            text = Content.from_markup("[$text-warning]Press Build again to build despite $n.[/]",
                                       n=f"{count} warning{'s' if count > 1 else ''}")
        update_if_changed(self.query_one("#check-verdict", Static), text)
        self.refresh_bindings()

    def _trust_warnings(self) -> list[str]:
        """What the build's plan will warn of: a recipe that replaces a shipped one, sources used unchecked."""
        answers, recipe = self.wizard.resolved(), self.wizard.recipe
        if recipe is None:
            return []
        if answers is None:
            override = recipe_override_warning(recipe)
            return [override] if override else []
        return trust_warnings(answers, recipe)

    def state_refreshed(self) -> None:
        answers = self.wizard.resolved() or self.wizard.answers
        text = render_answers(answers)
        if text != self._shown_yaml:
            self._shown_yaml = text
            # YAML escapes control characters but leaves bidi overrides and separators as they are.
            self.query_one("#yaml", Static).update(highlighted(printable(text, keep_newlines=True), "yaml"))
        note = self.query_one("#saved-note", Static)
        if self.wizard.saved and self.wizard.saved_path is not None:
            note.update(Content.from_markup("Saved as [b]$path[/b].", path=printable(tilde(self.wizard.saved_path))))
        else:
            note.update(Content.from_markup("Not saved yet: Build saves it in [b]$dir[/b].", dir=tilde(history_dir())))
        self._schedule_checks()

    # -- the readiness checks -----------------------------------------------------------

    def _schedule_checks(self) -> None:
        """Run the checks again when the answers or the offline switch changed: at once the first time, then debounced."""
        key = (self.wizard.revision, self.offline)
        if key == self._checks_key or self.wizard.resolved() is None:
            return
        first = self._checks_key is None
        self._checks_key, self._checks_running = key, True
        if self._debounce is not None:
            self._debounce.stop()
        if first:
            self._start_checks()
        else:
            self._debounce = self.set_timer(DEBOUNCE_S, self._start_checks)
        self.call_after_refresh(self.refresh_state)

    def _start_checks(self) -> None:
        answers, recipe = self.wizard.resolved(), self.wizard.recipe
        if answers is None or recipe is None or self._checks_key is None:
            return
        self._run_checks(answers, recipe, self._checks_key)

    @work(thread=True, exclusive=True, group="readiness", exit_on_error=False)
    def _run_checks(self, answers: Answers, recipe: Recipe, key: tuple[int, bool]) -> None:
        """Off the UI loop: the checks may ask the mirror, which can take seconds."""
        readiness = run_checks(self._readiness_check, answers, recipe, offline=key[1])
        self.app.call_from_thread(self._checked, key, readiness)

    def _checked(self, key: tuple[int, bool], readiness: Readiness) -> None:
        if key != self._checks_key or not self.is_attached:
            return  # the answers changed while these ran: newer checks are on their way
        self.readiness, self._checks_running = readiness, False
        self.refresh_state()

    @on(Switch.Changed, "#offline")
    def _offline_switched(self, event: Switch.Changed) -> None:
        event.stop()
        self.wizard.offline = event.value  # type: ignore[attr-defined]
        self.refresh_state()

    # -- what the operator asks for ---------------------------------------------------------

    @on(OptionList.OptionSelected, "#problem-list")
    def _problem_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and event.option.id.split(":", 1)[1]:
            self.post_message(self.Open(event.option.id.split(":", 1)[1]))

    @on(Button.Pressed, "#save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#dry-run")
    def _dry_run_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_dry_run()

    @on(Button.Pressed, "#build")
    def _build_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_next()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "dry_run" and self.wizard.problems():
            return None
        if action == "next":
            ready = self.readiness is not None and not self._checks_running and self.readiness.can_build
            return True if ready and not self.wizard.problems() else None
        return super().check_action(action, parameters)

    def action_save(self) -> None:
        """Ask where, then save the answers (with their comments) there; a missing folder is asked about first."""
        wizard = self.wizard
        suggested = wizard.saved_path or Path(f"{Path(wizard.image_defaults().file or 'answers').stem}.yaml")
        ask_save_answers(self, lambda: wizard.resolved() or wizard.answers, suggested, self._saved)

    def _saved(self, path: Path) -> None:
        self.wizard.mark_saved(path)
        self.refresh_state()
        self.query_one("#save", Button).focus()  # never Build: the next Enter must not start anything

    def action_dry_run(self) -> None:
        """Show the plan: nothing runs as root, so no confirmation (errors of the checks are said, not blocking)."""
        if self.readiness is not None and self.readiness.errors and not self._checks_running:
            self.notify(f"The dry run shows the plan and stops at the {len(self.readiness.errors)} error(s) the checks found.",
                        severity="warning", markup=False)
        self._launch(dry_run=True)

    def action_next(self) -> None:
        """Build…: only with the checks passed, warnings pressed through, and the root dialog confirmed."""
        answers, recipe, readiness = self.wizard.resolved(), self.wizard.recipe, self.readiness
        if answers is None or recipe is None:
            self.app.bell()
            return
        if (self.wizard.revision, self.offline) != self._checks_key:
            self.refresh_state()  # the answers changed under this screen: its checks are for others
        if readiness is None or self._checks_running or self.readiness is not readiness:
            self.app.bell()
            self.notify("The readiness checks are still running.", markup=False)
            return
        if not readiness.can_build:
            self.app.bell()
            self.notify(f"{len(readiness.errors)} check(s) failed: fix them first (a dry run still shows the plan).",
                        severity="error", markup=False)
            return
        if readiness.warnings and self._warned_for != self._checks_key:
            self._warned_for = self._checks_key
            self.app.bell()
            self.refresh_state()
            return
        unchecked = len(readiness.with_status(CheckStatus.NOT_CHECKED))
        lines = build_root_lines(answers, recipe)
        if unchecked:
            lines.append(f"({unchecked} check(s) not made: offline)")
        dialog = ConfirmRoot(f"Build {answers.image.file or 'the image'} as root?", lines, "Build as root")
        self.app.push_screen(dialog, self._build_confirmed)

    def _build_confirmed(self, confirmed: bool | None) -> None:
        if confirmed:
            self._launch(dry_run=False)

    def _launch(self, *, dry_run: bool) -> None:
        """Save the answers (to the history when not saved elsewhere), then ask the App for the build."""
        wizard = self.wizard
        answers, recipe = wizard.resolved(), wizard.recipe
        if answers is None or recipe is None:
            self.app.bell()
            return
        path = wizard.saved_path if wizard.saved and wizard.saved_path else history_path(self._now(), answers)
        if not wizard.saved:
            try:
                save_answers(answers, path)
            except OSError as exc:
                self.notify(f"Cannot save the answers before the build: {printable(str(exc))}", severity="error", markup=False)
                return
            wizard.mark_saved(path)
        self.refresh_state()
        self.post_message(self.Build(answers, recipe, path, dry_run=dry_run))
