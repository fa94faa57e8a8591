"""The review screen: image-id files, folders, catalogs and images, entry by entry.

The review itself (emi_tui.engine.review.review) runs in a thread worker: reading an
image can take seconds. The table gives each entry's problems and whether
its stamp is verified; the pane beside it shows the highlighted entry in
full. Marking an entry (m) turns the pane into a field-by-field comparison
of the marked entry with whichever entry is highlighted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from emi_tui.engine.errors import EmiError
from emi_tui.engine.text import printable
from emi_tui.tui.messages import ReviewLoaded
from emi_tui.tui.widgets.header import ScreenHeader

Reviewer = Callable[[list[Path]], list[Any]]
SEVERITY_STYLE = {"error": "$error", "warning": "$warning"}


def default_reviewer() -> Reviewer:
    """The core review, imported on first use (it reads images, a heavier import)."""
    from emi_tui.engine.review.review import review_paths

    return review_paths


def entry_label(entry: Any) -> str:
    """Where the entry came from (a path, and its entry in a catalog or image), made printable: both come from outside."""
    return printable(f"{entry.source} · {entry.entry}" if entry.entry else str(entry.source))


def problem_summary(entry: Any) -> tuple[str, str]:
    """'2 errors, 1 warning' (or 'ok') and the style of the worst."""
    errors = sum(p.severity == "error" for p in entry.problems)
    warnings = len(entry.problems) - errors
    failed_hygiene = sum(not h.ok for h in entry.hygiene or ())
    parts = [f"{n} {word}{'s' if n > 1 else ''}" for n, word in ((errors, "error"), (warnings, "warning"), (failed_hygiene, "hygiene")) if n]
    style = "$error" if errors or failed_hygiene else ("$warning" if warnings else "$success")
    return (", ".join(parts) or "ok"), style


def compare_entries(left: Any, right: Any) -> list[tuple[str, str, str, bool]]:
    """Field-by-field: (field, left value, right value, differs), the image-id order first."""
    from emi_tui.engine.image.imageid import FIELDS

    names = [f for f in FIELDS if f in left.fields or f in right.fields]
    names += sorted((set(left.fields) | set(right.fields)) - set(names))
    # Names and values are the image-id's own text: made printable here, where every comparison row is made.
    rows = [(printable(n), printable(left.fields.get(n, "—")), printable(right.fields.get(n, "—")), left.fields.get(n) != right.fields.get(n))
            for n in names]
    stamp = ("stamp check", _stamp_word(left), _stamp_word(right))
    rows.append((*stamp, stamp[1] != stamp[2]))
    problems = ("problems", problem_summary(left)[0], problem_summary(right)[0])
    rows.append((*problems, problems[1] != problems[2]))
    return rows


def _stamp_word(entry: Any) -> str:
    check = entry.stamp_check
    return f"verified UTC{check.utc_offset or ''}" if check.verified else "not verified"


def fit_columns(table: DataTable, rows: list[tuple]) -> None:
    """Size the table's columns to their labels and these rows, before the rows are added.

    DataTable sizes auto-width columns later, when it is idle, and does not
    repaint lines it drew before that (textual 8.2): a table painted in
    between kept columns as narrow as their labels. Fixed widths measured here
    make the first picture the right one.
    """
    for position, column in enumerate(table.ordered_columns):
        if column.key.value == "mark":
            continue  # one cell wide by design
        cells = [cells[position] for cells in rows]
        column.width = max([cell_len(column.label.plain), *(cell_len(getattr(cell, "plain", str(cell))) for cell in cells)])
        column.auto_width = False


class ReviewScreen(Screen):
    """Review image-ids; add paths with the input, mark one entry to compare it with another."""

    DEFAULT_CSS = """
    ReviewScreen #add-path { margin: 0 1; }
    ReviewScreen #review-body { height: 1fr; }
    ReviewScreen #entries { width: 1fr; height: 1fr; }
    ReviewScreen #detail { width: 1fr; border: round $primary 50%; padding: 0 1; }
    ReviewScreen #detail.-comparing { border: round $accent; }
    """
    BINDINGS = [
        Binding("m", "mark", "Mark to compare"),
        Binding("a", "add_path", "Add path"),
        Binding("escape", "unmark", "Stop comparing"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, paths: Iterable[Path] = (), *, reviewer: Reviewer | None = None, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.paths = [Path(p) for p in paths]
        self.entries: list[Any] = []
        self.marked: int | None = None
        self._reviewer = reviewer
        self.sub_title = "review image-ids"

    def compose(self) -> ComposeResult:
        yield ScreenHeader()
        yield Input(placeholder="add a path (image-id file, folder, catalog or image), Enter", id="add-path")
        with Horizontal(id="review-body"):
            yield DataTable(id="entries", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="detail"):
                yield Static(id="detail-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # The short verdicts first: long entry names must not push them out of view.
        table.add_column(" ", key="mark", width=1)
        for label, key in (("problems", "problems"), ("stamp", "stamp"), ("entry", "entry"), ("image", "image")):
            table.add_column(label, key=key)
        self.query_one("#detail", VerticalScroll).border_title = "entry"
        self.watch(self.app, "theme", lambda _theme: self._fill_table(), init=False)
        if self.paths:
            self._load(list(self.paths))
            table.focus()
        else:
            self._show_detail()
            self.query_one(Input).focus()

    # -- loading ------------------------------------------------------------------------

    @work(thread=True, group="review", exit_on_error=False)
    def _load(self, paths: list[Path]) -> None:
        try:
            entries = (self._reviewer or default_reviewer())(paths)
        except EmiError as exc:  # an artifact refused by its survey (a link, an unsafe name, several images): bad input
            self.post_message(ReviewLoaded(paths, [], f"{exc.message}: {exc.hint}" if exc.hint else exc.message))
            return
        except Exception as exc:  # review_paths reports other bad input as entries; this is a bug, shown not lost
            self.post_message(ReviewLoaded(paths, [], f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ReviewLoaded(paths, entries))

    @on(ReviewLoaded)
    def _loaded(self, message: ReviewLoaded) -> None:
        if message.error:
            self.notify(printable(message.error), title="review failed", severity="error", markup=False)  # names from artifacts: never markup
            return
        self.entries.extend(message.entries)
        self._fill_table()
        self._show_detail()
        self.refresh_bindings()  # mark/compare become possible now: the footer must say so

    def _fill_table(self) -> None:
        # Rich Text, not Content: DataTable measures column widths only for Rich renderables.
        # So the theme's colours are looked up here, and again when the theme changes.
        colours = self.app.get_css_variables()
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        rows = []
        for index, entry in enumerate(self.entries):
            summary, style = problem_summary(entry)
            verified = entry.stamp_check.verified
            rows.append((
                Text("A", style=f"bold {colours['accent']}") if index == self.marked else "",
                Text(summary, style=colours[style.lstrip("$")]),
                Text("verified" if verified else "not verified", style=colours["success" if verified else "error"]),
                Text(entry_label(entry)),
                Text(printable(entry.fields.get("image_name", "—"))),
            ))
        fit_columns(table, rows)
        for index, cells in enumerate(rows):
            table.add_row(*cells, key=str(index))
        if self.entries:
            table.move_cursor(row=min(max(row, 0), len(self.entries) - 1))

    @on(Input.Submitted, "#add-path")
    def _add_path(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        path = Path(text).expanduser()
        self.paths.append(path)
        event.input.value = ""
        self._load([path])
        # Focus stays in the field: the next path is typed at once, and its letters
        # never reach the table's single-key bindings (m, a). Tab goes to the table.
        event.input.focus()

    # -- showing ------------------------------------------------------------------------

    @property
    def highlighted(self) -> int | None:
        table = self.query_one(DataTable)
        return table.cursor_row if self.entries and 0 <= table.cursor_row < len(self.entries) else None

    @on(DataTable.RowHighlighted, "#entries")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        pane = self.query_one("#detail", VerticalScroll)
        body = self.query_one("#detail-body", Static)
        index = self.highlighted
        comparing = self.marked is not None and index is not None and index != self.marked
        pane.set_class(comparing, "-comparing")
        if index is None:
            pane.border_title = "entry"
            body.update("no entries yet: add a path above" if not self.entries else "")
        elif comparing:
            pane.border_title = f"compare #{self.marked + 1} with #{index + 1}"
            body.update(self._render_compare(self.entries[self.marked], self.entries[index]))
        else:
            pane.border_title = f"entry #{index + 1}" + (" (marked: move to another entry to compare)" if index == self.marked else "")
            body.update(self._render_entry(self.entries[index]))

    def _render_entry(self, entry: Any) -> Content:
        parts: list[Content] = [Content.styled(entry_label(entry), "bold"), Content("")]
        # Every field, finding and hygiene detail quotes the image or file reviewed: printable, and Content reads no markup.
        fields = {printable(key): printable(value) for key, value in entry.fields.items()}
        width = max((len(k) for k in fields), default=0)
        parts += [Content.assemble((f"{key:<{width}}  ", "$text-muted"), value) for key, value in fields.items()]
        check = entry.stamp_check
        parts += [Content(""), Content.assemble(("stamp: ", "bold"), (printable(check.describe()), "$success" if check.verified else "$error"))]
        parts += [Content(""), Content.styled("problems", "bold")]
        if not entry.problems:
            parts.append(Content.styled("  none", "$success"))
        for problem in entry.problems:
            where = f"{printable(problem.field)}: " if problem.field else ""
            parts.append(Content.assemble((f"  {problem.severity} ", SEVERITY_STYLE.get(problem.severity, "")), where, printable(problem.message)))
        if entry.hygiene is not None:
            parts += [Content(""), Content.styled("hygiene", "bold")]
            for check in entry.hygiene:
                parts.append(Content.assemble(("  ✓ " if check.ok else "  ✗ ", "$success" if check.ok else "$error"), printable(check.name),
                                              ("  " + printable(check.detail), "$text-muted")))
        if getattr(entry, "answers", None):
            parts += [Content(""), Content.styled("stored answers", "bold"), Content(printable(entry.answers.rstrip("\n"), keep_newlines=True))]
        return Content("\n").join(parts)

    def _render_compare(self, left: Any, right: Any) -> Content:
        rows = compare_entries(left, right)
        width = max(len(row[0]) for row in rows)
        parts = [
            Content.assemble(("A ", "bold $accent"), entry_label(left)),
            Content.assemble(("B ", "bold $accent"), entry_label(right)),
            Content(""),
        ]
        # Equal values once on the field's line; differing ones stacked, so long values never wrap mid-column.
        for name, a, b, differs in rows:
            if differs:
                parts.append(Content.assemble(("≠ ", "$warning"), (name, "bold")))
                parts.append(Content.assemble(("    A ", "$text-muted"), (a, "$warning")))
                parts.append(Content.assemble(("    B ", "$text-muted"), (b, "$warning")))
            else:
                parts.append(Content.assemble("  ", (f"{name:<{width}}  ", "$text-muted"), a))
        differing = sum(row[3] for row in rows)
        parts += [Content(""), Content.styled(f"{differing} of {len(rows)} differ", "bold")]
        return Content("\n").join(parts)

    # -- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "unmark":
            return self.marked is not None
        if action == "back":
            return self.marked is None
        if action == "mark":
            return True if self.entries else None
        return True

    def action_mark(self) -> None:
        index = self.highlighted
        if index is None:
            return
        table = self.query_one(DataTable)
        if self.marked is not None:
            table.update_cell(str(self.marked), "mark", "")
        self.marked = None if self.marked == index else index
        if self.marked is not None:
            table.update_cell(str(self.marked), "mark", Text("A", style=f"bold {self.app.get_css_variables()['accent']}"))
        self.refresh_bindings()
        self._show_detail()

    def action_unmark(self) -> None:
        if self.marked is not None:
            self.query_one(DataTable).update_cell(str(self.marked), "mark", "")
            self.marked = None
        self.refresh_bindings()
        self._show_detail()

    def action_add_path(self) -> None:
        self.query_one(Input).focus()

    def action_back(self) -> None:
        self.dismiss()
