"""The tables the headless commands print (`recipes`, `review`, `cache list`), fitted to where they go.

A table never splits a word across lines. On a terminal each shown column is
at least as wide as its longest word; when the terminal is too narrow for every
column, the columns with the lowest priority are left out (and a note names
them). To a pipe, with `--plain`, or when even the must-have columns do not
fit, each row becomes a record: one `key: value` line per field, records
separated by a blank line, which scripts read with grep and awk.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.box import HEAVY_HEAD
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: What a table with n columns (HEAVY_HEAD box, one space of padding each side) spends on borders and padding.
PADDING = 1


def overhead(columns: int) -> int:
    """Border and padding cells of a boxed table with `columns` columns: a border before each and one after, padding both sides."""
    return columns + 1 + 2 * PADDING * columns


@dataclass(frozen=True)
class Column:
    """One column of a table and one field of its records.

    `priority` 1 is always shown; at a narrow terminal the highest number is
    left out first (ties: the rightmost first).
    """

    name: str
    priority: int = 1


def _plain(cell: Text | str) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=1)


def _longest_line(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=1)


def fit_widths(columns: list[Column], rows: list[list[Text | str]], width: int) -> dict[int, int] | None:
    """Column index -> width for the columns that fit in `width` cells without splitting a word, or None when even priority 1 does not fit."""
    texts = [[columns[i].name, *(_plain(row[i]) for row in rows)] for i in range(len(columns))]
    least = [max(_longest_word(t) for t in column) for column in texts]
    most = [max(max(_longest_line(t) for t in column), least[i]) for i, column in enumerate(texts)]
    shown = list(range(len(columns)))
    while sum(least[i] for i in shown) + overhead(len(shown)) > width:
        droppable = [i for i in shown if columns[i].priority > 1]
        if not droppable:
            return None
        shown.remove(max(reversed(droppable), key=lambda i: columns[i].priority))  # the rightmost of the lowest priority
    widths = {i: least[i] for i in shown}
    spare = width - overhead(len(shown)) - sum(widths.values())
    # The room left goes first to the columns that need least to be one line each (a short header, a list of
    # arches), whole; what remains is shared equally by the long texts.
    growing = sorted((i for i in shown if widths[i] < most[i]), key=lambda i: most[i] - widths[i])
    while growing and most[growing[0]] - widths[growing[0]] <= spare:
        first = growing.pop(0)
        spare -= most[first] - widths[first]
        widths[first] = most[first]
    for rank, i in enumerate(growing):
        widths[i] += spare // len(growing) + (1 if rank < spare % len(growing) else 0)
    return widths


def record_lines(columns: list[Column], rows: list[list[Text | str]]) -> list[str]:
    """Each row as `key: value` lines (a value of several lines gives one line each), a blank line between rows."""
    lines: list[str] = []
    for number, row in enumerate(rows):
        if number:
            lines.append("")
        for column, cell in zip(columns, row):
            values = _plain(cell).splitlines() or [""]
            lines.extend(f"{column.name}: {value}".rstrip() for value in values)
    return lines


def print_table(
    console: Console, title: str | Text, columns: list[Column], rows: list[list[Text | str]],
    *, plain: bool = False, show_lines: bool = False, plain_hint: str = "",
) -> None:
    """Print `rows` as a table fitted to the console, or as records (a pipe, `plain`, or a terminal too narrow for the must-have columns).

    `plain_hint` is the command that shows every field (e.g. "emi-tui recipes --plain"), named when columns are left out.
    """
    widths = None if plain or not console.is_terminal else fit_widths(columns, rows, console.width)
    if widths is None:
        for line in record_lines(columns, rows):
            console.print(Text(line), soft_wrap=True)
        return
    # The title is a line of its own, not the table's: a long path in it is never folded to the table's width.
    console.print(Text(title, style="italic") if isinstance(title, str) else title, soft_wrap=True)
    table = Table(box=HEAVY_HEAD, padding=(0, PADDING), show_lines=show_lines)
    for i, width in widths.items():
        # A fixed width at least that of the column's longest word: rich wraps at spaces only, never inside a word.
        table.add_column(columns[i].name, width=width, overflow="fold")
    for row in rows:
        table.add_row(*(row[i] for i in widths))
    console.print(table)
    hidden = [column.name for i, column in enumerate(columns) if i not in widths]
    if hidden:
        note = f"not shown at this width: {', '.join(hidden)}" + (f" ({plain_hint} shows every field)" if plain_hint else "")
        console.print(Text(note, style="dim"), soft_wrap=True)
