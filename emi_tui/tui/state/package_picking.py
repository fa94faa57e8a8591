"""The Packages step's side of the wizard state: the mirror's catalog, unknown packages as problems, and adding names.

`WizardState` mixes this in; it is kept apart so that the look-ups and the
rules of what adding a name does read in one place. Like wizard_state, this
module does not import Textual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.build.package_catalog import CatalogSource, PackageCatalog
from emi_tui.engine.errors import Problem

#: The source the wizard's own problems name (wizard_state.WIZARD_SOURCE).
SOURCE = "wizard"


class PackagePicking:
    """The Packages step's look-ups: the mirror's catalog for these answers, and what adding names does."""

    #: The catalog of the index the answers install from, once the Packages step has it (None: not looked up).
    package_catalog: PackageCatalog | None = None
    #: The image's own packages (a modify's manifest), when known: adding one of them is refused.
    installed_packages: dict[str, str] | None = None

    answers: Answers

    @property
    def recipe(self) -> Recipe | None:  # WizardState's
        raise NotImplementedError

    _sources: dict[tuple[object, ...], CatalogSource | None] | None = None

    def catalog_source(self) -> CatalogSource | None:
        """The index the answers install from (kept: it may read the workstation's apt sources, and runs on every redraw)."""
        recipe, answers = self.recipe, self.answers
        if recipe is None:
            return None
        key = (recipe.name, str(answers.mirror), str(answers.release), str(answers.arch))
        if self._sources is None:
            self._sources = {}
        if key not in self._sources:
            self._sources[key] = CatalogSource.of(answers, recipe)
        return self._sources[key]

    def current_catalog(self) -> PackageCatalog | None:
        """The catalog, when it is the one of the answers' mirror, release and arch as they stand now."""
        catalog = self.package_catalog
        return catalog if catalog is not None and catalog.source == self.catalog_source() else None

    def package_problems(self) -> list[Problem]:
        """An added package the chosen release does not carry for the arch is an error, as the build would find it."""
        catalog, recipe = self.current_catalog(), self.recipe
        added = self.answers.packages.add
        if catalog is None or recipe is None or not isinstance(added, list):
            return []
        return [Problem(SOURCE, 0, 0, f"packages.add[{i}]", catalog.missing_message(name))
                for i, name in enumerate(added)
                if isinstance(name, str) and package_name_problem(name, recipe.family) is None and not catalog.has(name)]

    def pick(self, text: str) -> list[PackageOutcome]:
        """What adding the names in `text` (space- or comma-separated) does to each: add, check again, or refuse and why.

        Nothing is changed here: the Packages step applies the outcomes to its lists.
        """
        recipe = self.recipe
        assert recipe is not None
        catalog = self.current_catalog()
        arch = self.answers.arch if isinstance(self.answers.arch, str) else ""
        base = set(recipe.base_for(arch)) | (catalog.bootstrap_set(recipe, arch) if catalog is not None else set())
        added = [p for p in self.answers.packages.add if isinstance(p, str)]
        removed = set(self.answers.packages.remove)
        where = catalog.source.describe() if catalog is not None else ""
        outcomes: list[PackageOutcome] = []
        for name in [n for n in re.split(r"[\s,]+", text) if n]:
            problem = package_name_problem(name, recipe.family)
            if problem:
                outcomes.append(PackageOutcome(name, "refuse", problem, error=True))
            elif name in added:
                outcomes.append(PackageOutcome(name, "refuse", f"{name} is already added"))
            elif self.installed_packages is not None and name in self.installed_packages and name not in recipe.packages:
                outcomes.append(PackageOutcome(name, "refuse", f"{name} is already installed in the image"))
            elif catalog is not None and not catalog.has(name):
                outcomes.append(PackageOutcome(name, "refuse", catalog.missing_message(name), error=True))
            elif name in recipe.packages and (name in removed or name in recipe.trim):
                why = "trimmed by the recipe" if name in recipe.trim and name not in removed else "unchecked"
                outcomes.append(PackageOutcome(name, "recheck", f"{name} is one of the recipe's defaults ({why}): checked again"))
                added.append(name)
            elif name in recipe.packages:
                outcomes.append(PackageOutcome(name, "refuse", f"{name} is already in the recipe's default list"))
            elif name in base:
                outcomes.append(PackageOutcome(name, "refuse", f"{name} is already in the base every {recipe.name} image gets"))
            else:
                found = f" from {where}" if catalog is not None else " (not looked up: the package index is not at hand)"
                outcomes.append(PackageOutcome(name, "add", f"added {name}{found}"))
                added.append(name)
        return outcomes


@dataclass(frozen=True)
class PackageOutcome:
    """What adding one name did: `action` is "add", "recheck" (a recipe default checked again) or "refuse"."""

    name: str
    action: str
    message: str
    error: bool = False  # an invalid name or one the release lacks, not merely one already there
