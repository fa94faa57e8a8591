"""Release a catalog, last screen: the released catalog, read back and reviewed as the Review screen shows it.

It is the Review screen on the catalog's EMI-IDs (each image's fields,
problems and whether its stamp verifies), with one line above it that sums
the review up and names the catalog's files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from emi_tui.engine.catalog.write import EMI_IDS
from emi_tui.engine.text import printable
from emi_tui.tui.messages import ReviewLoaded
from emi_tui.tui.screens.review.review import Reviewer, ReviewScreen
from emi_tui.tui.state.wizard_state import tilde
from emi_tui.tui.widgets.header import ScreenHeader


class CatalogEndScreen(ReviewScreen):
    """The catalog just written, reviewed; Esc goes back to the table of builds."""

    DEFAULT_CSS = """
    CatalogEndScreen #catalog-summary { height: auto; padding: 0 1; }
    """

    def __init__(self, folder: Path, result: Any | None = None, *, reviewer: Reviewer | None = None) -> None:
        super().__init__([folder / EMI_IDS], reviewer=reviewer)
        self.folder = folder
        self.result = result
        self.sub_title = "release a catalog · the catalog, reviewed"

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield widget
            if isinstance(widget, ScreenHeader):
                yield Static(Content(f"reading {printable(tilde(self.folder / EMI_IDS))}…"), id="catalog-summary")

    @on(ReviewLoaded)
    def _catalog_loaded(self, message: ReviewLoaded) -> None:
        # The Review screen's own handler fills the table after this one: sum up once it has.
        self.call_later(self._summarize)

    def _summarize(self) -> None:
        entries = self.entries
        verified = sum(bool(e.stamp_check.verified) for e in entries)
        written = ", ".join(p.name for p in getattr(self.result, "written", ()) or ())
        where = printable(tilde(self.folder))
        if entries and verified == len(entries):
            head = Content.styled(f"{len(entries)} images in {where}/{EMI_IDS}: every stamp verified", "bold $success")
        else:
            head = Content.styled(f"{len(entries)} images in {where}/{EMI_IDS}: {verified} of {len(entries)} stamps verified", "bold $text-error")
        files = Content.styled(f"written: {written}" if written else "", "$text-muted")
        self.query_one("#catalog-summary", Static).update(Content("\n").join([head, files]) if written else head)
