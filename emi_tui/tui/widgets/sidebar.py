"""The wizard's step list: where the operator is, what is done, and what still has problems.

Two forms of the same list: `StepSidebar`, a column beside the step on wide
terminals, and `StepBar`, one line above the step when the terminal is
narrower (the step screen shows one or the other by its width). Finished
steps (and the next one) can be opened from either with the keyboard (F2,
arrows, Enter) or a click; steps not reached yet are shown but disabled. The
arrows stop at the first and last steps: they never wrap around.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from emi_tui.tui.state.wizard_state import STEP_TITLES, WizardState


@dataclass(frozen=True)
class StepMark:
    """How one step is shown: its mark (✓ ▶ ! ·), the style of that, and whether it can be opened."""

    step: str
    number: int
    mark: str
    style: str
    reachable: bool

    @property
    def title(self) -> str:
        return STEP_TITLES[self.step]


def step_marks(state: WizardState, current: str) -> list[StepMark]:
    """Every step of `state`: ✓ done, ▶ here, ! has problems, dim when not reachable."""
    pending = {step for step in state.steps if state.problems_for(step) or state.notes_for(step)} - {state.steps[-1]}
    marks = []
    for number, step in enumerate(state.steps, start=1):
        reachable = state.reachable(step) or step == current
        if step == current:
            mark, style = "▶", "bold $text-primary"
        elif step in pending and reachable:
            mark, style = "!", "bold $text-warning"
        elif step in state.finished:
            mark, style = "✓", "$text-success"
        else:
            mark, style = "·", "dim"
        marks.append(StepMark(step, number, mark, style, reachable))
    return marks


def _next_reachable(marks: list[StepMark], index: int, direction: int) -> int:
    """The next step that can be opened from `index` in `direction`, or `index` itself at either end (no wrapping)."""
    probe = index + direction
    while 0 <= probe < len(marks):
        if marks[probe].reachable:
            return probe
        probe += direction
    return index


class StepSidebar(OptionList):
    """The list of wizard steps; selecting one posts OptionList.OptionSelected with the step as id."""

    DEFAULT_CSS = """
    StepSidebar {
        width: 22;
        height: 1fr;
        border: round $border-blurred;
        border-title-color: $text-muted;
        padding: 0 0;
    }
    StepSidebar:focus {
        border: round $border;
    }
    """

    def __init__(self, current: str, *, id: str | None = None):
        super().__init__(id=id)
        self.current = current
        self._signature: tuple = ()
        self._marks: list[StepMark] = []
        self.border_title = "Steps"

    def show(self, state: WizardState) -> None:
        """Redraw the steps from `state`."""
        self._marks = step_marks(state, self.current)
        options = [
            Option(Content.from_markup(f"[{m.style}] {m.mark} $number $title[/]", number=m.number, title=m.title), id=m.step, disabled=not m.reachable)
            for m in self._marks
        ]
        signature = tuple((str(option.prompt), option.disabled) for option in options)
        if signature == self._signature:
            return  # redrawing an unchanged list costs a layout pass per keystroke
        self._signature = signature
        highlighted = self.highlighted
        self.clear_options()
        self.add_options(options)
        self.highlighted = highlighted if highlighted is not None else state.steps.index(self.current)

    def _move(self, direction: int) -> None:
        if self.highlighted is None or not self._marks:
            return super().action_cursor_down() if direction > 0 else super().action_cursor_up()
        self.highlighted = _next_reachable(self._marks, self.highlighted, direction)

    def action_cursor_down(self) -> None:
        """Down: the next step that can be opened; on the last one, stay (OptionList would wrap to the first)."""
        self._move(1)

    def action_cursor_up(self) -> None:
        """Up: the previous step that can be opened; on the first one, stay."""
        self._move(-1)


class StepBar(Widget, can_focus=True):
    """The steps on one line, for terminals too narrow for the sidebar: ← → (or ↑ ↓) move, Enter opens."""

    DEFAULT_CSS = """
    StepBar {
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StepBar:focus {
        background: $boost;
    }
    """
    BINDINGS = [
        Binding("left,up", "move(-1)", "Previous step", show=False),
        Binding("right,down", "move(1)", "Next step", show=False),
        Binding("home", "move(-99)", "First step", show=False),
        Binding("end", "move(99)", "Last step", show=False),
        Binding("enter,space", "open", "Open step", show=False),
    ]

    cursor: reactive[int] = reactive(0)

    class Chosen(Message):
        """The operator chose to open `step` from the bar."""

        def __init__(self, step: str) -> None:
            super().__init__()
            self.step = step

    def __init__(self, current: str, *, id: str | None = None):
        super().__init__(id=id)
        self.current = current
        self._marks: list[StepMark] = []

    def show(self, state: WizardState) -> None:
        """Redraw the steps from `state`."""
        marks = step_marks(state, self.current)
        if marks != self._marks:
            first = not self._marks
            self._marks = marks
            if first:
                self.cursor = state.steps.index(self.current)
            self.refresh()

    @property
    def highlighted_step(self) -> str | None:
        """The step the cursor is on (the one Enter opens)."""
        return self._marks[self.cursor].step if 0 <= self.cursor < len(self._marks) else None

    def render(self) -> Content:
        parts = []
        for index, m in enumerate(self._marks):
            style = m.style if m.reachable else "dim"
            if self.has_focus and index == self.cursor:
                style += " reverse"
            parts.append(Content.from_markup(f"[{style}]$mark $number $title[/]", mark=m.mark, number=m.number, title=m.title))
        return Content("  ").join(parts)

    def action_move(self, steps: int) -> None:
        """Move the cursor by `steps` to a step that can be opened, stopping at either end."""
        index = self.cursor
        for _ in range(abs(steps)):
            moved = _next_reachable(self._marks, index, 1 if steps > 0 else -1)
            if moved == index:
                break
            index = moved
        self.cursor = index

    def action_open(self) -> None:
        step = self.highlighted_step
        if step is not None:
            self.post_message(self.Chosen(step))

    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        # Which step was clicked: walk the rendered widths of the steps ("mark number title" and two spaces).
        x = event.x
        for index, m in enumerate(self._marks):
            width = len(f"{m.mark} {m.number} {m.title}") + 2
            if x < width:
                if m.reachable:
                    self.cursor = index
                    self.action_open()
                return
            x -= width
