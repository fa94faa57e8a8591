"""`emi-tui validate FILE...` and `emi-tui validate --schema`."""

from __future__ import annotations

import json
from pathlib import Path

from emi_tui.commands.annotations import problem_annotation, problems_json
from emi_tui.commands.console import err, out, safe_text
from emi_tui.engine.answers.model import json_schema, validate_file
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.answers.storage import render_answers
from emi_tui.engine.answers.trust import trust_warnings
from emi_tui.engine.errors import ExitCode, Problem

TITLE = "emi-tui validate"


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
        result = validate_file(path, book)
        if result.ok:
            out.print(safe_text(f"{path}: ok"))
            for warning in trust_warnings(result.answers, result.recipe):
                err.print(safe_text(f"{path}: warning: {warning}"))
            if not quiet:
                out.print(safe_text(render_answers(result.answers), lines=True), end="")
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
        result = validate_file(path, book)
        if result.ok:
            # A warning concerns the answers as a whole: it is placed on the file's first line.
            found += [Problem(str(path), 1, 1, "", warning, "warning") for warning in trust_warnings(result.answers, result.recipe)]
        else:
            status = ExitCode.BAD_INPUT
            found += result.problems
    if output_format == "json":
        print(problems_json(found))
    else:
        for problem in found:
            print(problem_annotation(problem, TITLE))
    return status
