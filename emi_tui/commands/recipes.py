"""`emi-tui recipes`: the recipes found, in a rich table, and which of them replace a shipped one."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text

from emi_tui.commands.console import err, out, safe_text
from emi_tui.engine.answers.recipes import RecipeBook, recipe_dirs
from emi_tui.engine.answers.trust import override_warnings
from emi_tui.engine.errors import ExitCode


def run(recipes_dir: Path | None = None) -> ExitCode:
    book = RecipeBook(recipe_dirs(recipes_dir))
    table = Table(title="emi-tui recipes", title_justify="left")
    for column in ("name", "description", "releases", "arches", "bootstrap", "min size", "file"):
        table.add_column(column, overflow="fold")
    for name in book.names():
        recipe = book.recipes[name]
        # A recipe may come from the operator's folders or elsewhere: its words are shown, never read as markup.
        releases = Text(", ").join(safe_text((r, "bold" if r == recipe.default_release else "")) for r in recipe.releases)
        file = safe_text(book.sources[name])
        if recipe.replaces is not None:
            file.append(" (replaces the shipped one)", style="bold yellow")
        table.add_row(
            safe_text(name), safe_text(recipe.description), releases, safe_text(", ".join(recipe.arches)),
            safe_text(recipe.bootstrap), safe_text(recipe.min_size), file,
        )
    out.print(table)
    out.print(safe_text((f"searched: {', '.join(str(d) for d in recipe_dirs(recipes_dir))}", "dim")))
    for warning in override_warnings(book):
        err.print(safe_text(f"warning: {warning}"))
    for problem in book.problems:
        err.print(safe_text(problem))
    return ExitCode.BAD_INPUT if book.problems else ExitCode.OK
