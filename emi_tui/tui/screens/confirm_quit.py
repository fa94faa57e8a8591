"""The question asked before emi-tui quits when quitting would lose something (or on Home's Escape)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from emi_tui.tui.screens.question import Question


class ConfirmQuit(Question):
    """Asks before quitting; dismisses with True to quit. Stay is focused, so a stray Enter never quits."""

    BINDINGS = [
        Binding("y", "answer(True)", "Quit"),
        Binding("n,escape", "answer(False)", "Stay"),
    ]

    def __init__(self, unsaved: str | None = None) -> None:
        """`unsaved` says what quitting loses (None: nothing, the question is only a guard against a stray key)."""
        super().__init__()
        self.unsaved = unsaved

    def compose(self) -> ComposeResult:
        return self.ask(
            "Quit emi-tui?", self.unsaved or "Nothing is lost: builds keep their answers in the history.",
            text_id="quit-text", no=("Stay (n)", "stay"), yes=("Quit (y)", "quit"),
        )
