"""`emi-tui review PATH...`: image-id files, folders, catalogs and images, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

from emi_tui.commands.console import out
from emi_tui.core.review import render_review, review_paths


def run(paths: list[Path], as_json: bool) -> int:
    """Print the review; exit 1 when any entry has an error or fails a hygiene check, 0 otherwise."""
    entries = review_paths(paths)
    if as_json:
        print(json.dumps([entry.to_json() for entry in entries], indent=2))
    else:
        out.print(render_review(entries))
    return 0 if all(entry.ok for entry in entries) else 1
