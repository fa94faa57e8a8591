"""The live build log: a bounded Log that follows the tail until the operator scrolls up.

Following stops as soon as the view leaves the bottom (keys, wheel or
scrollbar) and resumes when it gets back there (End, or `follow()`). While
paused, the text in view stays put even when old lines are dropped at the
line limit. The border subtitle says which mode the log is in.

Its lines come from outside (a guest's console, a chroot's commands): they are
shown as plain text (a Log reads no markup), colour sequences dropped and
other control characters escaped by `printable` (Textual's Log passes an ESC
on to the terminal), and a line is never split or overwritten by a control
character inside it.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Log

from emi_tui.engine.text import printable

FOLLOWING = "following"
PAUSED = "paused · End to follow"


class LogView(Log):
    """A Log with a line limit, tail following and a following/paused indicator."""

    DEFAULT_CSS = """
    LogView {
        border: round $primary 50%;
        border-subtitle-align: right;
        border-title-align: left;
    }
    LogView:focus {
        border: round $primary;
    }
    LogView.-paused {
        border-subtitle-color: $warning;
    }
    """

    following: reactive[bool] = reactive(True)
    """Whether new lines scroll the view to the tail."""

    class FollowChanged(Message):
        """The log started or stopped following the tail."""

        def __init__(self, log_view: LogView, following: bool) -> None:
            super().__init__()
            self.log_view = log_view
            self.following = following

        @property
        def control(self) -> LogView:
            return self.log_view

    def __init__(self, max_lines: int = 10_000, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(max_lines=max_lines, auto_scroll=False, highlight=False, name=name, id=id, classes=classes)
        self.lines_received = 0
        self.border_subtitle = FOLLOWING

    def add_lines(self, lines: Iterable[str]) -> None:
        """Append lines (one batch): the tail stays in view when following, the text in view when not."""
        new = [printable(line, drop_colours=True) for line in lines]
        if not new:
            return
        self.lines_received += len(new)
        before = len(self._lines)
        self.write_lines(new, scroll_end=False)
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            return
        # Lines dropped at the top would slide the text under a reader who scrolled up.
        dropped = before + len(new) - len(self._lines)
        if dropped > 0 and self.scroll_y > 0:
            self.scroll_to(y=max(0, self.scroll_y - dropped), animate=False, immediate=True)

    def follow(self) -> None:
        """Jump to the tail and follow it again."""
        self.following = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_resize(self) -> None:
        # A panel opening below shrinks the log: keep the tail in view if we are following it.
        if self.following:
            self.scroll_end(animate=False, x_axis=False)

    def action_scroll_end(self) -> None:
        # Immediate, not animated: an animation aimed at the old tail would end short of it during a flood.
        self.follow()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Only a move decides: growing content leaves scroll_y alone, so a paused view stays paused.
        self.following = round(new_value) >= round(self.max_scroll_y)

    def watch_following(self, following: bool) -> None:
        self.border_subtitle = FOLLOWING if following else PAUSED
        self.set_class(not following, "-paused")
        self.post_message(self.FollowChanged(self, following))
