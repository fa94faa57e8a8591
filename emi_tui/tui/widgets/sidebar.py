"""The wizard's step list: where the operator is, what is done, and what still has problems.

Finished steps (and the next one) can be opened from here with the keyboard
(F2, arrows, Enter) or a click; steps not reached yet are shown but disabled.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from emi_tui.tui.state.wizard_state import STEP_TITLES, WizardState


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
        self.border_title = "Steps"

    def show(self, state: WizardState) -> None:
        """Redraw the steps from `state`: ✓ done, ▶ here, ! has problems, dim when not reachable."""
        pending = {step for step in state.steps if state.problems_for(step) or state.notes_for(step)} - {state.steps[-1]}
        self._steps = state.steps
        options = []
        for number, step in enumerate(state.steps, start=1):
            reachable = state.reachable(step) or step == self.current
            if step == self.current:
                mark, style = "▶", "bold $text-primary"
            elif step in pending and reachable:
                mark, style = "!", "bold $text-warning"
            elif step in state.finished:
                mark, style = "✓", "$text-success"
            else:
                mark, style = "·", "dim"
            label = Content.from_markup(f"[{style}] {mark} $number $title[/]", number=number, title=STEP_TITLES[step])
            options.append(Option(label, id=step, disabled=not reachable))
        signature = tuple((str(option.prompt), option.disabled) for option in options)
        if signature == self._signature:
            return  # redrawing an unchanged list costs a layout pass per keystroke
        self._signature = signature
        highlighted = self.highlighted
        self.clear_options()
        self.add_options(options)
        self.highlighted = highlighted if highlighted is not None else self._steps.index(self.current)
