"""`emi-tui validate FILE...` and `emi-tui validate --schema`."""

from __future__ import annotations

import json
from pathlib import Path

from emi_tui.commands.annotations import problem_annotation, problems_json
from emi_tui.commands.console import err, out, safe_text
from emi_tui.engine.answers.model import Validation, json_schema, validate_located_answers
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.answers.storage import render_answers
from emi_tui.engine.answers.trust import trust_warnings
from emi_tui.engine.answers.yamlload import load_located_file
from emi_tui.engine.catalog.model import is_catalog
from emi_tui.engine.catalog.resolve import CATALOG_EMPTY, ResolvedCatalog, describe, resolve_located
from emi_tui.engine.errors import ExitCode, Problem

TITLE = "emi-tui validate"


def validate_any(path: Path, book: RecipeBook) -> Validation | ResolvedCatalog:
    """An answer file's validation, or a catalog's resolution when the file is a catalog (it has `catalog:`, `matrix:` or `entries:`)."""
    located = load_located_file(path)
    if is_catalog(located.data) or (located.data is None and path.name.endswith((".catalog.yaml", ".catalog.yml"))):
        if located.data is None:  # an empty catalog says what a catalog needs
            located = load_located_file(path, CATALOG_EMPTY)
        return resolve_located(located, book)
    return validate_located_answers(located, book)


def _print_ok(path: Path, result: Validation | ResolvedCatalog, quiet: bool) -> None:
    if isinstance(result, ResolvedCatalog):
        out.print(safe_text(f"{path}: ok, a catalog of {len(result.images)} image{'s' if len(result.images) != 1 else ''}"))
        if not quiet:
            for image in result.images:
                out.print(safe_text(f"  {image.heading}: {image.answers.image.resolved_file} ({describe(image)})"))
        return
    out.print(safe_text(f"{path}: ok"))
    for warning in trust_warnings(result.answers, result.recipe):
        err.print(safe_text(f"{path}: warning: {warning}"))
    if not quiet:
        out.print(safe_text(render_answers(result.answers), lines=True), end="")


def _warnings(path: Path, result: Validation | ResolvedCatalog) -> list[Problem]:
    """The trust warnings of each image (of the catalog, or the one of the answer file), placed on the file's first line."""
    pairs = [(i.answers, i.recipe) for i in result.images] if isinstance(result, ResolvedCatalog) else [(result.answers, result.recipe)]
    found: list[Problem] = []
    for answers, recipe in pairs:
        found += [Problem(str(path), 1, 1, "", warning, "warning") for warning in trust_warnings(answers, recipe)]
    return found


def run(files: list[Path], schema: bool, quiet: bool, recipes_dir: Path | None = None, output_format: str = "text") -> ExitCode:
    """Print every problem of every file, or `FILE: ok` and the resolved answers; 2 if any file is bad.

    `output_format` "json" prints one JSON array of every problem and warning
    instead; "github" prints them as GitHub workflow-command annotations.
    """
    if schema:
        out.print_json(json.dumps(json_schema())) if out.is_terminal else print(json.dumps(json_schema(), indent=2))
        return ExitCode.OK
    if output_format != "text":
        return _run_for_machines(files, recipes_dir, output_format)
    book = RecipeBook.named(recipes_dir)
    for problem in book.problems:
        err.print(safe_text(problem))
    status = ExitCode.OK
    for path in files:
        result = validate_any(path, book)
        if result.ok:
            _print_ok(path, result, quiet)
        else:
            status = ExitCode.BAD_INPUT
            for problem in result.problems:
                err.print(safe_text(problem))
            err.print(safe_text(f"{path}: {len(result.problems)} problem{'s' if len(result.problems) != 1 else ''}"))
    return status


def _run_for_machines(files: list[Path], recipes_dir: Path | None, output_format: str) -> ExitCode:
    """Every problem (the recipe book's too) and every warning, as JSON or annotations on stdout; the same exit status."""
    book = RecipeBook.named(recipes_dir)
    found: list[Problem] = list(book.problems)
    status = ExitCode.OK
    for path in files:
        result = validate_any(path, book)
        if result.ok:
            # A warning concerns the answers as a whole: it is placed on the file's first line.
            found += _warnings(path, result)
        else:
            status = ExitCode.BAD_INPUT
            found += result.problems
    if output_format == "json":
        print(problems_json(found))
    else:
        for problem in found:
            print(problem_annotation(problem, TITLE))
    return status
