"""`emi-tui recipes`: the recipes found, in a rich table, and which of them replace a shipped one."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text

from emi_tui.commands.console import err, out
from emi_tui.engine.errors import ExitCode
from emi_tui.engine.answers.recipes import RecipeBook, recipe_dirs
from emi_tui.engine.answers.trust import override_warnings


def run(recipes_dir: Path | None = None) -> ExitCode:
    book = RecipeBook(recipe_dirs(recipes_dir))
    table = Table(title="emi-tui recipes", title_justify="left")
    for column in ("name", "description", "releases", "arches", "bootstrap", "min size", "file"):
        table.add_column(column, overflow="fold")
    for name in book.names():
        recipe = book.recipes[name]
        # A recipe's own words are text, never markup: a recipe from elsewhere could otherwise dress itself up.
        releases = Text(", ").join(Text(r, style="bold" if r == recipe.default_release else "") for r in recipe.releases)
        file = Text(str(book.sources[name]))
        if recipe.replaces is not None:
            file.append(" (replaces the shipped one)", style="bold yellow")
        table.add_row(Text(name), Text(recipe.description), releases, ", ".join(recipe.arches), recipe.bootstrap, recipe.min_size, file)
    out.print(table)
    out.print(Text(f"searched: {', '.join(str(d) for d in recipe_dirs(recipes_dir))}", style="dim"))
    for warning in override_warnings(book):
        err.print(f"warning: {warning}", markup=False)
    for problem in book.problems:
        err.print(str(problem), markup=False)
    return ExitCode.BAD_INPUT if book.problems else ExitCode.OK
