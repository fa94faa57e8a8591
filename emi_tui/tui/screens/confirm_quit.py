"""The question asked before emi-tui quits when quitting would lose something (or on Home's Escape)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmQuit(ModalScreen[bool]):
    """Asks before quitting; dismisses with True to quit. Stay is focused, so a stray Enter never quits."""

    DEFAULT_CSS = """
    ConfirmQuit { align: center middle; }
    ConfirmQuit > Vertical {
        width: 60; max-width: 100%; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmQuit #quit-text { margin-bottom: 1; }
    ConfirmQuit Horizontal { height: auto; align-horizontal: right; }
    ConfirmQuit Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Quit"),
        Binding("n,escape", "answer(False)", "Stay"),
    ]
    AUTO_FOCUS = "#stay"

    def __init__(self, unsaved: str | None = None) -> None:
        """`unsaved` says what quitting loses (None: nothing, the question is only a guard against a stray key)."""
        super().__init__()
        self.unsaved = unsaved

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("Quit emi-tui?", "bold"))
            yield Static(self.unsaved or "Nothing is lost: builds keep their answers in the history.", id="quit-text")
            with Horizontal():
                yield Button("Stay (n)", id="stay")
                yield Button("Quit (y)", variant="error", id="quit")

    def action_answer(self, quit_app: bool) -> None:
        self.dismiss(quit_app)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "quit")
