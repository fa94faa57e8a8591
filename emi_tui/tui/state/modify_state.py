"""The state of modifying an image in the wizard: the artifact, its stored answers, and the changes chosen.

A `ModifyState` is a `WizardState` with its own steps (Artifact, Packages,
Metadata, Changes), so the wizard's own Packages and Metadata screens edit
it. They start from the image's stored answers (`/etc/emi-tui/answers.yaml`)
when it has them; the changes the modify applies are the difference between
what the screens hold and what they started from. Like wizard_state, this
module does not import Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from emi_tui.engine.answers.model import Answers, Metadata, PackageChanges, effective_packages, validate_bytes, validate_file
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.artifact.kinds import SUFFIX_LIST, is_artifact, stem
from emi_tui.engine.artifact.manifest import MANIFEST_SUFFIX, read_manifest
from emi_tui.engine.errors import Problem
from emi_tui.engine.paths_check import output_folder_problem
from emi_tui.tui.state.wizard_state import MODIFY_STEPS, WizardState, lenient_answers, new_answers, step_for_key
from emi_tui.tui.state.wording import flags_in_words, option_title, sizes_in_words

SOURCE = "modify"
#: The answer keys a modify can change (the rest of the stored answers are the image's history).
EDITABLE_STEPS = ("packages", "metadata")
#: A manifest lists a few thousand packages at most; far more is not one.
MANIFEST_MAX_BYTES = 4 * 1024**2


def image_manifest(artifact: Path) -> dict[str, str] | None:
    """The packages the manifest beside `artifact` lists (name -> version), or None when there is none to read."""
    manifest = artifact.with_name(stem(artifact) + MANIFEST_SUFFIX)
    try:
        if not manifest.is_file() or manifest.stat().st_size > MANIFEST_MAX_BYTES:
            return None
        return read_manifest(manifest)
    except OSError:
        return None


def artifact_problem(text: str) -> str | None:
    """Why `text` does not name an artifact that can be modified, or None (only the name and the file are looked at)."""
    if not text.strip():
        return f"give the path of a {SUFFIX_LIST}"
    path = Path(text.strip()).expanduser()
    if not is_artifact(path):
        return f"{path.name} is not a {SUFFIX_LIST}"
    if not path.is_file():
        return f"no file at {path}"
    return None


@dataclass
class ArtifactLook:
    """What reading an artifact found: its survey (or why it cannot be modified) and its review."""

    text: str  # the artifact path as typed, so that a late answer for an older path is ignored
    survey: Any = None  # engine.modify.job.ArtifactSurvey
    error: str | None = None
    entries: list[Any] = field(default_factory=list)  # engine.review.review.ReviewEntry

    @property
    def stored_answers(self) -> str | None:
        return next((e.answers for e in self.entries if getattr(e, "answers", None)), None)

    @property
    def image_id_fields(self) -> dict[str, str]:
        return next((dict(e.fields) for e in self.entries if getattr(e, "fields", None)), {})


@dataclass
class Changes:
    """The changes that no answer key holds: the Changes step's fields, as typed."""

    upgrade: bool = False
    script: str = ""
    shell: bool = False
    grow: str = ""
    version: str = ""
    output: str = ""


class ModifyState(WizardState):
    """Modifying one artifact: the wizard's answers (pre-filled from the image) plus the other changes."""

    steps = MODIFY_STEPS
    kind = "modify"

    def __init__(self, book: RecipeBook, today: date):
        super().__init__(book, today)
        self.artifact_text = ""
        self.look: ArtifactLook | None = None
        self.changes = Changes()
        #: The answers as pre-filled: packages and metadata are changed by how far the screens move from them.
        self.original: Answers = self.answers
        self.prefilled_from = "nothing yet"
        #: Where the Metadata step's options come from, in words (the image's answers, an answer file, or defaults).
        self.metadata_from = "the defaults"
        self.metadata_file: Path | None = None
        self.metadata_file_problems: list[Problem] = []

    def intro_for(self, step: str) -> str:
        if step == "packages":
            contains = ("The list below is what the image contains (its manifest). " if self.installed_packages is not None
                        else "The image has no manifest beside it: the list below is what its answers asked for. ")
            return f"{contains}Pre-filled from {self.prefilled_from}: what you check is installed, what you uncheck is purged."
        if step == "metadata":
            return (f"Pre-filled from {self.metadata_from}. Change an option (or take an answer file's on the Artifact step) "
                    "to regenerate rc.local and the rest; leave them all to keep the image's own files.")
        return ""

    def subtitle(self) -> str:
        name = Path(self.artifact_text.strip()).name
        return f"modify {name}" if name else "modify an image"

    # -- the artifact ------------------------------------------------------------------

    def set_artifact(self, text: str) -> None:
        """The operator typed an artifact path; its look is stale until `load` brings the new one."""
        # Not a revision: the answers are unchanged, so their (costly) validation stays cached.
        self.artifact_text = text

    def load(self, look: ArtifactLook) -> bool:
        """Take what reading the artifact found; False when it answers for a path no longer typed."""
        if look.text != self.artifact_text:
            return False
        self.look = look
        stored = look.stored_answers
        answers, source = None, ""
        if stored:
            validation = validate_bytes(stored, "/etc/emi-tui/answers.yaml", self.book, self.today)
            if validation.located is not None and isinstance(validation.located.data, dict) and not validation.located.problems:
                answers, source = lenient_answers(validation.located.data), "the image's stored answers (/etc/emi-tui/answers.yaml)"
        if answers is None or answers.recipe not in self.book.recipes:
            # Stored answers that cannot be used are still there: say so, never "the image has none".
            why = "the image has no stored answers" if not stored else (
                f"the image's stored answers name the recipe {answers.recipe!r}, which is not here" if answers is not None
                else "the image's stored answers cannot be read")
            answers = new_answers(self.book)
            guess = look.image_id_fields.get("recipe_name")
            if guess in self.book.recipes:
                answers = answers.model_copy(update={"recipe": guess, "release": self.book.recipes[guess].default_release})
            source = f"the {answers.recipe} recipe's defaults ({why})"
        self.installed_packages = image_manifest(Path(look.text.strip()).expanduser())
        if self.installed_packages is not None:
            answers = self._as_installed(answers, self.installed_packages)
        if self.metadata_file is not None and not self.metadata_file_problems:
            answers = answers.model_copy(update={"metadata": self._file_metadata or answers.metadata})
        self.answers = answers
        self.original = answers if self.metadata_file is None else answers.model_copy(update={"metadata": self._image_metadata(stored)})
        self.prefilled_from = source
        self.metadata_from = self._metadata_source(bool(stored) and source.startswith("the image's"))
        self.revision += 1
        return True

    def _metadata_source(self, from_image: bool) -> str:
        # Said apart from the packages: an answer file on the Artifact step gives the metadata only.
        if self.metadata_file is not None and not self.metadata_file_problems:
            return f"the answer file {self.metadata_file.name}"
        if from_image:
            return "the image's stored answers (/etc/emi-tui/answers.yaml)"
        return "the defaults (the image has no stored answers)"

    _file_metadata: Metadata | None = None

    def _as_installed(self, answers: Answers, installed: dict[str, str]) -> Answers:
        """`answers` whose package lists say what the image contains: a default it lacks is unchecked, an extra it has is added."""
        recipe = self.book.recipes.get(answers.recipe)
        if recipe is None or not isinstance(answers.packages.add, list):
            return answers
        remove = [p for p in recipe.default_package_list() if p not in installed]
        add = [p for p in answers.packages.add if isinstance(p, str) and p in installed and p not in recipe.default_package_list()]
        add += [p for p in recipe.trim if p in installed and p not in add]  # a trimmed default the image has after all
        return answers.model_copy(update={"packages": PackageChanges(add=add, remove=remove)})

    def _image_metadata(self, stored: str | None) -> Metadata:
        if stored:
            validation = validate_bytes(stored, "stored", self.book, self.today)
            if validation.answers is not None:
                return validation.answers.metadata
        return Metadata()

    def use_answer_file(self, path: Path | None) -> None:
        """Take the metadata options from an answer file (as `modify --answers FILE`), or stop when None."""
        self.metadata_file, self.metadata_file_problems, self._file_metadata = path, [], None
        if path is not None:
            validation = validate_file(path, self.book, self.today)
            if validation.ok and validation.answers is not None:
                self._file_metadata = validation.answers.metadata
            else:
                self.metadata_file_problems = validation.problems or [Problem(str(path), 1, 1, "", "cannot read this file")]
        self.revision += 1
        if self.look is not None:
            self.load(self.look)

    def set_change(self, name: str, value: Any) -> None:
        """Set one of the Changes step's fields (not an answer: no revision, as for the artifact)."""
        setattr(self.changes, name, value)

    # -- what the modify does ---------------------------------------------------------------

    def package_changes(self) -> tuple[list[str], list[str]]:
        """(add, remove): how the Packages step's list differs from the one the image was pre-filled with."""
        recipe = self.recipe
        if recipe is None:
            return [], []
        try:
            before, after = effective_packages(self.original, recipe), effective_packages(self.answers, recipe)
        except (TypeError, AttributeError):  # raw values with problems: the Packages step shows them
            return [], []
        return [p for p in after if p not in before], [p for p in before if p not in after]

    def metadata_applied(self) -> Metadata | None:
        """The metadata to apply (regenerating rc.local and the rest), or None to keep the image's files."""
        if self.metadata_file is None and self.answers.metadata == self.original.metadata:
            return None
        try:
            return Metadata.model_validate(self.answers.metadata.model_dump())
        except ValueError:
            return None

    def changed_metadata_keys(self) -> list[str]:
        now, before = self.answers.metadata, self.original.metadata
        return [name for name in Metadata.model_fields if getattr(now, name, None) != getattr(before, name, None)]

    def request(self) -> Any:
        """The core's ModifyRequest for what the screens hold."""
        from emi_tui.engine.modify.job import ModifyRequest

        add, remove = self.package_changes()
        changes = self.changes
        return ModifyRequest(
            artifact=Path(self.artifact_text.strip()).expanduser(),
            upgrade=changes.upgrade, add=add, remove=remove,
            script=Path(changes.script.strip()).expanduser() if changes.script.strip() else None,
            metadata=self.metadata_applied(), answers_file=self.metadata_file,
            shell=changes.shell, grow=changes.grow.strip() or None, version=changes.version.strip() or None,
            output=Path(changes.output.strip()).expanduser() if changes.output.strip() else None,
        )

    def plan(self) -> list[str]:
        """What the modify will do, one line each, for the Changes step."""
        add, remove = self.package_changes()
        changes = self.changes
        lines = [f"copy {Path(self.artifact_text.strip()).name or 'the artifact'} (the original is only read)"]
        if changes.grow.strip():
            lines.append(f"grow the filesystem to {sizes_in_words(changes.grow.strip())}")
        if changes.upgrade:
            lines.append("upgrade every package")
        lines.append(f"install {', '.join(add)}" if add else "install nothing new")
        lines.append(f"purge {', '.join(remove)}" if remove else "purge nothing")
        if self.metadata_applied() is not None:
            keys = self.changed_metadata_keys()
            why = f"from {self.metadata_file.name}" if self.metadata_file else f"changed: {', '.join(option_title(k) for k in keys)}"
            lines.append(f"regenerate rc.local, the udev rules and the rest ({why})")
        else:
            lines.append("keep the image's rc.local and udev rules")
        if changes.script.strip():
            lines.append(f"run {Path(changes.script.strip()).name} in the image")
        if changes.shell:
            lines.append("open a shell in the image (the wizard steps aside until it exits)")
        version = changes.version.strip() or f"today's ({self.today:%Y.%m.%d})"
        lines.append(f"clean, stamp a new /etc/image-id with version {version}, check, zerofree and repack")
        return lines

    # -- problems -------------------------------------------------------------------------

    def problems(self) -> list[Problem]:
        own = self._artifact_problems() + self._change_problems()
        edited = [p for p in super().problems() if step_for_key(p.key) in EDITABLE_STEPS]
        return own + edited

    def problems_for(self, step: str) -> list[Problem]:
        """A step's own problems; the last step (Start) is held back by every problem, as the Summary is."""
        if step == self.steps[-1]:
            return self.problems()
        return [p for p in self.problems() if step_for_key(p.key) == step]

    def _artifact_problems(self) -> list[Problem]:
        text = self.artifact_text
        problem = artifact_problem(text)
        if problem is None and (self.look is None or self.look.text != text):
            problem = "reading the artifact…"
        elif problem is None and self.look is not None and self.look.error:
            problem = self.look.error
        found = [Problem(SOURCE, 0, 0, "artifact", problem)] if problem else []
        for file_problem in self.metadata_file_problems:
            found.append(Problem(SOURCE, 0, 0, "artifact.answers", str(file_problem)))
        return found

    def _change_problems(self) -> list[Problem]:
        from emi_tui.engine.modify.job import request_problems

        if artifact_problem(self.artifact_text) is not None:
            return []
        request = self.request()
        survey = self.look.survey if self.look is not None and self.look.text == self.artifact_text else None
        found = [Problem(SOURCE, 0, 0, f"changes.{key}", self._said(key, error.message + (f" ({error.hint})" if error.hint else "")))
                 for key, error in request_problems(request, survey) if key != "shell"]
        if not any(p.key == "changes.output" for p in found):
            found += self._output_problems(request.output, request.artifact.parent)
        return found

    @staticmethod
    def _said(key: str, message: str) -> str:
        # The core speaks the command line's flags (--grow, --run); the Changes step has fields.
        message = flags_in_words(message)
        return sizes_in_words(message) if key == "grow" else message

    def _output_problems(self, output: Path | None, beside: Path) -> list[Problem]:
        """Whether the new artifact's folder (the typed one, or the original's) can be written, as the Image step asks."""
        if output is not None:
            problem = output_folder_problem(output)
        else:
            why = output_folder_problem(beside)
            problem = f"the new artifact goes beside the original, but {why}: give a folder for it" if why else None
        return [Problem(SOURCE, 0, 0, "changes.output", problem)] if problem else []
