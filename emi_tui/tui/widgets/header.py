"""The header every screen shows: Textual's Header, safe against a screen removed right after it mounted."""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.events import Mount
from textual.widget import Widget
from textual.widgets import Header
from textual.widgets._header import HeaderTitle


class ScreenHeader(Header):
    """Textual's Header, whose title updates give up quietly once the header is being torn down.

    Textual's Header queues one title update per watched title when it mounts. When its
    screen is removed before those run (a quick Back, a step switched away, the app
    closing), the title has already been removed while the header has not: Textual's
    update then raises NoMatches, and an unhandled exception ends the whole app. A header
    whose title is gone has nothing to show, so the update just stops.
    """

    def _on_mount(self, event: Mount) -> None:
        # Textual runs every class's _on_mount down the MRO: stop Header's own (it would
        # queue the unguarded updates too), then run Widget's, which preventing the default skips as well.
        event.prevent_default()
        Widget._on_mount(self, event)

        async def set_title() -> None:
            try:
                self.query_one(HeaderTitle).update(self.format_title())
            except (NoMatches, NoScreen):  # the header is on its way out with its screen
                return

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
