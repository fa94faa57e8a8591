"""Checks of an answer file's single values that the schema's types cannot express.

They need no recipe, only its package family (deb or rpm), which an unknown
recipe's likely meaning supplies (`guessed_family`): so a typo in the recipe
does not hide the package names' and repositories' problems until it is fixed.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from emi_tui.engine.answers.keyrings import keyring_problem
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.answers.recipes import Recipe, RecipeBook
from emi_tui.engine.answers.sources import source_line_problem, unsigned_options
from emi_tui.engine.answers.yamlload import Located, YamlMapping
from emi_tui.engine.errors import Problem

_URL = re.compile(r"^(https?|file)://[A-Za-z0-9._~:/\[\]%@+-]*$")
_METADATA_URL = re.compile(r"^https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?$")


def guessed_family(data: YamlMapping, book: RecipeBook) -> str | None:
    """The package family the answers' recipe installs; for an unknown recipe, that of the one it was likely meant to be.

    So that a typo in the recipe does not hide the problems of the package
    names and repositories: None (either family's rules) when there is no guess.
    """
    name = data.get("recipe")
    if not isinstance(name, str):
        return None
    recipe = book.recipes.get(name)
    if recipe is not None:
        return recipe.family
    close = difflib.get_close_matches(name, book.names(), n=1)
    if close:
        return book.recipes[close[0]].family
    families = {r.family for r in book.recipes.values()}
    return families.pop() if len(families) == 1 else None


def _check_packages(located: Located, data: YamlMapping, family: str | None) -> list[Problem]:
    """Package names as the family writes them, and none both added and removed."""
    problems: list[Problem] = []
    changes = data.get("packages")
    if not isinstance(changes, dict):
        return problems
    for key in ("add", "remove"):
        names = changes.get(key)
        if isinstance(names, list):
            for index, pkg in enumerate(names):
                if not isinstance(pkg, str):
                    continue  # the schema reports the wrong type
                why = package_name_problem(pkg, family or "any")
                if why:
                    problems.append(located.problem(("packages", key, index), why))
    add, remove = changes.get("add"), changes.get("remove")
    if isinstance(add, list) and isinstance(remove, list):
        for index, pkg in enumerate(add):
            if isinstance(pkg, str) and pkg in remove:
                problems.append(located.problem(("packages", "add", index), f"{pkg!r} is both added and removed: keep it in one list"))
    return problems


_UNSIGNED = (
    "[{}] makes apt install this source's packages without checking their signatures: "
    "give the repository's keyring as key: and drop the option, or add `allow_unsigned: true` to this repository to accept that"
)


def _folder_problem(folder: str) -> str | None:
    if not folder.strip() or any(ord(c) < 32 or ord(c) == 127 for c in folder):
        return f"{folder!r} is not a folder name: no control characters or line breaks"
    if len(folder.encode()) > 1024 or any(len(part.encode()) > 255 for part in Path(folder).parts):
        return "the folder name is too long: at most 255 bytes a component and 1024 in all"
    return None


def check_values(located: Located, data: YamlMapping, family: str | None) -> list[Problem]:
    """Checks of single values that the schema's types cannot express (`family` None: the recipe is unknown)."""
    problems: list[Problem] = _check_packages(located, data, family)
    mirror = data.get("mirror")
    if isinstance(mirror, str) and not _URL.fullmatch(mirror):
        problems.append(located.problem(("mirror",), f"{mirror!r} is not a mirror URL: write http://…, https://… or file:///…"))
    output = data.get("output")
    folder = output.get("dir") if isinstance(output, dict) else None
    if isinstance(folder, str):
        why = _folder_problem(folder)
        if why:
            problems.append(located.problem(("output", "dir"), why))
    metadata = data.get("metadata")
    url = metadata.get("url") if isinstance(metadata, dict) else None
    if isinstance(url, str) and not _METADATA_URL.fullmatch(url):
        problems.append(located.problem(("metadata", "url"), f"{url!r} is not a plain http URL such as http://169.254.169.254"))
    repositories = data.get("repositories")
    if isinstance(repositories, list):
        for index, repo in enumerate(repositories):
            if not isinstance(repo, dict):
                continue
            line, key = repo.get("line"), repo.get("key")
            if isinstance(line, str):
                why = _source_problem(line, family)
                if why:
                    problems.append(located.problem(("repositories", index, "line"), why))
                elif family == "deb" and unsigned_options(line) and repo.get("allow_unsigned") is not True:
                    problems.append(located.problem(("repositories", index, "line"), _UNSIGNED.format(" ".join(unsigned_options(line)))))
            if isinstance(key, str):
                why = keyring_problem(key)
                if why:
                    problems.append(located.problem(("repositories", index, "key"), why))
    return problems


def _source_problem(line: str, family: str | None) -> str | None:
    """Why `line` is not a source line of `family`; with no family known, only when it is neither kind."""
    if family:
        return source_line_problem(line, family)
    problems = [source_line_problem(line, f) for f in ("deb", "rpm")]
    return problems[0] if all(problems) else None


def check_release_for_arch(located: Located, data: YamlMapping, recipe: Recipe) -> list[Problem]:
    """A release the recipe does not build for the chosen arch (trixie with i386), located at the release (or the arch)."""
    arch = data.get("arch", "x86_64")
    release = data.get("release")
    if not isinstance(arch, str):
        return []
    given = isinstance(release, str)
    chosen = release if isinstance(release, str) else recipe.default_release
    why = recipe.release_refusal(arch, chosen)
    if why is None:
        return []
    if not given:  # the default release is not built for it: the arch is what the file says
        why = f"{why} (the default release); set `release:` to one of them"
    return [located.problem(("release",) if given else ("arch",), why)]
