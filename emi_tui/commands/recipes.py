"""`emi-tui recipes`: the recipes found, in a rich table."""

from __future__ import annotations

from rich.table import Table

from emi_tui.commands.console import err, out
from emi_tui.engine.errors import ExitCode
from emi_tui.engine.answers.recipes import RecipeBook, recipe_dirs


def run() -> ExitCode:
    book = RecipeBook()
    table = Table(title="emi-tui recipes", title_justify="left")
    for column in ("name", "description", "releases", "arches", "bootstrap", "min size", "file"):
        table.add_column(column, overflow="fold")
    for name in book.names():
        recipe = book.recipes[name]
        releases = ", ".join(f"[b]{r}[/]" if r == recipe.default_release else r for r in recipe.releases)
        table.add_row(
            name, recipe.description, releases, ", ".join(recipe.arches), recipe.bootstrap, recipe.min_size, str(book.sources[name])
        )
    out.print(table)
    out.print(f"[dim]searched: {', '.join(str(d) for d in recipe_dirs())}[/]")
    for problem in book.problems:
        err.print(str(problem), markup=False)
    return ExitCode.BAD_INPUT if book.problems else ExitCode.OK
