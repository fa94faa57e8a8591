"""`emi-tui validate FILE...` and `emi-tui validate --schema`."""

from __future__ import annotations

import json
from pathlib import Path

from emi_tui.commands.console import err, out, safe_text
from emi_tui.engine.answers.model import json_schema, validate_file
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.answers.storage import render_answers
from emi_tui.engine.answers.trust import trust_warnings
from emi_tui.engine.errors import ExitCode


def run(files: list[Path], schema: bool, quiet: bool, recipes_dir: Path | None = None) -> ExitCode:
    """Print every problem of every file, or `FILE: ok` and the resolved answers; 2 if any file is bad."""
    if schema:
        out.print_json(json.dumps(json_schema())) if out.is_terminal else print(json.dumps(json_schema(), indent=2))
        return ExitCode.OK
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
