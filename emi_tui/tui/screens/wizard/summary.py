"""Step 6, Summary: the answer file as it will be saved, every problem with its key path, Save and Build."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Checkbox, Label, OptionList, Static
from textual.widgets.option_list import Option

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.answers.storage import render_answers, save_answers
from emi_tui.engine.answers.trust import recipe_override_warning, trust_warnings
from emi_tui.engine.errors import Problem
from emi_tui.engine.text import printable
from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.screens.wizard.metadata import highlighted
from emi_tui.tui.state.wizard_state import STEP_TITLES, WizardState, history_dir, history_path, step_for_key, tilde
from emi_tui.tui.widgets.path_prompt import PathPrompt


class SummaryScreen(StepScreen):
    """The answers as YAML beside their problems; Save answers… and Build (only when nothing is wrong)."""

    STEP = "summary"
    INTRO = "The answer file this wizard wrote. Build saves it first, so that the build can be replayed."
    AUTO_FOCUS = "#build"
    _shown_yaml = ""
    BINDINGS = [
        Binding("ctrl+n", "next", "Build", priority=True),
        Binding("ctrl+s", "save", "Save answers…", priority=True),
        Binding("ctrl+d", "toggle_dry_run", "Dry run"),
    ]

    class Build(Message):
        """Build was asked for: these answers, saved at `answers_path`, are valid; the App starts the build."""

        def __init__(self, answers: Answers, recipe: Recipe, answers_path: Path, dry_run: bool) -> None:
            super().__init__()
            self.answers, self.recipe, self.answers_path, self.dry_run = answers, recipe, answers_path, dry_run

    def __init__(self, wizard: WizardState, *, now: Callable[[], datetime]) -> None:
        """`now` dates the copy of the answers that Build keeps in the history."""
        super().__init__(wizard)
        self._now = now

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="summary-columns"):
            with VerticalScroll(id="answers-yaml", classes="column"):
                yield Static(id="yaml")
            with Vertical(id="summary-side", classes="column"):
                yield Label("Problems", classes="field-label")
                yield OptionList(id="problem-list")
                yield Static(id="saved-note")
                yield Checkbox("Dry run (plan only)", id="dry-run")

    def compose_nav(self) -> ComposeResult:
        yield Button("Back", id="back")
        yield Static(id="nav-note")
        yield Button("Save answers…", id="save")
        yield Button("Build", id="build", variant="success")

    def show_problems(self, problems: list[Problem], notes: list[Problem]) -> None:
        if not self.has_body:
            return super().show_problems(problems, notes)
        listing = self.query_one("#problem-list", OptionList)
        listing.clear_options()
        for index, problem in enumerate(problems):
            step = step_for_key(problem.key)
            label = Content.from_markup(
                "[$text-error]✗[/] [b]$key[/b]: $message [dim]→ $step[/]",
                key=printable(problem.key or "(file)"),
                message=printable(problem.message),  # quotes the answer file's values
                step=STEP_TITLES.get(step, step),
            )
            listing.add_option(Option(label, id=f"{index}:{step}"))
        for warning in self._trust_warnings():
            listing.add_option(Option(Content.from_markup("[$text-warning]⚠ warning:[/] $w", w=printable(warning)), disabled=True))
        for note in notes:
            listing.add_option(Option(Content.from_markup("[$text-warning]•[/] dropped from the file: $n", n=printable(str(note))), disabled=True))
        if not problems and not notes:
            listing.add_option(Option(Content.from_markup("[$text-success]✓[/] No problems: ready to build."), disabled=True))
        self.query_one("#build", Button).disabled = bool(problems)
        self.query_one("#step-problems", Static).set_class(False, "-shown")

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

    @on(OptionList.OptionSelected, "#problem-list")
    def _problem_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Open(event.option.id.split(":", 1)[1]))

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#build")
    def _build_pressed(self) -> None:
        self.action_next()

    def action_toggle_dry_run(self) -> None:
        if self.has_body:
            self.query_one("#dry-run", Checkbox).toggle()

    def action_save(self) -> None:
        """Ask where, then save the answers (with their comments) there."""
        wizard = self.wizard
        suggested = wizard.saved_path or Path(f"{Path(wizard.image_defaults().file or 'answers').stem}.yaml")
        self.app.push_screen(
            PathPrompt("Save answers to", str(suggested), "Save", self._save_to, placeholder="path/to/answers.yaml"),
            self._saved,
        )

    def _save_to(self, path: Path) -> str | None:
        if path.is_dir():
            return f"{path} is a folder: add a file name, such as {path / 'answers.yaml'}"
        try:
            save_answers(self.wizard.resolved() or self.wizard.answers, path)
        except OSError as exc:
            return f"Cannot save there: {exc.strerror or exc}"
        self.wizard.mark_saved(path)
        return None

    def _saved(self, path: Path | None) -> None:
        if path is not None:
            self.notify(f"Saved the answers as {printable(str(path))}", title="Saved", markup=False)
            self.refresh_state()

    def action_next(self) -> None:
        """Build: save the answers (to the history when not saved elsewhere), then start the build."""
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
        self.post_message(self.Build(answers, recipe, path, dry_run=self.query_one("#dry-run", Checkbox).value))
