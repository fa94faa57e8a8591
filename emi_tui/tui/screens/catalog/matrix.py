"""Release a catalog, first screen: pick the images from a grid of recipes × arches × sizes.

The grid is a DataTable with a cell cursor: the arrows move, space picks or
unpicks an image, `r` changes the release of the recipe under the cursor.
Below it the output folder and the compressor. Every change resolves the
picked catalog with the engine's own rules; its problems are shown in words
and Next stays disabled until there are none. ctrl+s saves the catalog as a
YAML file that `emi-tui catalog build` reads.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static

from emi_tui.engine.catalog.resolve import ResolvedCatalog
from emi_tui.engine.safefs import write_atomic
from emi_tui.engine.text import printable
from emi_tui.tui.state.catalog_picking import COMPRESSORS, CatalogPick, Cell, size_label
from emi_tui.tui.widgets.header import ScreenHeader
from emi_tui.tui.widgets.path_prompt import PathPrompt

PICKED, NOT_PICKED, NOT_BUILT = "✓", "·", "—"
#: A grid column's width: "x86_64" and "1.3 GB" under it.
GRID_CELL = 6


class CatalogMatrixScreen(Screen):
    """Pick a catalog's images; Next opens its plan."""

    DEFAULT_CSS = """
    CatalogMatrixScreen #catalog-matrix { padding: 0 1; height: 1fr; }
    CatalogMatrixScreen #grid { height: auto; max-height: 8; margin-bottom: 1; }
    CatalogMatrixScreen #catalog-settings { height: auto; }
    CatalogMatrixScreen #catalog-settings Label { padding: 0 1 0 0; }
    CatalogMatrixScreen #folder { width: 1fr; }
    CatalogMatrixScreen #compress { width: 16; }
    CatalogMatrixScreen #catalog-problems { height: auto; max-height: 6; }
    CatalogMatrixScreen #catalog-count { color: $text-muted; height: auto; }
    CatalogMatrixScreen #catalog-buttons { height: auto; align-horizontal: right; }
    CatalogMatrixScreen #catalog-buttons Button { margin-left: 2; }
    """
    AUTO_FOCUS = "#grid"
    BINDINGS = [
        Binding("space", "toggle", "Pick/unpick"),
        Binding("r", "release", "Release"),
        Binding("ctrl+s", "save", "Save catalog", priority=True),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, pick: CatalogPick) -> None:
        super().__init__()
        self.pick = pick
        self.resolved: ResolvedCatalog | None = None
        self.sub_title = "release a catalog · pick the images"

    def compose(self) -> ComposeResult:
        yield ScreenHeader()
        with Vertical(id="catalog-matrix"):
            yield Static(Content.assemble("Each cell is one image. ", ("Arrows", "bold"), " move, ", ("space", "bold"), " picks or unpicks, ",
                                          ("r", "bold"), " changes the recipe's release. Large images are 4.5 GB."), id="catalog-lead")
            yield DataTable(id="grid", cursor_type="cell", header_height=2, zebra_stripes=True)
            with Horizontal(id="catalog-settings"):
                yield Label("Output folder")
                yield Input(self.pick.folder, id="folder", compact=True)
                yield Label(" Compression")
                yield Select([(name, name) for name in COMPRESSORS], value=self.pick.compress, allow_blank=False, id="compress", compact=True)
            yield Static(id="catalog-count")
            yield Static(id="catalog-problems")
            with Horizontal(id="catalog-buttons"):
                yield Button("Back (esc)", id="back", compact=True)
                yield Button("Next: the plan", id="next", variant="primary", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#grid", DataTable)
        table.add_column("recipe", key="recipe", width=max(len(r) for r in self.pick.recipes))
        table.add_column("release", key="release", width=max(len(x) for r in self.pick.book.recipes.values() for x in r.releases))
        for arch, size in self.pick.columns:
            table.add_column(Text(f"{arch}\n{size_label(size)}"), key=f"{arch}/{size}", width=max(GRID_CELL, len(arch)))
        for recipe in self.pick.recipes:
            table.add_row(*self._row(recipe), key=recipe)
        first = self.pick.ordered()[0] if self.pick.chosen else (self.pick.recipes[0], *self.pick.columns[0])
        table.move_cursor(row=self.pick.recipes.index(first[0]), column=2 + self.pick.columns.index((first[1], first[2])))
        self._changed()

    def _row(self, recipe: str) -> list[object]:
        # Rich Text, not Content: DataTable draws and measures Rich renderables (see the Review screen).
        colours = self.app.get_css_variables()
        cells: list[object] = [Text(recipe), Text(self.pick.releases[recipe])]
        for arch, size in self.pick.columns:
            cell = (recipe, arch, size)
            if not self.pick.available(cell):
                cells.append(Text(f"  {NOT_BUILT}", style="dim"))
            elif cell in self.pick.chosen:
                cells.append(Text(f"  {PICKED}", style=f"bold {colours['success']}"))
            else:
                cells.append(Text(f"  {NOT_PICKED}"))
        return cells

    def _redraw_row(self, recipe: str) -> None:
        table = self.query_one("#grid", DataTable)
        for column, value in zip(table.columns, self._row(recipe), strict=True):
            table.update_cell(recipe, column, value)

    def _cell(self) -> tuple[str, Cell | None]:
        """The recipe under the cursor, and the image of its cell (None on the recipe and release columns)."""
        table = self.query_one("#grid", DataTable)
        recipe = self.pick.recipes[table.cursor_row]
        column = table.cursor_column - 2
        if column < 0:
            return recipe, None
        arch, size = self.pick.columns[column]
        return recipe, (recipe, arch, size)

    # -- what changed ------------------------------------------------------------------

    def _changed(self) -> None:
        """Resolve the picked catalog again; show its images or its problems; Next only when it builds."""
        self.resolved = self.pick.resolve()
        count = self.query_one("#catalog-count", Static)
        problems = self.query_one("#catalog-problems", Static)
        if self.resolved.ok:
            folder = self.resolved.folder
            count.update(Content(f"{len(self.resolved.images)} images, written to {printable(str(folder))}"))
            problems.update("")
        else:
            count.update(Content(f"{self.pick.count()} images picked"))
            words = [p.message for p in self.resolved.problems] or ["pick at least one image"]
            problems.update(Content("\n").join(Content.assemble(("✗ ", "$text-error"), printable(w)) for w in dict.fromkeys(words)))
        self.query_one("#next", Button).disabled = not self.resolved.ok

    @on(Input.Changed, "#folder")
    def _folder_changed(self, event: Input.Changed) -> None:
        self.pick.folder = event.value.strip()
        self._changed()

    @on(Select.Changed, "#compress")
    def _compress_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.pick.compress = event.value
            self._changed()

    @on(Input.Submitted, "#folder")
    @on(DataTable.CellSelected, "#grid")
    def _cell_selected(self) -> None:
        # Enter on the grid goes forward, as on every step; space is the toggle.
        self.action_next()

    # -- actions ------------------------------------------------------------------------

    def action_toggle(self) -> None:
        if not self.query_one("#grid", DataTable).has_focus:
            return
        recipe, cell = self._cell()
        if cell is None or not self.pick.toggle(cell):
            self.app.bell()
            if cell is not None:
                self.notify(f"{recipe} does not build {cell[1]} images", severity="warning")
            return
        self._redraw_row(recipe)
        self._changed()

    def action_release(self) -> None:
        if not self.query_one("#grid", DataTable).has_focus:
            return
        recipe, _ = self._cell()
        self.pick.cycle_release(recipe)
        self._redraw_row(recipe)
        self._changed()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle", "release") and self.is_mounted:
            grids = self.query("#grid")
            return bool(grids) and grids.first().has_focus
        return True

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        if self.resolved is None or not self.resolved.ok:
            self.app.bell()
            return
        from emi_tui.tui.screens.catalog.plan import CatalogPlanScreen

        self.app.push_screen(CatalogPlanScreen(self.resolved))

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()

    def action_save(self) -> None:
        def save(path: Path) -> str | None:
            if not path.parent.is_dir():
                return f"No folder {path.parent}"
            try:
                write_atomic(path, self.pick.save_text())
            except OSError as exc:
                return f"Cannot write {path}: {exc.strerror or exc}"
            self.notify(f"Saved {printable(str(path))}: emi-tui catalog build {printable(str(path))}", markup=False)
            return None

        self.app.push_screen(PathPrompt("Save the catalog", "release.yaml", "Save", save, placeholder="path/to/release.yaml"))

    @on(DataTable.CellHighlighted, "#grid")
    def _moved(self) -> None:
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()
