"""The question asked before a running build (or modify) is stopped."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


def retry_note(modify: bool, base_cached: bool) -> str:
    """Where a retry would start: promise the cached base only when the build saw it in the cache."""
    if modify:
        return "Retry starts again from the original artifact, which stays untouched."
    if base_cached:
        return "Retry starts again from the cached base system."
    return "The base system is not in the cache yet, so a retry starts again from the beginning."


class ConfirmCancel(ModalScreen[bool]):
    """Asks before stopping a build; dismisses with True to stop."""

    DEFAULT_CSS = """
    ConfirmCancel { align: center middle; }
    ConfirmCancel > Vertical {
        width: 60; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmCancel #confirm-text { margin-bottom: 1; }
    ConfirmCancel Horizontal { height: auto; align-horizontal: right; }
    ConfirmCancel Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Stop the build"),
        Binding("n,escape", "answer(False)", "Keep building"),
    ]

    def __init__(self, retry_note: str = "") -> None:
        """`retry_note` says where a retry would start; the caller knows (a cached base, the original artifact)."""
        super().__init__()
        self.retry_note = retry_note

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("Stop the build?", "bold"))
            yield Static(
                f"The running command is stopped and everything the build mounted is unmounted. {self.retry_note}".rstrip(),
                id="confirm-text",
            )
            with Horizontal():
                yield Button("Keep building (n)", id="no")
                yield Button("Stop (y)", variant="error", id="yes")

    def action_answer(self, stop: bool) -> None:
        self.dismiss(stop)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
