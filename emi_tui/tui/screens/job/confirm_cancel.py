"""The question asked before a running build (or modify) is stopped."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from emi_tui.tui.screens.question import Question


def retry_note(modify: bool, base_cached: bool) -> str:
    """Where a retry would start: promise the cached base only when the build saw it in the cache."""
    if modify:
        return "Retry starts again from the original artifact, which stays untouched."
    if base_cached:
        return "Retry starts again from the cached base system."
    return "The base system is not in the cache yet, so a retry starts again from the beginning."


class ConfirmCancel(Question):
    """Asks before stopping a build; dismisses with True to stop."""

    BINDINGS = [
        Binding("y", "answer(True)", "Stop the build"),
        Binding("n,escape", "answer(False)", "Keep building"),
    ]

    def __init__(self, retry_note: str = "") -> None:
        """`retry_note` says where a retry would start; the caller knows (a cached base, the original artifact)."""
        super().__init__()
        self.retry_note = retry_note

    def compose(self) -> ComposeResult:
        return self.ask(
            "Stop the build?",
            f"The running command is stopped and everything the build mounted is unmounted. {self.retry_note}".rstrip(),
            text_id="confirm-text", no=("Keep building (n)", "no"), yes=("Stop (y)", "yes"),
        )
