"""`emi-tui review PATH...`: image-id files, folders, catalogs and images, as a table or JSON."""

from __future__ import annotations

from pathlib import Path

from rich.syntax import Syntax
from rich.text import Text

from emi_tui.commands.annotations import annotation, json_for_logs
from emi_tui.commands.console import out
from emi_tui.commands.tables import Column, print_table
from emi_tui.engine.errors import ExitCode
from emi_tui.engine.review.review import ReviewEntry, review_paths
from emi_tui.engine.text import printable

#: An entry's fields, most wanted first: a narrow terminal leaves out the arch first, then the stamp check.
COLUMNS = [Column("source / entry"), Column("name"), Column("version", 2), Column("arch", 4), Column("stamp check", 3), Column("problems")]
TITLE = "emi-tui review"


def review_rows(entries: list[ReviewEntry]) -> list[list[Text]]:
    """One row per entry (the cells of COLUMNS), its findings in the last cell, one a line."""
    rows = []
    for e in entries:
        # Values come from untrusted files: Text, not markup, so "[red]" in a name stays literal,
        # and printable, so an escape sequence in a name is shown, not sent to the terminal.
        problems = Text()
        for p in e.problems:
            problems.append(f"{p.severity}: {printable(p.message)}\n", style="red" if p.severity == "error" else "yellow")
        for h in e.hygiene or []:
            if not h.ok:
                problems.append(f"hygiene: {h.name}: {printable(h.detail)}\n", style="red")
        problems.rstrip()
        rows.append([
            Text(printable(e.source) + (f"\n{printable(e.entry)}" if e.entry else "")),
            *(Text(printable(e.fields.get(k, ""))) for k in ("image_name", "image_version", "image_arch")),
            Text(printable(e.stamp_check.describe()), style="green" if e.stamp_check.verified else "yellow"),
            problems if problems.plain else Text("ok", style="green"),
        ])
    return rows


def _image_details(entry: ReviewEntry, plain: bool) -> None:
    """An image's hygiene checklist and the answers stored in it, below the table.

    The answers are the file's own lines (highlighted on a terminal, unless `plain`), never cut at the edge.
    """
    label = entry.entry or entry.source
    out.print(Text(f"\n{printable(label)}", style="bold"))
    for check in entry.hygiene or []:
        mark = Text("  ok   ", style="green") if check.ok else Text("  FAIL ", style="bold red")
        out.print(mark + Text(printable(f"{check.name}: {check.detail}")))
    if entry.answers:
        out.print(Text("  answers stored in the image (/etc/emi-tui/answers.yaml):", style="dim"))
        answers = printable(entry.answers, keep_newlines=True)
        shown = Text(answers) if plain or not out.is_terminal else Syntax(answers, "yaml", theme="ansi_dark").highlight(answers)
        for line in shown.split("\n"):
            out.print(Text("    ") + line, soft_wrap=True)  # each line whole, as the file has it: never cut at the edge


def github_annotations(entries: list[ReviewEntry]) -> list[str]:
    """Each entry's problems, failed hygiene checks and unverified stamp as GitHub annotations on its source file."""
    lines = []
    for e in entries:
        where = f"{e.entry}: " if e.entry else ""
        for p in e.problems:
            message = f"{where}{p.field}: {p.message}" if p.field else f"{where}{p.message}"
            lines.append(annotation(p.severity, message, TITLE, file=e.source, line=p.line))
        lines += [annotation("error", f"{where}hygiene: {h.name}: {h.detail}", TITLE, file=e.source) for h in e.hygiene or [] if not h.ok]
        if e.stamp_unverified:
            stamp_line = next((p.line for p in e.problems if p.field == "image_stamp"), 0)
            lines.append(annotation("warning", f"{where}stamp check: {e.stamp_check.describe()}", TITLE, file=e.source, line=stamp_line))
    return lines


def run(paths: list[Path], as_json: bool, full_stamp_search: bool = False, plain: bool = False, github: bool = False) -> ExitCode:
    """Print the review; exit 1 when any entry has an error, a stamp that does not verify or a failed hygiene check, 0 otherwise.

    `as_json` prints one JSON array instead of the table; `github` prints GitHub workflow-command annotations;
    `plain` prints the table's rows as `key: value` records.
    """
    entries = review_paths(paths, full_stamp_search=full_stamp_search)
    if github:
        for line in github_annotations(entries):
            print(line)
    elif as_json:
        print(json_for_logs([entry.to_json() for entry in entries]))
    else:
        print_table(out, "image review", COLUMNS, review_rows(entries), plain=plain, show_lines=True, plain_hint="emi-tui review --plain")
        for entry in entries:
            if entry.hygiene is not None:
                _image_details(entry, plain)
    return ExitCode.OK if all(entry.passes for entry in entries) else ExitCode.FAILED
