"""Reading a catalog file: every image it lists, each resolved to one valid set of answers, or every problem at once.

Each image's answers are the catalog's shared settings, then its matrix cell
or entry, then the overrides that match it, merged key by key. They are
validated by the answer file's own rules, on a document whose every key
remembers where in the catalog it was written: a problem is reported at the
catalog's FILE:LINE:COL, saying which image it concerns.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from emi_tui.engine.answers.model import Answers, validate_located_answers
from emi_tui.engine.answers.recipes import Recipe, RecipeBook
from emi_tui.engine.answers.schema import validate_located
from emi_tui.engine.answers.yamlload import KeyPath, Located, YamlMapping, YamlValue, load_located, load_located_file
from emi_tui.engine.catalog.model import CATALOG_FORMAT, CATALOG_KEYS, Catalog
from emi_tui.engine.errors import Problem
from emi_tui.engine.sizes import STANDARD, human, is_large, parse_size

CATALOG_EMPTY = "the file is empty: a catalog needs at least `catalog: 1` and a `matrix:` or `entries:`"

#: Release names the seed's headings write as numbers ("debian x86_64 6"); other releases are written as named.
RELEASE_NUMBERS = {
    "buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14",
    "focal": "20.04", "jammy": "22.04", "noble": "24.04", "9-stream": "9", "10-stream": "10",
}


@dataclass(frozen=True)
class CatalogImage:
    """One image of a catalog: its heading in EMI-IDs and its resolved answers."""

    heading: str
    answers: Answers
    recipe: Recipe


@dataclass
class ResolvedCatalog:
    """A read catalog: its images in order and the folder they are written to, or its problems."""

    source: str
    images: list[CatalogImage] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.images) and not any(p.severity == "error" for p in self.problems)

    @property
    def folder(self) -> Path:
        """Where every artifact and the catalog's own files are written (output.dir of every image)."""
        return Path(self.images[0].answers.output.dir).expanduser().resolve()

    @property
    def title(self) -> str:
        """The release's title in its EMI-IDs and release note: the catalog file's name and its images' versions."""
        versions = ", ".join(sorted({i.answers.image.resolved_version for i in self.images}))
        return f"{Path(self.source).stem} {versions}"

    def image(self, heading: str) -> CatalogImage | None:
        return next((i for i in self.images if i.heading == heading), None)


def derived_heading(answers: Answers, recipe: Recipe) -> str:
    """The heading the seed's catalog would give the image: "debian x86_64 12", "debian large x86_64 12"."""
    size = parse_size(answers.size)
    kind = " large" if is_large(size) else ("" if size == parse_size(STANDARD) else f" {answers.size}")
    release = answers.resolved_release
    return f"{recipe.distro}{kind} {answers.arch} {RELEASE_NUMBERS.get(release, release)}"


@dataclass
class _Draft:
    """One image before validation: its merged answer keys and, per key path, where in the catalog it was written."""

    label: str
    origin: KeyPath  # the matrix or the entry it comes from
    data: YamlMapping = field(default_factory=dict)
    sources: list[tuple[KeyPath, KeyPath]] = field(default_factory=list)  # (catalog path, answers path), in merge order
    heading: str | None = None

    def merge(self, values: YamlMapping, at: KeyPath, under: KeyPath = ()) -> None:
        _deep_merge(self.data, values)
        for key in values:
            self.sources.append((at + (key,), under + (key,)))


def _deep_merge(into: YamlMapping, values: YamlMapping) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)  # type: ignore[arg-type]
        else:
            into[key] = copy.deepcopy(value)


def _located_for(draft: _Draft, located: Located) -> Located:
    """The draft's answers as a located document whose positions are the catalog's."""
    one = Located(located.source, data=draft.data)
    one.value_at[()] = located.position(draft.origin)
    for catalog_path, answers_path in draft.sources:
        for table, mine in ((located.value_at, one.value_at), (located.key_at, one.key_at)):
            for path, where in table.items():
                if path[: len(catalog_path)] == catalog_path:
                    mine[answers_path + path[len(catalog_path):]] = where
    return one


def _matches(match: dict[str, YamlValue], data: YamlMapping, heading: str | None, book: RecipeBook) -> bool:
    recipe = book.recipes.get(str(data.get("recipe")))
    release = data.get("release") or (recipe.default_release if recipe else None)
    facts = {"recipe": data.get("recipe"), "release": release, "arch": data.get("arch", "x86_64"), "size": data.get("size", STANDARD)}
    for key, wanted in match.items():
        if key == "heading":
            if wanted != heading:
                return False
        elif key == "size":
            try:
                if parse_size(wanted) != parse_size(facts["size"]):
                    return False
            except ValueError:
                return False
        elif facts.get(key) != wanted:
            return False
    return True


def _map(value: YamlValue) -> YamlMapping:
    """`value` when it is a mapping (the schema has checked it is), else an empty one."""
    return value if isinstance(value, dict) else {}


def _list(value: YamlValue) -> list[YamlValue]:
    return value if isinstance(value, list) else []


def _drafts(data: YamlMapping, book: RecipeBook) -> list[_Draft]:
    """Every image of the catalog, unvalidated, with the shared settings merged in."""
    shared = {k: v for k, v in data.items() if k not in CATALOG_KEYS}
    drafts: list[_Draft] = []
    matrix = _map(data.get("matrix"))
    if matrix:
        recipes, arches = _list(matrix.get("recipes")), _list(matrix.get("arches")) or ["x86_64"]
        sizes, releases = _list(matrix.get("sizes")) or [STANDARD], _list(matrix.get("releases")) or [None]
        excluded = [_map(e) for e in _list(matrix.get("exclude"))]
        grid = itertools.product(enumerate(recipes), enumerate(releases), enumerate(arches), enumerate(sizes))
        for (r, recipe), (e, release), (a, arch), (s, size) in grid:
            draft = _Draft(" ".join(str(w) for w in (recipe, release, arch, size) if w is not None), ("matrix",))
            draft.merge(shared, ())
            cell: YamlMapping = {"recipe": recipe, "arch": arch, "size": size}
            paths: dict[str, KeyPath] = {"recipe": ("matrix", "recipes", r), "arch": ("matrix", "arches", a), "size": ("matrix", "sizes", s)}
            if release is not None:
                cell["release"], paths["release"] = release, ("matrix", "releases", e)
            _deep_merge(draft.data, cell)
            draft.sources += [(path, (key,)) for key, path in paths.items()]
            if not any(_matches(x, draft.data, None, book) for x in excluded):
                drafts.append(draft)
    for index, item in enumerate(_list(data.get("entries"))):
        entry = _map(item)
        heading = entry.get("heading")
        draft = _Draft(str(heading or f"entry {index + 1}"), ("entries", index))
        draft.merge(shared, ())
        draft.merge({k: v for k, v in entry.items() if k != "heading"}, ("entries", index))
        draft.heading = heading if isinstance(heading, str) else None
        drafts.append(draft)
    for index, item in enumerate(_list(data.get("overrides"))):
        override = _map(item)
        for draft in drafts:
            if _matches(_map(override.get("match")), draft.data, draft.heading, book):
                draft.merge(_map(override.get("set")), ("overrides", index, "set"))
    return drafts


def resolve_located(located: Located, book: RecipeBook, today: date | None = None) -> ResolvedCatalog:
    """Every image of a loaded catalog, resolved, or every problem (each once, located in the catalog)."""
    result = ResolvedCatalog(located.source, problems=list(located.problems))
    if located.data is None or not isinstance(located.data, dict):
        if located.data is not None or not result.problems:
            result.problems.append(located.problem((), "a catalog is a mapping of keys (catalog: 1, matrix: …), not a single value or list"))
        return result
    fmt = located.data.get("catalog")
    if type(fmt) is int and fmt > CATALOG_FORMAT:
        result.problems.append(located.problem(("catalog",), f"catalog format {fmt} was written by a newer emi-tui; this one reads format {CATALOG_FORMAT}: upgrade emi-tui"))
        return result
    _, problems = validate_located(Catalog, located)
    result.problems += problems
    if problems:
        return _sorted(result)
    drafts = _drafts(located.data, book)
    if not drafts:
        result.problems.append(located.problem(("matrix",) if "matrix" in located.data else (), "the catalog lists no image: every matrix cell is excluded, or there is neither `matrix:` nor `entries:`"))
        return _sorted(result)
    seen: set[tuple[int, int, str]] = set()
    for draft in drafts:
        draft.data["version"] = 1  # an answer file's format: the catalog's own format stands for it
        validation = validate_located_answers(_located_for(draft, located), book, today)
        for problem in validation.problems:
            if (problem.line, problem.column, problem.message) not in seen:
                seen.add((problem.line, problem.column, problem.message))
                result.problems.append(Problem(problem.source, problem.line, problem.column, problem.key,
                                               f"{problem.message} (image {draft.label})", problem.severity))
        if validation.ok and validation.answers is not None and validation.recipe is not None:
            heading = draft.heading or derived_heading(validation.answers, validation.recipe)
            result.images.append(CatalogImage(heading, validation.answers, validation.recipe))
            if not draft.heading:
                draft.heading = heading
    whole = _whole_catalog_problems(result.images, drafts, located) if len(result.images) == len(drafts) else []
    result.problems += whole
    if whole or len(result.images) != len(drafts):  # a catalog with any problem has no images to build
        result.images = []
    return _sorted(result)


def _whole_catalog_problems(images: list[CatalogImage], drafts: list[_Draft], located: Located) -> list[Problem]:
    """What no single image shows: two images with one heading or one file, images written to different folders."""
    problems: list[Problem] = []
    headings: dict[str, _Draft] = {}
    files: dict[str, _Draft] = {}
    first = images[0].answers.output.dir
    folder = Path(first).expanduser()
    for image, draft in zip(images, drafts, strict=True):
        if image.heading in headings:
            problems.append(located.problem(draft.origin, f"two images have the heading {image.heading!r}: give one a `heading:` of its own"))
        headings.setdefault(image.heading, draft)
        name = image.answers.image.resolved_file
        if name in files:
            problems.append(located.problem(draft.origin, f"two images would be written as {name}: give one another `image: {{file: …}}` or size"))
        files.setdefault(name, draft)
        if Path(image.answers.output.dir).expanduser() != folder:
            problems.append(located.problem(draft.origin, f"image {image.heading} is written to {image.answers.output.dir}, the others to {first}: "
                                            "a catalog's images share one folder, so set `output: {dir: …}` once, at the top"))
    return problems


def _sorted(result: ResolvedCatalog) -> ResolvedCatalog:
    result.problems.sort(key=lambda p: (p.line, p.column))
    return result


def resolve_file(path: Path, book: RecipeBook, today: date | None = None) -> ResolvedCatalog:
    """Read and resolve the catalog at `path`; problems are collected, never raised."""
    return resolve_located(load_located_file(path, CATALOG_EMPTY), book, today)


def resolve_bytes(raw: bytes | str, source: str, book: RecipeBook, today: date | None = None) -> ResolvedCatalog:
    return resolve_located(load_located(raw, source, CATALOG_EMPTY), book, today)


def describe(image: CatalogImage) -> str:
    """One line about an image, for plans and logs: recipe, release, arch and size."""
    a = image.answers
    return f"{a.recipe} {a.resolved_release} {a.arch} {human(a.size_bytes)}"


def resolve_mapping(data: YamlMapping, source: str, book: RecipeBook, today: date | None = None) -> ResolvedCatalog:
    """A catalog made in code (the wizard's matrix picker): the same checks, problems located at line 1."""
    return resolve_located(Located(source, data=copy.deepcopy(data)), book, today)
