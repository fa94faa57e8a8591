"""Recipes: what a distro needs to become a starter image, read from YAML files.

The shipped recipes live in recipes/; an operator adds one by dropping a YAML
file into ~/.config/emi-tui/recipes, or names a folder with `--recipes DIR`
(later folders win). A recipe's cleanup commands run as root, so no folder is
read because it happens to be the current directory, and a recipe that
replaces a shipped one says so (`Recipe.replaces`) wherever it is chosen.
A bad recipe gets the same located problems as a bad answer file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from emi_tui.engine import paths
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.answers.schema import validate_located
from emi_tui.engine.answers.yamlload import load_located_file
from emi_tui.engine.errors import EmiError, Problem, did_you_mean
from emi_tui.engine.sizes import SizeError, parse_size


class KernelFiles(BaseModel):
    """Where the kernel and ramdisk sit in the built root, as globs (newest match wins)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    kernel: str = "boot/vmlinuz-*"
    ramdisk: str = "boot/initrd.img-*"


class ArchLimit(BaseModel):
    """The releases one architecture is built for, when not every release of the recipe has it, and why."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    releases: list[str] = Field(min_length=1)
    reason: str = Field(min_length=1, description="why the other releases are not offered, in an operator's words")


class Recipe(BaseModel):
    """A distro's starter-image recipe."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    distro: str = Field(pattern=r"^[a-z0-9]+$")
    family: Literal["deb", "rpm"]
    bootstrap: Literal["debootstrap", "mmdebstrap", "dnf", "yum"]
    releases: list[str] = Field(min_length=1)
    default_release: str
    arches: dict[str, str] = Field(min_length=1, description="image_arch -> the distro's arch name")
    arch_limits: dict[str, ArchLimit] = Field(
        default_factory=dict, description="image_arch -> the only releases built for it, and why (trixie has no i386 kernel)"
    )
    default_mirror: str | None = Field(
        default=None, description="a URL, 'apt-sources' for the workstation's apt sources, or null when the operator must name one"
    )
    keyring: str | None = None
    components: list[str] = ["main"]
    kernel_packages: dict[str, str] = Field(default_factory=dict, description="image_arch -> kernel package")
    base_packages: list[str]
    packages: list[str] = Field(default_factory=list, description="the distro's default list, installed on top of the base")
    trim: list[str] = Field(default_factory=list, description="packages of the default list removed unless asked for")
    cleanup: list[list[str]]
    kernel_files: KernelFiles = KernelFiles()
    min_size: str = "700M"
    estimated_size: str = Field("650M", description="installed size of the default package set, until an estimate is made")
    # Set by the RecipeBook, never by a recipe file: where this recipe was read, and the shipped file it replaces.
    _source: Path | None = PrivateAttr(None)
    _replaces: Path | None = PrivateAttr(None)

    @field_validator("min_size", "estimated_size")
    @classmethod
    def _size(cls, value: str) -> str:
        try:
            parse_size(value)
        except SizeError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("arches")
    @classmethod
    def _arch_names(cls, arches: dict[str, str]) -> dict[str, str]:
        for image_arch, distro_arch in arches.items():
            for name in (image_arch, distro_arch):
                if not re.fullmatch(r"[a-z0-9_]+", name):
                    raise ValueError(f"{name!r} is not an architecture name (lower-case letters, digits and _)")
        return arches

    @field_validator("default_release")
    @classmethod
    def _default_is_offered(cls, value: str, info: ValidationInfo[object]) -> str:
        releases = info.data.get("releases") or []
        if releases and value not in releases:
            raise ValueError(f"{value!r} is not among releases{did_you_mean(value, releases)}")
        return value

    @model_validator(mode="after")
    def _limits_fit(self) -> Recipe:
        for arch, limit in self.arch_limits.items():
            if arch not in self.arches:
                raise ValueError(f"arch_limits names {arch!r}, which is not among arches ({', '.join(self.arches)})")
            unknown = [r for r in limit.releases if r not in self.releases]
            if unknown:
                raise ValueError(f"arch_limits.{arch} names {', '.join(map(repr, unknown))}, not among releases ({', '.join(self.releases)})")
        return self

    def releases_for(self, arch: str) -> list[str]:
        """The releases built for `arch`, in the recipe's order (every release when the arch has no limit)."""
        limit = self.arch_limits.get(arch)
        return [r for r in self.releases if limit is None or r in limit.releases]

    def default_release_for(self, arch: str) -> str:
        """The recipe's default release, or the first one built for `arch` when the default is not."""
        offered = self.releases_for(arch)
        return self.default_release if self.default_release in offered else offered[0]

    def release_refusal(self, arch: str, release: str) -> str | None:
        """Why `release` is not built for `arch` (None when it is, or when either is unknown to the recipe)."""
        limit = self.arch_limits.get(arch)
        if limit is None or release not in self.releases or release in limit.releases:
            return None
        return f"{release} is not built for {arch}: {limit.reason}; choose {' or '.join(limit.releases)}"

    @property
    def source(self) -> Path | None:
        """The file this recipe was read from (None for one made in code)."""
        return self._source

    @property
    def replaces(self) -> Path | None:
        """The shipped recipe file that this recipe (from another folder, of the same name) replaces, or None."""
        return self._replaces

    @property
    def min_size_bytes(self) -> int:
        return parse_size(self.min_size)

    @property
    def estimated_bytes(self) -> int:
        return parse_size(self.estimated_size)

    def default_package_list(self) -> list[str]:
        """The distro default list, trimmed as the recipe says."""
        return [p for p in self.packages if p not in self.trim]

    def base_for(self, arch: str) -> list[str]:
        """Base packages for `arch`, the kernel included."""
        kernel = self.kernel_packages.get(arch)
        return self.base_packages + ([kernel] if kernel else [])


def recipe_dirs(named: Path | None = None) -> list[Path]:
    """Folders searched for recipes, lowest priority first: shipped, ~/.config/emi-tui/recipes, then `named` (--recipes)."""
    if named is not None and not named.is_dir():
        raise EmiError(f"--recipes {named}: no such folder", hint="name a folder of recipe .yaml files, such as --recipes ./recipes")
    dirs = [paths.shipped_dir("recipes"), paths.config_dir() / "recipes", *([named.absolute()] if named is not None else [])]
    unique: list[Path] = []
    for folder in dirs:
        if folder.is_dir() and folder.resolve() not in [u.resolve() for u in unique]:
            unique.append(folder)
    return unique


RECIPE_EMPTY = "the recipe is empty: it needs at least name:, distro:, family:, bootstrap:, releases: and base_packages:"


def load_recipe_file(path: Path) -> tuple[Recipe | None, list[Problem]]:
    """One recipe file, validated, with located problems."""
    located = load_located_file(path, empty=RECIPE_EMPTY)
    if located.data is None:
        return None, located.problems or [located.problem((), RECIPE_EMPTY)]
    if not isinstance(located.data, dict):
        return None, [located.problem((), "a recipe is a mapping of keys (name:, distro:, releases: …)")]
    recipe, problems = validate_located(Recipe, located)
    problems = located.problems + problems  # a duplicate key, say, and everything else
    if located.problems:
        recipe = None
    data = located.data
    family = data.get("family")
    if not isinstance(family, str) or family not in ("deb", "rpm"):
        family = "deb"
    for key in ("base_packages", "packages", "trim"):
        names = data.get(key)
        for index, name in enumerate(names if isinstance(names, list) else []):
            why = package_name_problem(name, family) if isinstance(name, str) else None
            if why:
                problems.append(located.problem((key, index), why))
                recipe = None
    if recipe is not None and recipe.name != path.stem:
        problems.append(located.problem(("name",), f"the name {recipe.name!r} must match the file name {path.stem!r}"))
        recipe = None
    if recipe is not None:
        recipe._source = path
    return recipe, sorted(problems, key=lambda p: (p.line, p.column))


class RecipeBook:
    """Every recipe found, by name; bad recipe files are kept as problems, not fatal."""

    def __init__(self, dirs: list[Path] | None = None):
        """The recipes of `dirs` (default: `recipe_dirs()`), later folders winning; the shipped folder's are marked shipped."""
        self.recipes: dict[str, Recipe] = {}
        self.sources: dict[str, Path] = {}
        self.problems: list[Problem] = []
        shipped: dict[str, Path] = {}
        shipped_folder = paths.shipped_dir("recipes").resolve()
        for folder in dirs if dirs is not None else recipe_dirs():
            for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
                recipe, problems = load_recipe_file(path)
                self.problems.extend(problems)
                if recipe is None:
                    continue
                if folder.resolve() == shipped_folder:
                    shipped[recipe.name] = path
                elif recipe.name in shipped:
                    recipe._replaces = shipped[recipe.name]
                self.recipes[recipe.name] = recipe
                self.sources[recipe.name] = path

    def overrides(self) -> dict[str, Path]:
        """name -> the file of every recipe that replaces a shipped one (its commands are not the shipped ones)."""
        return {name: self.sources[name] for name, recipe in sorted(self.recipes.items()) if recipe.replaces is not None}

    @classmethod
    def named(cls, recipes_dir: Path | None) -> RecipeBook:
        """The book of the shipped recipes, the user's own and those of `recipes_dir` (the --recipes option) if given."""
        return cls(recipe_dirs(recipes_dir))

    def names(self) -> list[str]:
        return sorted(self.recipes)

    def get(self, name: str) -> Recipe:
        """The recipe called `name`, or an EmiError with a did-you-mean."""
        try:
            return self.recipes[name]
        except KeyError:
            raise EmiError(
                f"no recipe called {name!r}{did_you_mean(name, self.names())}",
                hint=f"known recipes: {', '.join(self.names())}; `emi-tui recipes` lists them",
            ) from None
