"""`emi-tui review PATH...`: image-id files, folders, catalogs and images, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

from rich.syntax import Syntax
from rich.text import Text

from emi_tui.commands.console import out
from emi_tui.core.review import ReviewEntry, render_review, review_paths


def _image_details(entry: ReviewEntry) -> None:
    """An image's hygiene checklist and the answers stored in it, below the table."""
    label = entry.entry or entry.source
    out.print(Text(f"\n{label}", style="bold"))
    for check in entry.hygiene or []:
        mark = Text("  ok   ", style="green") if check.ok else Text("  FAIL ", style="bold red")
        out.print(mark + Text(f"{check.name}: {check.detail}"))
    if entry.answers:
        out.print(Text("  answers stored in the image (/etc/emi-tui/answers.yaml):", style="dim"))
        out.print(Syntax(entry.answers, "yaml", theme="ansi_dark", background_color="default", padding=(0, 4)))


def run(paths: list[Path], as_json: bool, full_stamp_search: bool = False) -> int:
    """Print the review; exit 1 when any entry has an error or fails a hygiene check, 0 otherwise."""
    entries = review_paths(paths, full_stamp_search=full_stamp_search)
    if as_json:
        print(json.dumps([entry.to_json() for entry in entries], indent=2))
    else:
        out.print(render_review(entries))
        for entry in entries:
            if entry.hygiene is not None:
                _image_details(entry)
    return 0 if all(entry.ok for entry in entries) else 1
