"""`emi-tui recipes`: the recipes found, in a rich table, and which of them replace a shipped one."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from emi_tui.commands.console import err, out, safe_text
from emi_tui.commands.tables import Column, print_table
from emi_tui.engine.answers.recipes import RecipeBook, recipe_dirs
from emi_tui.engine.answers.trust import override_warnings
from emi_tui.engine.errors import ExitCode

#: The fields of a recipe, most wanted first: a narrow terminal leaves out the file first, then the bootstrap, ...
COLUMNS = [Column("name"), Column("description"), Column("releases", 2), Column("arches", 3), Column("bootstrap", 4),
           Column("min size", 3), Column("file", 5)]


def run(recipes_dir: Path | None = None, names: list[str] | None = None, plain: bool = False) -> ExitCode:
    """Print the recipes (only `names` when given: an unknown name is bad input) as a table or records; 2 if a recipe file is bad."""
    book = RecipeBook(recipe_dirs(recipes_dir))
    for name in names or []:
        book.get(name)  # an EmiError with a did-you-mean, before anything is printed
    rows = []
    for name in names or book.names():
        recipe = book.recipes[name]
        # A recipe may come from the operator's folders or elsewhere: its words are shown, never read as markup.
        releases = Text(", ").join(safe_text((r, "bold" if r == recipe.default_release else "")) for r in recipe.releases)
        file = safe_text(book.sources[name])
        if recipe.replaces is not None:
            file.append(" (replaces the shipped one)", style="bold yellow")
        rows.append([
            safe_text(name), safe_text(recipe.description), releases, safe_text(", ".join(recipe.arches)),
            safe_text(recipe.bootstrap), safe_text(recipe.min_size), file,
        ])
    print_table(out, "emi-tui recipes", COLUMNS, rows, plain=plain, plain_hint="emi-tui recipes --plain")
    out.print()  # a block of its own, not a field of the last record
    out.print(safe_text((f"searched: {', '.join(str(d) for d in recipe_dirs(recipes_dir))}", "dim")))
    for warning in override_warnings(book):
        err.print(safe_text(f"warning: {warning}"))
    for problem in book.problems:
        err.print(safe_text(problem))
    return ExitCode.BAD_INPUT if book.problems else ExitCode.OK
