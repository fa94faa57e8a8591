"""`emi-tui review PATH...`: image-id files, folders, catalogs and images, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

from emi_tui.commands.console import out
from emi_tui.core.review import render_review, review_paths


def run(paths: list[Path], as_json: bool) -> int:
    """Print the review; exit 1 when any entry has an error, 0 otherwise."""
    entries = review_paths(paths)
    if as_json:
        print(json.dumps([entry.to_json() for entry in entries], indent=2))
    else:
        out.print(render_review(entries))
    has_error = any(problem.severity == "error" for entry in entries for problem in entry.problems)
    return 1 if has_error else 0
