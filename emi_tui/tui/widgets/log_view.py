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

Its tools (the build screen binds keys to them): `search` finds a text and
`find_next` / `find_previous` move between matches, the matching line drawn
reversed; `set_filter` shows only the lines of one step (each line is added
with its step as a tag); `set_wrap` folds long lines at the view's width
instead of scrolling sideways. The view keeps every line it was given (up to
its limit) unfolded and untagged-by-display, so a filter or a wrap can be
undone and `visible_text` is what a save writes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from rich.cells import cell_len, chop_cells
from rich.style import Style
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import Log

from emi_tui.engine.text import printable

FOLLOWING = "following"
PAUSED = "paused · End to follow"
MATCH_STYLE = Style(reverse=True)


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
        #: Every line kept (up to the limit), unfolded, with the tag (a step's name) it was added with.
        self.entries: deque[tuple[str, str]] = deque(maxlen=max_lines)
        self.step_filter: str | None = None
        self.wrap = False
        self.search_text = ""
        self.match_line: int | None = None  # the matching line (an index into `lines`)
        self._wrap_width = 0

    def add_lines(self, lines: Iterable[str], tags: Sequence[str] | None = None) -> None:
        """Append lines (one batch): the tail stays in view when following, the text in view when not.

        `tags` (one per line, e.g. the step that printed it) is what `set_filter` chooses by.
        """
        new = [printable(line, drop_colours=True) for line in lines]
        if not new:
            return
        self.lines_received += len(new)
        tagged = list(zip(tags or [""] * len(new), new, strict=True))
        self.entries.extend(tagged)
        shown = self._display(tagged)
        if not shown:
            return
        before = len(self._lines)
        self.write_lines(shown, scroll_end=False)
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            return
        # Lines dropped at the top would slide the text under a reader who scrolled up.
        dropped = before + len(shown) - len(self._lines)
        if dropped > 0 and self.match_line is not None:
            self.match_line = self.match_line - dropped if self.match_line >= dropped else None
        if dropped > 0 and self.scroll_y > 0:
            self.scroll_to(y=max(0, self.scroll_y - dropped), animate=False, immediate=True)

    # -- what is shown -------------------------------------------------------------

    def _shows(self, tag: str) -> bool:
        """Whether a line added with `tag` passes the step filter."""
        return self.step_filter is None or tag == self.step_filter

    def _display(self, entries: Iterable[tuple[str, str]]) -> list[str]:
        """The lines `entries` become on screen: those of the filtered step only, folded when wrapping."""
        chosen = [text for tag, text in entries if self._shows(tag)]
        if not self.wrap:
            return chosen
        width = self._wrap_width = max(10, self.scrollable_content_region.width or self.size.width or 80)
        folded: list[str] = []
        for text in chosen:
            folded.extend(chop_cells(text, width) if cell_len(text) > width else [text])
        return folded

    def _redraw(self) -> None:
        """Show the kept lines again (the filter or the wrap changed), staying at the tail when following."""
        self.match_line = None
        self.clear()
        self.write_lines(self._display(self.entries), scroll_end=False)
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        if self.search_text:
            self.find_next(from_line=0)

    def set_filter(self, tag: str | None) -> None:
        """Show only the lines added with `tag` (None: every line)."""
        self.step_filter = tag
        self._redraw()

    def set_wrap(self, wrap: bool) -> None:
        """Fold long lines at the view's width (True), or keep them whole and scroll sideways (False)."""
        self.wrap = wrap
        self._redraw()

    def visible_text(self) -> str:
        """The lines the view holds for the current filter, unfolded: what a save writes."""
        return "".join(f"{text}\n" for tag, text in self.entries if self._shows(tag))

    # -- search ----------------------------------------------------------------------

    def search(self, query: str) -> bool:
        """Look for `query` (any case) from the top of the view, or from the current match; False when nowhere."""
        self.search_text = query
        self.match_line = None
        return self.find_next(from_line=0) if query else False

    def matches(self) -> list[int]:
        needle = self.search_text.casefold()
        return [number for number, line in enumerate(self._lines) if needle and needle in line.casefold()]

    def find_next(self, from_line: int | None = None) -> bool:
        """Move to the next line holding the query (wrapping round to the top); False when none does."""
        return self._move(1, from_line)

    def find_previous(self) -> bool:
        """Move to the previous line holding the query (wrapping round to the bottom); False when none does."""
        return self._move(-1, None)

    def _move(self, direction: int, from_line: int | None) -> bool:
        found = self.matches()
        if not found:
            self.match_line = None
            self.refresh()
            return False
        if from_line is not None:
            start = from_line - 1 if direction > 0 else from_line + 1
        else:
            start = self.match_line if self.match_line is not None else (int(self.scroll_y) - 1 if direction > 0 else int(self.scroll_y) + self.size.height)
        after = [n for n in found if (n > start if direction > 0 else n < start)]
        self.match_line = (after[0] if direction > 0 else after[-1]) if after else (found[0] if direction > 0 else found[-1])
        # Reading a match is not following the tail: keep it in view.
        self.scroll_to(y=max(0, self.match_line - self.size.height // 2), animate=False, immediate=True)
        self.refresh()
        return True

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if self.match_line is not None and int(self.scroll_y) + y == self.match_line:
            return strip.apply_style(MATCH_STYLE)
        return strip

    def follow(self) -> None:
        """Jump to the tail and follow it again."""
        self.following = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_resize(self) -> None:
        if self.wrap and self.scrollable_content_region.width != self._wrap_width:
            self._redraw()  # folded for another width
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
