"""The answer file (format v1): every wizard choice, and the one input of a build.

`validate_bytes` reads an answer file and returns either fully resolved
answers or every problem at once, each located as FILE:LINE:COL. Nothing here
raises on bad input. `render_answers` (answers_io) writes them back with comments.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict, JsonValue

from emi_tui.engine.answers import schemarules as rules
from emi_tui.engine.answers.mirror import workstation_mirror
from emi_tui.engine.answers.recipes import Recipe, RecipeBook
from emi_tui.engine.answers.schema import complete_examples, validate_located
from emi_tui.engine.answers.valuechecks import check_release_for_arch, check_values, guessed_family
from emi_tui.engine.answers.yamlload import Located, YamlMapping, load_located, load_located_file
from emi_tui.engine.artifact.kinds import CompressName
from emi_tui.engine.errors import EmiError, Problem, did_you_mean, one_of
from emi_tui.engine.image.imageid import utc_today
from emi_tui.engine.sizes import STANDARD, SizeError, is_large, parse_size

CURRENT_VERSION = 1

#: Older formats are migrated, never rejected: version N -> N+1 for each N below current.
MIGRATIONS: dict[int, Callable[[YamlMapping], YamlMapping]] = {}

_SAFE_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def _size(value: object) -> str:
    try:
        parse_size(value)
    except SizeError as exc:
        raise ValueError(str(exc)) from None
    return str(value).strip()


def _safe_word(what: str, longest: int = 64) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        if not _SAFE_WORD.fullmatch(value) or ".." in value:
            raise ValueError(f"{value!r} is not a valid {what}: use letters, digits and . _ + - (no spaces, slashes or '..')")
        if len(value) > longest:
            raise ValueError(f"the {what} is {len(value)} characters long; keep it to {longest}")
        return value

    return check


def _image_file(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a file name, got {value!r}")
    if "/" in value or "\\" in value or ".." in value:
        raise ValueError(f"{value!r} must be a plain file name: no path separator and no '..' (the folder is output.dir)")
    if not _SAFE_WORD.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid file name: use letters, digits and . _ + -")
    if not value.endswith(".img"):
        raise ValueError(f"{value!r} must end in .img, like euca-debian-2026.11.28-x86_64.img")
    if len(value) > 128:
        raise ValueError(f"the image file name is {len(value)} characters long; keep it to 128")
    return value


def _resolved(value: str | None, key: str) -> str:
    """`value`, which `resolve` fills in; answers that skipped it (an image's stored answers, say) may lack it."""
    if value is None:
        raise EmiError(f"the answers set no {key}", hint=f"set `{key}:` in the answer file")
    return value


# The friendly checks run first and say what is wrong; the pattern after them (in the schema too) then never
# fails unless the two disagree, which tests/test_schema_agrees.py looks for.
Size = Annotated[Annotated[str, StringConstraints(pattern=rules.SIZE)], BeforeValidator(_size)]
_SafeWord = Annotated[str, StringConstraints(pattern=rules.SAFE_WORD)] | None
ImageName = Annotated[_SafeWord, BeforeValidator(_safe_word("image name"))]
ImageVersion = Annotated[_SafeWord, BeforeValidator(_safe_word("image version"))]
ImageFile = Annotated[Annotated[str, StringConstraints(pattern=rules.IMAGE_FILE)] | None, BeforeValidator(_image_file)]


def _schema_only(pattern: str, **more: JsonValue) -> JsonDict:
    """JSON Schema keywords for a rule `validate` checks elsewhere (valuechecks, the recipe), with its own message."""
    return {"pattern": pattern, **more}


class _Strict(BaseModel):
    # The patterns end in `$(?!\n)` (schemarules.whole), which pydantic's default Rust engine cannot read.
    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re")


class Repository(_Strict):
    """An extra package source: an apt line (or a yum baseurl) and its signing key."""

    model_config = ConfigDict(json_schema_extra=rules.unsigned_rule())

    line: str = Field(
        description='an apt source line, e.g. "deb http://example.org/debian bookworm main"',
        examples=["deb http://mirror.example/extra bookworm main", "deb [arch=amd64] http://mirror.example/extra bookworm main contrib",
                  "baseurl http://mirror.example/el9/x86_64"],
        json_schema_extra=_schema_only(rules.REPOSITORY_LINE),
    )
    key: str | None = Field(
        None, description="path to an OpenPGP keyring file on this workstation (a regular file, copied into the image)",
        examples=["/usr/share/keyrings/extra-archive-keyring.gpg", "/etc/apt/keyrings/extra.asc"],
        json_schema_extra=_schema_only(rules.KEYRING),
    )
    allow_unsigned: bool = Field(
        False,
        description="true lets the line carry [trusted=yes] (or allow-insecure, allow-weak): apt then installs its packages "
        "unchecked; per repository, so one opt-in never covers another source. The plan and Summary warn of it",
    )


class PackageChanges(_Strict):
    add: list[str] = Field(
        default_factory=list, description="installed on top of the recipe's default list", examples=[["htop", "sudo"]],
        json_schema_extra={"items": {"type": "string", "pattern": rules.PACKAGE}},
    )
    remove: list[str] = Field(
        default_factory=list, description="trimmed from it", examples=[["nano"]],
        json_schema_extra={"items": {"type": "string", "pattern": rules.PACKAGE}},
    )


class Metadata(_Strict):
    """What the image's /etc/rc.local does with the metadata service at boot."""

    url: str = Field("http://169.254.169.254", description="the metadata service", examples=["http://169.254.169.254"], json_schema_extra=_schema_only(rules.METADATA_URL))
    ssh_key: Literal["root", "ec2-user", "none"] = Field("root", description="who gets the SSH key of the instance")
    ephemeral0: bool = Field(True, description="mount ephemeral0 at /media/ephemeral0")
    swap: bool = Field(True, description="swapon a swap partition if the cloud offers one")
    user_data: bool = Field(True, description='run the user-data when it starts with "#!"')
    hostname: bool = Field(False, description="set the hostname from meta-data/local-hostname")
    grow_root: bool = Field(True, description="grow the root filesystem to fill its disk at boot (online resize2fs)")
    udev_xvd: bool = Field(True, description="xvd* disks also get sd* names (udev rule + /sbin/euca-udev)")
    udev_vd: bool = Field(True, description="vd* (virtio, KVM) disks also get sd* names, by the same udev rule")


class ImageFields(_Strict):
    name: ImageName = Field(None, description="image_name; default euca-<distro>-emi (euca-large-… when large)", examples=["euca-debian-emi"])
    version: ImageVersion = Field(None, description="image_version; default today, YYYY.MM.DD", examples=["2026.11.28"])
    file: ImageFile = Field(
        None, description="image_file; default euca[-large]-<distro>-<version>-<arch>.img", examples=["euca-debian-2026.11.28-x86_64.img"]
    )

    @property
    def resolved_name(self) -> str:
        """The image name of resolved answers (`resolve` always fills it in)."""
        return _resolved(self.name, "image.name")

    @property
    def resolved_version(self) -> str:
        """The image version of resolved answers."""
        return _resolved(self.version, "image.version")

    @property
    def resolved_file(self) -> str:
        """The image file name of resolved answers."""
        return _resolved(self.file, "image.file")


class Output(_Strict):
    dir: str = Field(
        "./images", description="where the artifacts are written", examples=["./images", "/srv/images"],
        json_schema_extra=_schema_only(rules.OUTPUT_DIR, maxLength=rules.OUTPUT_DIR_MAX),
    )
    compress: CompressName = Field("gzip", description="gzip (.tgz) | zstd | xz | none")


class Answers(_Strict):
    """An answer file, format v1."""

    version: Literal[1] = Field(description="the answer-file format")
    recipe: str = Field(
        description="a recipe name, from `emi-tui recipes`", examples=["debian-based", "ubuntu-based", "centos-based"],
        json_schema_extra=_schema_only(rules.RECIPE_NAME),
    )
    release: str | None = Field(
        None, description="default: the recipe's default release", examples=["bookworm", "noble", "9-stream"],
        json_schema_extra=_schema_only(rules.RELEASE),
    )
    arch: str = Field("x86_64", description="the image's architecture", examples=["x86_64", "aarch64"], json_schema_extra=_schema_only(rules.ARCH))
    size: Size = Field(STANDARD, description='1.3G (default) | 4.5G ("large") | any size such as 2G or 1500M', examples=["1.3G", "4.5G", "1500M"])
    mirror: str | None = Field(
        None, description="default: the recipe's; for debian-based, this workstation's apt sources",
        examples=["http://mirror.example/debian", "file:///srv/mirror/debian"], json_schema_extra=_schema_only(rules.MIRROR),
    )
    packages: PackageChanges = Field(default_factory=PackageChanges, description="changes to the recipe's default package list")
    repositories: list[Repository] = Field(
        default_factory=list, description="extra package sources",
        examples=[[{"line": "deb http://mirror.example/extra bookworm main", "key": "/usr/share/keyrings/extra-archive-keyring.gpg"}]],
    )
    metadata: Metadata = Field(default_factory=Metadata, description="what /etc/rc.local does with the metadata service at boot")
    image: ImageFields = Field(default_factory=ImageFields, description="the /etc/image-id fields and the image's file name")
    kernel: bool = Field(True, description="also write the kernel and ramdisk (EKI/ERI) beside the image")
    output: Output = Field(default_factory=Output, description="where and how the artifacts are written")

    @property
    def size_bytes(self) -> int:
        return parse_size(self.size)

    @property
    def resolved_release(self) -> str:
        """The release of resolved answers (`resolve` always fills it in)."""
        return _resolved(self.release, "release")

    @property
    def resolved_mirror(self) -> str:
        """The mirror of resolved answers (validation refuses answers that would leave it unset)."""
        return _resolved(self.mirror, "mirror")

    @property
    def large(self) -> bool:
        return is_large(self.size_bytes)


def default_image_fields(answers: Answers, recipe: Recipe, today: date) -> ImageFields:
    """The image fields with every default filled in, as the starter images named them."""
    large = "-large" if answers.large else ""
    version = answers.image.version or today.strftime("%Y.%m.%d")
    return ImageFields(
        name=answers.image.name or f"euca{large}-{recipe.distro}-emi",
        version=version,
        file=answers.image.file or f"euca{large}-{recipe.distro}-{version}-{answers.arch}.img",
    )


def effective_packages(answers: Answers, recipe: Recipe) -> list[str]:
    """The package list the image gets on top of its base: defaults − removed + added."""
    kept = [p for p in recipe.default_package_list() if p not in answers.packages.remove]
    return kept + [p for p in answers.packages.add if p not in kept]


@dataclass
class Validation:
    """The outcome of reading one answer file: resolved answers, or the problems."""

    source: str
    answers: Answers | None = None
    recipe: Recipe | None = None
    problems: list[Problem] = field(default_factory=list)
    located: Located | None = None

    @property
    def ok(self) -> bool:
        return self.answers is not None and not any(p.severity == "error" for p in self.problems)


_NOT_A_MAPPING = "an answer file is a mapping of keys (version: 1, recipe: …), not a single value or list"


def _migrate(located: Located) -> list[Problem]:
    data = located.data
    if not isinstance(data, dict):
        return [located.problem((), _NOT_A_MAPPING)]
    if "version" not in data:
        return [Problem(located.source, 1, 1, "version", f"is required but missing: add `version: {CURRENT_VERSION}` at the top")]
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        return [located.problem(("version",), f"the format version is a whole number such as {CURRENT_VERSION}, got {version!r}")]
    if version > CURRENT_VERSION:
        return [located.problem(("version",), f"format {version} was written by a newer emi-tui; this one reads up to {CURRENT_VERSION}: upgrade emi-tui")]
    if version < 1:
        return [located.problem(("version",), f"there is no format {version}: the first format is 1")]
    for step in range(version, CURRENT_VERSION):  # each migration takes its format N to N+1
        data = MIGRATIONS[step](data)
    located.data = data
    return []


def _readable_as_current(data: object) -> bool:
    """A file whose version is missing or not a number is still checked as the current format (its other problems are known too)."""
    if not isinstance(data, dict):
        return False
    version = data.get("version")
    return "version" not in data or isinstance(version, bool) or not isinstance(version, int)


def _check_recipe_fit(located: Located, data: YamlMapping, book: RecipeBook, today: date) -> tuple[Recipe | None, list[Problem]]:
    """The checks that need the recipe: release, arch, size, default mirror."""
    problems: list[Problem] = []
    name = data.get("recipe")
    if not isinstance(name, str):
        return None, problems
    recipe = book.recipes.get(name)
    if recipe is None:
        problems.append(located.problem(("recipe",), f"no recipe called {name!r}{did_you_mean(name, book.names())}; known: {one_of(book.names())}"))
        return None, problems
    release = data.get("release")
    if isinstance(release, str) and release not in recipe.releases:
        problems.append(located.problem(("release",), f"{recipe.name} has no release {release!r}{did_you_mean(release, recipe.releases)}; it offers {one_of(recipe.releases)}"))
    arch = data.get("arch", "x86_64")
    if isinstance(arch, str) and arch not in recipe.arches:
        problems.append(located.problem(("arch",), f"{recipe.name} does not build {arch!r}{did_you_mean(arch, list(recipe.arches))}; it offers {one_of(list(recipe.arches))}"))
    problems += check_release_for_arch(located, data, recipe)
    size = data.get("size", STANDARD)
    try:
        too_small = parse_size(size) < recipe.min_size_bytes
    except SizeError:
        too_small = False  # the schema reports it
    if too_small and isinstance(size, str):  # parse_size takes only text with a unit
        problems.append(located.problem(("size",), f"{size} is too small for {recipe.name}: its root needs at least {recipe.min_size}"))
    mirror = data.get("mirror")
    if mirror is None and recipe.default_mirror is None:
        problems.append(located.problem(("recipe",), f"{recipe.name} has no default mirror: set `mirror:` to the URL of a {recipe.distro} mirror"))
    elif mirror is None and recipe.default_mirror == "apt-sources" and workstation_mirror(recipe.releases) is None:
        problems.append(located.problem(("recipe",), f"no apt source on this workstation serves {recipe.distro}: set `mirror:` to a {recipe.distro} mirror URL"))
    return recipe, problems


def validate_located_answers(located: Located, book: RecipeBook, today: date | None = None) -> Validation:
    """Validate a loaded answer file; the answers come back resolved (every default filled)."""
    today = today or utc_today()
    result = Validation(located.source, located=located, problems=list(located.problems))
    if located.data is None:  # the file could not be read at all; a duplicate key alone still lets us look further
        if not result.problems:  # a document of just `null`, `~` or `---`
            result.problems.append(located.problem((), "the file holds no settings: it needs at least `version: 1` and `recipe:`"))
        return result
    if not isinstance(located.data, dict):
        result.problems.append(located.problem((), _NOT_A_MAPPING))
        return result
    migration_problems = _migrate(located)
    if migration_problems and not _readable_as_current(located.data):
        result.problems += migration_problems
        return result
    data = located.data
    answers, problems = validate_located(Answers, located)
    if migration_problems:  # said once, by the migration, not again by the schema
        problems = [p for p in problems if p.key != "version"]
    recipe, fit_problems = _check_recipe_fit(located, data, book, today)
    family = recipe.family if recipe else guessed_family(data, book)
    result.problems += migration_problems + problems + fit_problems + check_values(located, data, family)
    result.problems.sort(key=lambda p: (p.line, p.column))
    if result.problems or answers is None or recipe is None:
        return result
    result.answers = resolve(answers, recipe, today)
    result.recipe = recipe
    return result


def resolve(answers: Answers, recipe: Recipe, today: date) -> Answers:
    """`answers` with every default filled in from the recipe, the workstation and the date."""
    mirror = answers.mirror
    release = answers.release or recipe.default_release
    if mirror is None and recipe.default_mirror == "apt-sources":
        # The source serving the chosen release wins; any source of the distro's other releases serves as well.
        mirror = workstation_mirror([release]) or workstation_mirror(recipe.releases)
    elif mirror is None:
        mirror = recipe.default_mirror
    return answers.model_copy(
        update={"release": release, "mirror": mirror, "image": default_image_fields(answers, recipe, today)}
    )


def validate_bytes(raw: bytes | str, source: str, book: RecipeBook, today: date | None = None) -> Validation:
    return validate_located_answers(load_located(raw, source), book, today)


def validate_file(path: Path, book: RecipeBook, today: date | None = None) -> Validation:
    return validate_located_answers(load_located_file(path), book, today)


def json_schema() -> dict[str, object]:
    """The JSON Schema of format v1, for editors (answers.schema.json is generated from it)."""
    schema = Answers.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "emi-tui answer file, format v1"
    sections = {"packages": PackageChanges(add=["htop"], remove=["nano"]), "metadata": Metadata(), "image": ImageFields(), "output": Output()}
    rules.add_pattern_words(schema)
    return complete_examples(schema, {key: section.model_dump(exclude_none=True) for key, section in sections.items()})
