"""`StepScreen`, the frame every wizard step shares (the build's steps and the modify's).

A step screen is given the wizard state it edits. It shows the step sidebar,
its own fields, the problems of its keys (each beside its field when the
screen names one, the rest below), and Back/Next. Each edit goes through
`WizardState.set`, then `refresh_state` redraws problems, the sidebar and
what Next allows. Moving between steps is the App's: Next, Back and the step
list post a message (`StepScreen.Next`, `.Back`, `.Open`) that the App handles.

The keys every step shares (the help lists them): Esc goes back, Enter in the
step's last text field goes to Next (or, when Next is refused, to the first
field in error), F2 reaches the step list. Under 100 columns the sidebar folds
into a one-line step bar (the screen's `-narrow` class, set again on resize).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, OptionList, Static

from emi_tui.engine.errors import Problem
from emi_tui.engine.text import printable
from emi_tui.tui.state.wizard_state import STEP_TITLES, WizardState, key_matches
from emi_tui.tui.widgets.header import ScreenHeader
from emi_tui.tui.widgets.sidebar import StepBar, StepSidebar

#: Below this many columns the step list is a one-line bar above the step, not a sidebar.
NARROW_BELOW = 100


def steady_inputs(root: Widget | Screen) -> None:
    """Stop cursor blinking under `root` when the app runs for tests or screenshots."""
    if getattr(root.app, "stable", False):
        for field in root.query(Input):
            field.cursor_blink = False


def update_if_changed(widget: Static, content: Content | str) -> None:
    """Update `widget` only when its text changes: every update costs a layout pass."""
    if getattr(widget, "_shown_text", None) != str(content):
        widget._shown_text = str(content)  # type: ignore[attr-defined]
        widget.update(content)


def problem_lines(problems: Iterable[Problem], *, notes: Iterable[Problem] = (), with_key: bool = True) -> Content:
    """Problems as lines of text, with markup in their messages left alone."""
    lines = []
    for problem in problems:
        where = f"{problem.key}: " if with_key and problem.key else ""
        # Messages quote the answer file (or the image's stored answers): $-substitution reads no markup, printable escapes controls.
        lines.append(Content.from_markup("[$text-error]✗[/] [b]$where[/b]$message", where=printable(where), message=printable(problem.message)))
    for note in notes:
        lines.append(Content.from_markup("[$text-warning]•[/] from the file, dropped: $text", text=printable(str(note))))
    return Content("\n").join(lines)


class StepRequest(Message):
    """A step screen asks the App to move the wizard; `step` is the step it names."""

    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step


class StepScreen(Screen):
    """One step of the wizard, framed by the sidebar, its problems and Back/Next."""

    STEP: ClassVar[str] = ""
    INTRO: ClassVar[str] = ""
    #: Problem key path -> id of the field that edits it (its problem line is #<id>-problem).
    FIELDS: ClassVar[dict[str, str]] = {}
    NEEDS_RECIPE: ClassVar[bool] = True

    BINDINGS = [
        Binding("ctrl+n", "next", "Next", priority=True),
        Binding("escape", "back", "Back"),
        Binding("ctrl+b", "back", "Back", priority=True, show=False),
        Binding("f2", "focus_steps", "Steps"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]

    _has_body = False
    _next_blocked: bool | None = None
    _arrived = False
    _next_posted = False
    _first_focus_done = False

    class Next(StepRequest):
        """Next was asked for on `step`: the App opens the step after it, unless `step` has problems."""

    class Back(StepRequest):
        """Back was asked for on `step`: the App opens the step before it (Home before the first)."""

    class Open(StepRequest):
        """The operator chose to open `step` (from the step list, or a problem on the Summary)."""

    def __init__(self, wizard: WizardState) -> None:
        super().__init__()
        #: The build (or modify) being edited: this screen reads and edits it, and nothing else.
        self.wizard = wizard

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ScreenHeader(show_clock=False)
        with Horizontal(id="wizard"):
            yield StepSidebar(self.STEP, id="steps")
            with Vertical(id="step"):
                yield StepBar(self.STEP, id="step-bar")
                steps = self.wizard.steps
                number = steps.index(self.STEP) + 1
                yield Static(f"Step {number} of {len(steps)} · {STEP_TITLES[self.STEP]}", id="step-title")
                intro = self.wizard.intro_for(self.STEP) or self.INTRO
                if intro:
                    yield Static(intro, id="step-intro")
                with Container(id="step-body"):
                    self._has_body = not (self.NEEDS_RECIPE and self.wizard.recipe is None)
                    if self._has_body:
                        yield from self.compose_body()
                    else:
                        yield Static("Choose a recipe on the Distro step first.", classes="empty")
                yield Static(id="step-problems")
                with Horizontal(id="nav"):
                    yield from self.compose_nav()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        """The step's own fields."""
        yield from ()

    def compose_nav(self) -> ComposeResult:
        yield Button("Back", id="back")
        yield Static(id="nav-note")
        yield Button("Next", id="next", variant="primary")

    @staticmethod
    def problem_line(field_id: str) -> Static:
        """The line under a field where its problems appear."""
        return Static(id=f"{field_id}-problem", classes="field-problem")

    # -- behaviour ---------------------------------------------------------------

    def on_mount(self) -> None:
        steady_inputs(self)
        self.refresh_state()

    def set_focus(self, widget: Widget | None, scroll_visible: bool = True, from_app_focus: bool = False) -> None:
        """Focus `widget`; the step's first focus (AUTO_FOCUS) leaves the step scrolled to its top.

        Textual centres a newly focused widget that it cannot see whole yet, and
        on arrival nothing is laid out: at 80x24 that scrolled the step's first
        label (what says what the field is for) out of view.
        """
        if not self._first_focus_done and widget is not None:
            self._first_focus_done = True
            scroll_visible = False
        super().set_focus(widget, scroll_visible=scroll_visible, from_app_focus=from_app_focus)

    def on_screen_resume(self) -> None:
        self.refresh_state()
        if not self._arrived:
            # Opened on a problem (a replayed file, a jump from the Summary): start at that field.
            self._arrived = True
            first = next((w for w in self.query(".-problem") if w.focusable), None)
            if first is not None:
                self.call_after_refresh(self.set_focus, first)

    def change(self, key: str, value: Any) -> None:
        """Record an edit of the answer at `key`, then redraw what depends on it."""
        self.wizard.set(key, value)
        self.refresh_state()

    def refresh_state(self) -> None:
        """Redraw problems, sidebar and Next from the wizard state."""
        if not self.is_mounted:
            return
        self.sub_title = self.wizard.subtitle()
        problems = self.wizard.problems_for(self.STEP)
        self.show_problems(problems, self.wizard.notes_for(self.STEP))
        self.query_one(StepSidebar).show(self.wizard)
        self.query_one(StepBar).show(self.wizard)
        for button in self.query("#next"):
            button.disabled = bool(problems)
        note = "Fix the problems above to go on." if problems else ""
        for label in self.query("#nav-note").results(Static):
            update_if_changed(label, note)
        if self._next_blocked != bool(problems):
            self._next_blocked = bool(problems)
            self.refresh_bindings()  # the footer redraws itself: only when Next changes
        if self.has_body:
            self.state_refreshed()

    @property
    def has_body(self) -> bool:
        """Whether the step's own fields are shown (not when a recipe is needed but missing)."""
        return self._has_body

    def state_refreshed(self) -> None:
        """Hook: redraw the parts of the step that follow the answers (previews, totals)."""

    def show_problems(self, problems: list[Problem], notes: list[Problem]) -> None:
        """Each problem under the field that edits its key (FIELDS); the rest, and notes, below the step."""
        # One walk of the DOM rather than a query per field: this runs on every keystroke.
        by_id = {widget.id: widget for widget in self.walk_children() if widget.id}
        by_field: dict[str, list[Problem]] = {field_id: [] for field_id in self.FIELDS.values()}
        rest: list[Problem] = []
        prefixes = sorted(self.FIELDS, key=len, reverse=True)
        for problem in problems:
            prefix = next((p for p in prefixes if key_matches(problem.key, p)), None)
            if prefix is None or f"{self.FIELDS[prefix]}-problem" not in by_id:
                rest.append(problem)
            else:
                by_field[self.FIELDS[prefix]].append(problem)
        for field_id, found in by_field.items():
            line = by_id.get(f"{field_id}-problem")
            if isinstance(line, Static):
                update_if_changed(line, problem_lines(found, with_key=False))
                line.set_class(bool(found), "-shown")
            if field_id in by_id:
                by_id[field_id].set_class(bool(found), "-problem")
        area = by_id["step-problems"]
        assert isinstance(area, Static)
        update_if_changed(area, problem_lines(rest, notes=notes))
        area.set_class(bool(rest or notes), "-shown")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next" and self.wizard.problems_for(self.STEP):
            return None  # shown, but greyed out, in the footer
        return True

    def action_next(self) -> None:
        self._next_posted = True
        self.post_message(self.Next(self.STEP))

    def action_back(self) -> None:
        self.post_message(self.Back(self.STEP))

    def action_focus_steps(self) -> None:
        """Focus the step list: the sidebar, or the one-line bar when the screen is narrow."""
        if self.has_class("-narrow"):
            self.query_one(StepBar).focus()
        else:
            self.query_one(StepSidebar).focus()

    # -- Enter in the last field -------------------------------------------------

    def last_field(self) -> Input | None:
        """The step's last answer text field in focus (Tab) order, or None when it has none.

        Answer fields are the ones FIELDS names (an add-a-package or a filter
        field is a tool, and its Enter is its own). Text fields only: Enter in
        a list, a choice or a switch chooses or toggles there.
        """
        answer_fields = set(self.FIELDS.values())
        body = self.query_one("#step-body")
        fields = [w for w in self.focus_chain if isinstance(w, Input) and w.id in answer_fields and body in w.ancestors]
        return fields[-1] if fields else None

    def go_on_or_show_problem(self) -> None:
        """Next when the step allows it; otherwise focus the first field in error (a bell when no field has one)."""
        if not self.wizard.problems_for(self.STEP):
            self.action_next()
            return
        first = next((widget for widget in self.query(".-problem") if widget.focusable), None)
        if first is None:
            self.app.bell()
        else:
            first.focus()

    @on(Input.Submitted)
    def _enter_in_field(self, event: Input.Submitted) -> None:
        # Runs after the step's own Submitted handlers (the MRO order): a step that
        # used the Enter (Packages' add field) stops it with prevent_default(), and
        # one that already went on (Size) has set _next_posted.
        if self._next_posted or not self.is_current or self.wizard.steps[-1] == self.STEP:
            return  # the last step's Build or Start is never one Enter away
        if event.input is self.last_field():
            self.go_on_or_show_problem()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "next":
            event.stop()
            self.action_next()
        elif event.button.id == "back":
            event.stop()
            self.action_back()

    @on(StepBar.Chosen)
    def _bar_chosen(self, event: StepBar.Chosen) -> None:
        event.stop()
        if event.step != self.STEP:
            self.post_message(self.Open(event.step))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if isinstance(event.option_list, StepSidebar):
            event.stop()
            if event.option.id and event.option.id != self.STEP:
                self.post_message(self.Open(event.option.id))
