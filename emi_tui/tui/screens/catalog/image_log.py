"""The live log of one image of a catalog build, opened with Enter on its row.

The running screen keeps every image's lines (bounded) and hands this screen
the lines kept so far, then each new batch while it is shown. The view is
the build screen's LogView: it follows the tail until the operator scrolls
up, and End follows again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from emi_tui.engine.text import printable
from emi_tui.tui.widgets.header import ScreenHeader
from emi_tui.tui.widgets.log_view import LogView

#: The longest build step's name (filesystem): every batch's lines line up.
STEP_WIDTH = 10


class CatalogImageLogScreen(Screen):
    """One image's log, live; Esc goes back to the table."""

    DEFAULT_CSS = """
    CatalogImageLogScreen LogView { height: 1fr; }
    """
    AUTO_FOCUS = "LogView"
    BINDINGS = [
        Binding("escape", "back", "Back to the images"),
        Binding("f", "follow", "Follow log"),
    ]

    def __init__(self, heading: str, lines: Iterable[tuple[str, str]], max_lines: int = 10_000) -> None:
        """`lines`: (step, text) pairs kept so far."""
        super().__init__()
        self.heading = heading
        self._initial = list(lines)
        self._max_lines = max_lines
        self.sub_title = f"log of {printable(heading)}"

    def compose(self) -> ComposeResult:
        yield ScreenHeader()
        yield LogView(max_lines=self._max_lines, id="image-log")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        log = self.query_one(LogView)
        log.border_title = printable(self.heading)
        self._write(self._initial)
        self._initial = []

    def add_lines(self, lines: Sequence[tuple[str, str]]) -> None:
        """Append (step, text) pairs, each shown after its step's name."""
        if self.is_mounted:
            self._write(lines)
        else:  # not drawn yet: shown with the others once it is
            self._initial.extend(lines)

    def _write(self, lines: Sequence[tuple[str, str]]) -> None:
        if not lines:
            return
        self.query_one(LogView).add_lines([f"{step:<{STEP_WIDTH}} │ {text}" for step, text in lines], [step for step, _ in lines])

    @property
    def text(self) -> str:
        """What the view holds (tests read it)."""
        return self.query_one(LogView).visible_text()

    def action_follow(self) -> None:
        self.query_one(LogView).follow()

    def action_back(self) -> None:
        self.dismiss()
