"""The wizard's state: the Answers being edited, their problems, and which steps are done.

Screens never validate on their own: every edit goes through `WizardState.set`,
and the problems come from the core's own answer-file validation of the
rendered answers, so the wizard and `emi-tui validate` always agree and every
problem carries its key path. This module does not import Textual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from emi_tui.engine.answers.model import (
    Answers,
    ImageFields,
    Metadata,
    Output,
    PackageChanges,
    Repository,
    Validation,
    default_image_fields,
    validate_bytes,
    validate_file,
)
from emi_tui.engine.answers.recipes import Recipe, RecipeBook
from emi_tui.engine.answers.storage import render_answers
from emi_tui.engine.build.history import RecentBuild, history_dir, history_path, recent_builds  # noqa: F401 (used by the screens)
from emi_tui.engine.errors import Problem
from emi_tui.engine.paths_check import output_folder_problem
from emi_tui.engine.sizes import STANDARD, SizeError, human, parse_size
from emi_tui.tui.state.package_picking import PackageOutcome, PackagePicking  # noqa: F401 (the Packages step's)
from emi_tui.tui.state.wording import mirror_missing_message, sizes_in_words

STEPS = ("distro", "size", "packages", "metadata", "image", "summary")
#: The steps of modifying an image: the same Packages and Metadata steps between its own two.
MODIFY_STEPS = ("artifact", "packages", "metadata", "changes")
STEP_TITLES = {
    "artifact": "Artifact",
    "changes": "Changes",
    "distro": "Distro",
    "size": "Size",
    "packages": "Packages",
    "metadata": "Metadata",
    "image": "Image",
    "summary": "Summary",
}
_STEP_OF_KEY = {
    "recipe": "distro",
    "release": "distro",
    "arch": "distro",
    "mirror": "distro",
    "size": "size",
    "packages": "packages",
    "repositories": "packages",
    "metadata": "metadata",
    "image": "image",
    "output": "image",
    "kernel": "image",
    "artifact": "artifact",
    "changes": "changes",
}
_SECTIONS: dict[str, type[BaseModel]] = {
    "packages": PackageChanges,
    "metadata": Metadata,
    "image": ImageFields,
    "output": Output,
}
WIZARD_SOURCE = "wizard"
def step_for_key(key: str) -> str:
    """The step that edits a problem's key path ('metadata.ssh_key' -> 'metadata')."""
    head = re.split(r"[.\[]", key, maxsplit=1)[0]
    return _STEP_OF_KEY.get(head, "summary")


def key_matches(key: str, prefix: str) -> bool:
    """Whether the key path `key` is `prefix` or lies inside it."""
    return key == prefix or key.startswith((prefix + ".", prefix + "["))


def new_answers(book: RecipeBook) -> Answers:
    """Fresh answers for a new build: the Debian recipe when there is one, packed with zstd.

    zstd is the wizard's suggestion (the answer file's default stays gzip, the
    .tgz of the original starter images): measured side by side, it packs the
    image in about a quarter of pigz's time, which makes a cached rebuild about
    0.6x as long (README, "Performance").
    """
    names = book.names()
    name = "debian-based" if "debian-based" in names else (names[0] if names else "")
    recipe = book.recipes.get(name)
    return Answers(version=1, recipe=name, release=recipe.default_release if recipe else None, output=Output(compress="zstd"))


def _section(model: type[BaseModel], raw: Any) -> BaseModel:
    # Raw values are kept as they are (even wrong ones), so the core's validation
    # reports them at their key and the screen shows them at the field.
    raw = raw if isinstance(raw, dict) else {}
    known = {k: v for k, v in raw.items() if k in model.model_fields}
    for name, info in model.model_fields.items():
        if info.is_required() and name not in known:
            known[name] = ""
    return model.model_construct(**known)


def lenient_answers(data: dict) -> Answers:
    """Answers built from an answer file's mapping without rejecting anything that fits the shape."""
    values: dict[str, Any] = {}
    for name in Answers.model_fields:
        if name not in data:
            continue
        raw = data[name]
        if name in _SECTIONS:
            values[name] = _section(_SECTIONS[name], raw)
            if name == "packages":
                changes = values[name]
                for side in ("add", "remove"):
                    if not isinstance(getattr(changes, side), list):
                        setattr(changes, side, [])
        elif name == "repositories":
            values[name] = [_section(Repository, item) for item in raw] if isinstance(raw, list) else []
        else:
            values[name] = raw
    values["version"] = 1
    values.setdefault("recipe", "")
    return Answers.model_construct(**values)


@dataclass
class Opened:
    """An answer file opened for the wizard: its state, or why it cannot be opened at all."""

    path: Path
    state: WizardState | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state is not None


def open_answers(path: Path, book: RecipeBook, today: date) -> Opened:
    """Read an answer file into a wizard state; unreadable files keep their problems."""
    validation = validate_file(path, book, today)
    located = validation.located
    fatal = [p for p in validation.problems if p.key in ("", "version")]
    if located is None or located.problems or not isinstance(located.data, dict) or fatal:
        return Opened(path, problems=validation.problems or [Problem(str(path), 1, 1, "", "cannot read this file")])
    # The file's own values (not the resolved ones), so that defaults it leaves
    # out stay defaults: a later change of size still renames the image.
    state = WizardState(book, today, lenient_answers(located.data))
    state.finished = set(STEPS[:-1])
    if validation.ok:
        state.mark_saved(path)
        return Opened(path, state)
    current_keys = {p.key for p in state.problems()}
    # What the wizard cannot carry (unknown keys, say) is dropped, and said so on its step.
    state.notes = [p for p in validation.problems if p.key not in current_keys]
    return Opened(path, state)


class WizardState(PackagePicking):
    """The answers being edited, their problems, and the wizard's progress."""

    #: The steps of this wizard, in order (a modify has its own: see ModifyState).
    steps: tuple[str, ...] = STEPS
    #: What the Home screen calls a wizard of this kind in progress.
    kind = "build"

    def __init__(self, book: RecipeBook, today: date, answers: Answers | None = None):
        self.book = book
        self.today = today
        self.answers = answers if answers is not None else new_answers(book)
        self.finished: set[str] = set()
        self.notes: list[Problem] = []
        self.revision = 0
        self.saved_path: Path | None = None
        self._saved_revision = -1
        self._validated: tuple[int, Validation, list[Problem]] | None = None
        #: The mirror last given for each distro (a recipe's `distro:`), kept while another distro is chosen.
        self._mirrors: dict[str, Any] = {}
        #: The Summary's offline switch: the checks that need the mirror are "not checked", never passed.
        self.offline = False

    def intro_for(self, step: str) -> str:
        """A step's introduction when this wizard says it differently from the screen's own ("" if not)."""
        return ""

    def subtitle(self) -> str:
        """One line saying what is being built, for the header."""
        answers, recipe = self.answers, self.recipe
        release = answers.release or (recipe.default_release if recipe else None)
        size = self.size_bytes()
        words = [str(w) for w in (answers.recipe, release, answers.arch, human(size) if size else answers.size) if w]
        return " · ".join(words)

    # -- editing ---------------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        """Set the answer at dotted `key` ('metadata.swap'), copying the models on the way."""
        parts = key.split(".")
        current = _value_at(self.answers, parts)
        if type(current) is type(value) and current == value:
            return  # widgets echo their initial values: that is not an edit
        self.answers = _copy_with(self.answers, parts, value)
        self.revision += 1
        # A note about a key stops applying once the operator has set that key.
        self.notes = [n for n in self.notes if not key_matches(n.key, key)]

    def choose_recipe(self, name: str) -> None:
        """Switch recipe, keeping what still fits: its release, an offered arch, trims it has.

        A mirror serves one distro (the recipe's `distro:`, so debian and ubuntu
        differ though both are deb): switching to a recipe of another distro puts
        back the mirror last given for that distro, or none (the recipe's own
        default); the one given for the distro left is kept for a switch back.
        Recipes of the same distro keep the mirror.
        """
        before = self.recipe
        recipe = self.book.recipes.get(name)
        self.set("recipe", name)
        if recipe is None:
            return
        if before is not None and before.distro != recipe.distro:
            self._mirrors[before.distro] = self.answers.mirror
            self.set("mirror", self._mirrors.get(recipe.distro))
        if self.answers.release not in recipe.releases:
            self.set("release", recipe.default_release)
        if self.answers.arch not in recipe.arches:
            self.set("arch", next(iter(recipe.arches)))
        offered = set(recipe.packages)
        removed = [p for p in self.answers.packages.remove if p in offered]
        if removed != self.answers.packages.remove:
            self.set("packages.remove", removed)

    def mark_saved(self, path: Path) -> None:
        self.saved_path = path
        self._saved_revision = self.revision

    @property
    def saved(self) -> bool:
        """Whether the answers as they are now sit in `saved_path`."""
        return self.saved_path is not None and self._saved_revision == self.revision

    # -- reading ---------------------------------------------------------------

    @property
    def recipe(self) -> Recipe | None:
        name = self.answers.recipe
        return self.book.recipes.get(name) if isinstance(name, str) else None

    def size_bytes(self) -> int | None:
        try:
            return parse_size(self.answers.size)
        except SizeError:
            return None

    def image_defaults(self, *, ignoring: str | None = None) -> ImageFields:
        """The image fields with defaults filled in (as the build will name things).

        With `ignoring` ("name", "version" or "file"), that field's own value is
        left out: the result holds the default it would get.
        """
        recipe = self.recipe
        answers = self.answers
        if ignoring:
            answers = answers.model_copy(update={"image": answers.image.model_copy(update={ignoring: None})})
        if recipe is None:
            return answers.image
        if self.size_bytes() is None:
            answers = answers.model_copy(update={"size": STANDARD})
        try:
            return default_image_fields(answers, recipe, self.today)
        except (TypeError, ValueError):  # raw values from a file with problems
            return answers.image

    def validation(self) -> Validation:
        return self._check()[0]

    def problems(self) -> list[Problem]:
        """Every problem of the answers as they stand, each with its key path."""
        return self._check()[1] + self.package_problems()

    def problems_for(self, step: str) -> list[Problem]:
        if step == "summary":
            return self.problems()
        return [p for p in self.problems() if step_for_key(p.key) == step]

    def notes_for(self, step: str) -> list[Problem]:
        return [n for n in self.notes if step == "summary" or step_for_key(n.key) == step]

    def first_problem_step(self) -> str | None:
        steps = {step_for_key(p.key) for p in self.problems() + self.notes}
        return next((s for s in self.steps if s in steps), None)

    def resolved(self) -> Answers | None:
        """The answers with every default filled in, when they have no problem."""
        validation = self.validation()
        return validation.answers if validation.ok and not self.problems() else None

    def reachable(self, step: str) -> bool:
        """A step can be opened once every step before it is finished."""
        return all(s in self.finished for s in self.steps[: self.steps.index(step)])

    def next_after(self, step: str) -> str:
        """Where Next goes: the following step, or, once all are done, the next one with a problem."""
        steps = self.steps
        index = steps.index(step)
        if all(s in self.finished for s in steps[:-1]):
            pending = {step_for_key(p.key) for p in self.problems()}
            return next((s for s in steps[index + 1 : -1] if s in pending), steps[-1])
        return steps[min(index + 1, len(steps) - 1)]

    def _check(self) -> tuple[Validation, list[Problem]]:
        if self._validated and self._validated[0] == self.revision:
            return self._validated[1], self._validated[2]
        validation = validate_bytes(render_answers(self.answers), WIZARD_SOURCE, self.book, self.today)
        problems = [self._in_wizard_words(p) for p in validation.problems] + self._fit_problems()
        problems += self._folder_problems(problems)
        self._validated = (self.revision, validation, problems)
        return validation, problems

    def _in_wizard_words(self, problem: Problem) -> Problem:
        """The core's answer-file message said as the wizard's fields say it (the key stays the same, or is the field's own)."""
        message, recipe = problem.message, self.recipe
        if problem.key == "recipe" and "`mirror:`" in message and recipe is not None:
            # The answer file lacks `mirror:`; in the wizard that is the Mirror field's to fix.
            return replace(problem, key="mirror", message=mirror_missing_message(recipe))
        message = message.replace("(the folder is output.dir)", "(the folder is the output folder's, below)")
        if " must end in .img, like " in message:
            # The core's example carries a fixed date: the wizard's is the name today's build would get.
            example = self.image_defaults(ignoring="file").file
            if example:
                message = message.split(", like ", 1)[0] + f", like {example}"
        if problem.key == "size":
            message = sizes_in_words(message)
        return replace(problem, message=message) if message != problem.message else problem

    def _folder_problems(self, found: list[Problem]) -> list[Problem]:
        # The core checks that output.dir is a well-formed name; whether the folder
        # can be used (exists or can be made, writable) is asked of this workstation.
        folder = self.answers.output.dir
        if not isinstance(folder, str) or any(key_matches(p.key, "output.dir") for p in found):
            return []
        problem = output_folder_problem(folder)
        return [Problem(WIZARD_SOURCE, 0, 0, "output.dir", problem)] if problem else []

    def _fit_problems(self) -> list[Problem]:
        # The core only refuses sizes below the recipe's minimum; the wizard also
        # refuses to go on with a root smaller than the recipe's own estimate.
        recipe, size = self.recipe, self.size_bytes()
        if recipe is None or size is None or size < recipe.min_size_bytes or size >= recipe.estimated_bytes:
            return []
        message = (
            f"{human(size)} cannot hold {recipe.name}: the recipe estimate of its installed size is "
            f"{human(recipe.estimated_bytes)}; choose at least that"
        )
        return [Problem(WIZARD_SOURCE, 0, 0, "size", message)]


def _value_at(model: BaseModel, parts: list[str]) -> Any:
    for part in parts:
        model = getattr(model, part, None)
    return model


def _copy_with(model: BaseModel, parts: list[str], value: Any) -> BaseModel:
    if len(parts) == 1:
        return model.model_copy(update={parts[0]: value})
    child = getattr(model, parts[0])
    return model.model_copy(update={parts[0]: _copy_with(child, parts[1:], value)})


def tilde(path: Path) -> str:
    """`path` with the home folder written as ~, as operators read paths."""
    try:
        return "~/" + str(Path(path).resolve().relative_to(Path.home().resolve()))
    except (ValueError, OSError):
        return str(path)
