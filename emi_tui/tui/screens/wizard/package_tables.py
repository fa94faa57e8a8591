"""The Packages step's pieces that read the catalog: name completion and the two tables.

Both tables have fixed column widths and scroll sideways, so that at 80
columns a name or a size is never squeezed to nothing. Every cell that comes
from outside (package names from answer files, descriptions from the mirror)
is a rich Text made printable: a DataTable reads a str cell as markup.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.suggester import Suggester
from textual.widgets import DataTable

from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.build.package_catalog import PackageCatalog, PackageFacts
from emi_tui.engine.sizes import human
from emi_tui.engine.text import printable

#: (label, width): wide enough for nearly every Debian name and for "1023.9 MB".
NAME, FROM, SIZE, DESCRIPTION = ("package", 26), ("from", 10), ("installed", 10), ("description", 64)
ADDS = ("adds", 10)


class CatalogSuggester(Suggester):
    """Completes the last name typed from the catalog (→ takes the completion)."""

    def __init__(self, catalog: Callable[[], PackageCatalog | None]) -> None:
        # No cache: the catalog arrives after the first keystrokes, and changes with the release.
        super().__init__(use_cache=False, case_sensitive=True)
        self._catalog = catalog

    async def get_suggestion(self, value: str) -> str | None:
        catalog = self._catalog()
        if catalog is None or not value or value[-1] in " ,":
            return None
        head, _, last = value.rpartition(" ")
        completion = catalog.complete(last)
        if completion is None or package_name_problem(completion, "deb"):  # the mirror's names go into the field as typed
            return None
        return f"{head} {completion}" if head else completion


def set_columns(table: DataTable, *columns: tuple[str, int]) -> None:
    if not table.columns:
        for label, width in columns:
            table.add_column(label, width=width, key=label)


def name_cell(name: str, style: str = "") -> Text:
    return Text(printable(name), style=style, no_wrap=True)


def fact_cells(facts: PackageFacts | None, *, adds_word: str = "") -> list[Text]:
    """installed, adds and description cells for `facts` (dim dashes when the catalog does not know it)."""
    if facts is None:
        return [Text("—", style="dim"), Text("—", style="dim"), Text("")]
    adds = human(facts.adds_bytes) if facts.adds_packages else "nothing"
    if facts.adds_packages > 1:
        adds += f" ({facts.adds_packages})"
    return [Text(human(facts.installed_bytes), justify="right"), Text(adds_word + adds, justify="right"),
            Text(printable(facts.description), no_wrap=True)]


def fill_matches(table: DataTable, catalog: PackageCatalog, names: list[str], roots: list[str]) -> None:
    """The search results: each name with its sizes and description."""
    set_columns(table, NAME, SIZE, ADDS, DESCRIPTION)
    table.clear()
    for name in names:
        table.add_row(name_cell(name), *fact_cells(catalog.facts(name, roots)), key=name)


def fill_result(table: DataTable, rows: list[tuple[str, str, str]], catalog: PackageCatalog | None, roots: list[str]) -> None:
    """The resulting list: (name, where it comes from, its style) rows, with the catalog's facts when at hand."""
    set_columns(table, NAME, FROM, SIZE, ADDS, DESCRIPTION)
    table.clear()
    for name, origin, style in rows:
        facts = catalog.facts(name, roots) if catalog is not None and catalog.has(name) else None
        cells = fact_cells(facts)
        if catalog is not None and facts is None:
            why = "not a valid package name" if package_name_problem(name, "deb") else f"not in {catalog.source.describe()}"
            cells = [Text("—", style="dim"), Text("—", style="dim"), Text(printable(why), style="bold red")]
        table.add_row(name_cell(name, style), Text(origin, style="dim" if origin == "image" else ""), *cells, key=name)
