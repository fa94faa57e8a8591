"""What an operator must be told before trusting a build: unchecked package sources and replaced recipes.

Both are allowed, but never silently: the dry-run plan and the build log
(preflight), `emi-tui validate` and `emi-tui recipes`, and the wizard's Distro
and Summary steps show these lines.
"""

from __future__ import annotations

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import Recipe, RecipeBook
from emi_tui.engine.answers.sources import unsigned_options


def recipe_override_warning(recipe: Recipe) -> str | None:
    """The warning for a recipe that replaces a shipped one of the same name, or None."""
    if recipe.replaces is None:
        return None
    return (
        f"the recipe {recipe.name!r} comes from {recipe.source}, not the shipped {recipe.replaces}: "
        "its package lists and cleanup commands (run as root) are that file's"
    )


def override_warnings(book: RecipeBook) -> list[str]:
    """One warning for each recipe of `book` that replaces a shipped one."""
    return [w for w in (recipe_override_warning(book.recipes[name]) for name in book.overrides()) if w]


def unsigned_warnings(answers: Answers) -> list[str]:
    """One warning for each repository whose packages apt installs unchecked (allowed by allow_unsigned: true)."""
    warnings = []
    for index, repository in enumerate(answers.repositories):
        options = unsigned_options(repository.line)
        if options:
            warnings.append(
                f"repositories[{index}] is used without signature checks ([{' '.join(options)}], allowed by allow_unsigned: true): "
                f"{repository.line}"
            )
    return warnings


def trust_warnings(answers: Answers, recipe: Recipe) -> list[str]:
    """Every warning a build of `answers` with `recipe` must show: a replaced recipe, then unchecked sources."""
    override = recipe_override_warning(recipe)
    return ([override] if override else []) + unsigned_warnings(answers)
