"""The build screen's log tools: search with next and previous, a filter by step, save to a file, wrap, and the log's path.

`LogTools` is mixed into a screen that has a `LogView` (#log), a `SearchBar`
(#log-search) and a `LogPath` (#log-path); it holds the actions its
`LOG_TOOL_BINDINGS` call. The log's lines come from the build (untrusted
text): they are never read as markup, and a save writes them to a new file
only (O_EXCL|O_NOFOLLOW through safefs), never over one that exists.
"""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len, chop_cells
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, Label

from emi_tui.engine.errors import EmiError
from emi_tui.engine.safefs import write_new
from emi_tui.engine.text import printable
from emi_tui.tui.widgets.log_view import LogView
from emi_tui.tui.widgets.path_prompt import PathPrompt

LOG_TOOL_BINDINGS = [
    # Short words: at 80 columns the footer has room for every one of them beside "Cancel build".
    Binding("slash", "log_search", "Search", tooltip="Find a text in the log (n / N: next / previous)"),
    Binding("n,f3", "log_next", "Next match", show=False),
    Binding("N,shift+f3", "log_previous", "Previous match", show=False),
    Binding("l", "log_filter", "Filter", tooltip="Show one step's lines at a time"),
    Binding("s", "log_save", "Save", tooltip="Save the log's lines to a new file"),
    Binding("w", "log_wrap", "Wrap", tooltip="Fold long lines, or scroll sideways"),
    Binding("y", "copy_log_path", "Copy log path", show=False),
]
SENT_TO_CLIPBOARD = "Sent to the terminal's clipboard (if it allows it)"


def middle_ellipsis(text: str, width: int) -> str:
    """`text` in at most `width` cells, shortened in the middle ("/var/lib/…/build.log") so both ends stay."""
    if cell_len(text) <= width:
        return text
    if width < 5:
        return text[:max(0, width)]
    keep = width - 1
    head = chop_cells(text, (keep + 1) // 2)[0]
    tail_width = keep - cell_len(head)
    tail = text[len(text) - tail_width:] if tail_width > 0 else ""
    while cell_len(tail) > tail_width:
        tail = tail[1:]
    return f"{head}…{tail}"


class LogPath(Widget):
    """The log file's path on one line: shortened in the middle when it must be, whole in its tooltip."""

    DEFAULT_CSS = """
    LogPath { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: Path | None = None

    def set_path(self, path: Path | None) -> None:
        self.path = path
        self.tooltip = str(path) if path else None
        self.refresh()

    def render(self) -> Content:
        if self.path is None:
            return Content("")
        label = "log: "
        room = max(5, self.size.width - len(label))
        return Content.assemble((label, "$text-muted"), middle_ellipsis(printable(str(self.path)), room))


class SearchInput(Input):
    """The search field: Enter finds, Escape closes the bar (and never cancels the build)."""

    BINDINGS = [Binding("escape", "close", "Close search")]

    def action_close(self) -> None:
        bar = self.parent.parent if self.parent is not None else None
        if isinstance(bar, SearchBar):
            bar.close()


class SearchBar(Widget):
    """A one-line bar under the log: the text to find and how many lines hold it."""

    DEFAULT_CSS = """
    SearchBar { display: none; height: 1; }
    SearchBar.-shown { display: block; }
    SearchBar Horizontal { height: 1; }
    SearchBar Label { width: auto; padding: 0 1; }
    SearchBar Input { width: 1fr; height: 1; border: none; padding: 0; }
    SearchBar #search-count { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("find:")
            yield SearchInput(placeholder="text in the log · Enter: find · n / N: next / previous", id="search-text")
            yield Label("", id="search-count")

    def open(self) -> None:
        self.add_class("-shown")
        self.query_one(SearchInput).focus()

    def close(self) -> None:
        self.remove_class("-shown")
        self.screen.query_one(LogView).focus()

    def show_count(self, text: str) -> None:
        self.query_one("#search-count", Label).update(Content(text))


class LogTools:
    """Actions on the screen's log (#log): search, next/previous match, step filter, save, wrap, copy its path."""

    log_path: Path | None

    def _log(self) -> LogView:
        return self.query_one("#log", LogView)  # type: ignore[attr-defined]

    def show_log_path(self, path: Path | None) -> None:
        self.query_one("#log-path", LogPath).set_path(path)  # type: ignore[attr-defined]
        self._title_log()

    def _title_log(self) -> None:
        log = self._log()
        words = ["log"]
        if log.step_filter is not None:
            words.append(f"{log.step_filter} only")
        if log.wrap:
            words.append("wrapped")
        log.border_title = " · ".join(words)

    # -- search --------------------------------------------------------------------

    def action_log_search(self) -> None:
        self.query_one(SearchBar).open()  # type: ignore[attr-defined]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # A handler by name (a mixin's @on handlers are not collected by Textual).
        if event.input.id != "search-text":
            return
        event.stop()
        log = self._log()
        if event.value != log.search_text:
            log.search(event.value)
        else:
            log.find_next()
        self._say_matches()
        log.focus()

    def _say_matches(self) -> None:
        log = self._log()
        found = log.matches()
        if not log.search_text:
            text = ""
        elif not found:
            text = "not found"
        else:
            place = found.index(log.match_line) + 1 if log.match_line in found else 0
            text = f"{place} of {len(found)}"
        self.query_one(SearchBar).show_count(text)  # type: ignore[attr-defined]

    def action_log_next(self) -> None:
        self._step_match(forward=True)

    def action_log_previous(self) -> None:
        self._step_match(forward=False)

    def _step_match(self, forward: bool) -> None:
        log = self._log()
        if not log.search_text:
            self.action_log_search()
            return
        found = log.find_next() if forward else log.find_previous()
        if not found:
            self.app.bell()  # type: ignore[attr-defined]
        self._say_matches()

    # -- filter and wrap -------------------------------------------------------------

    def log_steps(self) -> list[str]:
        """The steps the filter goes through, in order (the screen knows them)."""
        return []

    def action_log_filter(self) -> None:
        """Show the next step's lines only; after the last step, every line again."""
        log = self._log()
        steps = self.log_steps()
        choices: list[str | None] = [None, *steps]
        now = choices.index(log.step_filter) if log.step_filter in choices else 0
        log.set_filter(choices[(now + 1) % len(choices)])
        self._title_log()
        shown = log.step_filter or "every step"
        self.notify(f"the log shows {shown}" + (" (l: next step)" if log.step_filter else ""), title="Log filter")  # type: ignore[attr-defined]
        self._say_matches()

    def action_log_wrap(self) -> None:
        log = self._log()
        log.set_wrap(not log.wrap)
        self._title_log()
        self._say_matches()

    # -- save and copy ---------------------------------------------------------------

    def action_log_save(self) -> None:
        log = self._log()
        stem = self.log_path.stem if self.log_path else "emi-tui-build"
        name = f"{stem}-{log.step_filter}.log" if log.step_filter else f"{stem}.log"
        what = f"the {log.step_filter} lines" if log.step_filter else "the log's lines"
        self.app.push_screen(PathPrompt(  # type: ignore[attr-defined]
            f"Save {what} to a new file (an existing file is never overwritten)", str(Path.cwd() / name), "Save", self._save_to,
        ))

    def _save_to(self, path: Path) -> str | None:
        """Write the log's lines to the new file `path`; why not, or None when written."""
        try:
            write_new(path, self._log().visible_text(), 0o600)
        except EmiError:
            return f"{path} exists already: choose another name (nothing was overwritten)"
        except OSError as exc:
            return f"cannot write {path}: {exc.strerror or exc}"
        self.notify(Content(f"saved to {printable(str(path))}"), title="Log saved")  # type: ignore[attr-defined]
        return None

    def action_copy_log_path(self) -> None:
        if self.log_path is None:
            self.app.bell()  # type: ignore[attr-defined]
            return
        self.app.copy_to_clipboard(str(self.log_path))  # type: ignore[attr-defined]
        # OSC 52 has no answer: the terminal may have ignored it, so nothing here claims it was copied.
        self.notify(Content(printable(str(self.log_path))), title=SENT_TO_CLIPBOARD)  # type: ignore[attr-defined]
