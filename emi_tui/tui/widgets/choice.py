"""A RadioSet whose keyboard highlight starts on the chosen button, not the first one."""

from __future__ import annotations

from textual.widgets import RadioSet


class ChoiceSet(RadioSet):
    """RadioSet for one answer: arrows start from the current choice, so Enter keeps it."""

    def on_mount(self) -> None:
        # RadioSet's own mount handler (which runs after this one) highlights the
        # first button; an operator revisiting a step expects the cursor on what
        # they chose, so move it once that handler is done.
        self.call_later(self._highlight_choice)

    def _highlight_choice(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index  # RadioSet's highlight index, as its own actions set it
