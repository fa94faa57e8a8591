"""The Summary's readiness checks in words: one line per check, and what Build may do with them.

`check_readiness` (emi_tui.engine.build.readiness) runs the checks; the App
holds which function that is (`EmiApp(readiness=…)`, a stand-in in tests).
A checker that raises is itself a failed check: the operator sees why, and a
real build stays blocked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.content import Content

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.build.readiness import Check, CheckStatus, Readiness
from emi_tui.engine.text import printable

#: check_readiness's signature: (answers, recipe, *, offline, work_parent) -> Readiness.
ReadinessCheck = Callable[..., Readiness]

MARKS = {
    CheckStatus.OK: ("✓", "$text-success"),
    CheckStatus.WARNING: ("⚠", "$text-warning"),
    CheckStatus.ERROR: ("✗", "$text-error"),
    CheckStatus.NOT_CHECKED: ("–", "$text-muted"),
}


def run_checks(check: ReadinessCheck, answers: Answers, recipe: Recipe, *, offline: bool, work_parent: Path | None = None) -> Readiness:
    """Run `check`; any exception becomes one failed check that says what went wrong (never a traceback)."""
    try:
        return check(answers, recipe, offline=offline, work_parent=work_parent)
    except Exception as exc:  # a checker's failure is shown to the operator, whatever it is
        why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return Readiness((Check("checks", "Readiness checks", CheckStatus.ERROR, f"could not run: {why}",
                                "a real build stays blocked until the checks run; a dry run still shows the plan"),))


def check_line(check: Check) -> Content:
    """One check as a line: its mark, its label, what it found (and "not checked" said in words)."""
    mark, style = MARKS[check.status]
    unchecked = check.status is CheckStatus.NOT_CHECKED and "not checked" not in check.message
    status = " (not checked: offline)" if unchecked else ""
    line = Content.from_markup(f"[{style}]$mark[/] [b]$label[/b]: $message$status", mark=mark, label=printable(check.label),
                               message=printable(check.message), status=status)
    if check.hint and check.status in (CheckStatus.ERROR, CheckStatus.WARNING):
        line += Content.from_markup("\n  [dim]→ $hint[/]", hint=printable(check.hint))
    return line


def verdict(readiness: Readiness | None, running: bool) -> Content:
    """One line under the checks: whether Build may go, in words."""
    if readiness is None or running:
        return Content.from_markup("[$text-muted]checking…[/] Build waits for the checks.")
    errors, warnings = len(readiness.errors), len(readiness.warnings)
    unchecked = len(readiness.with_status(CheckStatus.NOT_CHECKED))
    if errors:
        return Content.from_markup(
            "[$text-error]$n blocking: Build is off.[/] A dry run still shows the plan, and stops at the same errors.",
            n=f"{errors} error{'s' if errors > 1 else ''}")
    tail = f" {unchecked} not checked (offline)." if unchecked else ""
    if warnings:
        return Content.from_markup("[$text-warning]$n:[/] Build asks twice.$tail", n=f"{warnings} warning{'s' if warnings > 1 else ''}",
                                   tail=tail)
    return Content.from_markup("[$text-success]Ready to build.[/]$tail", tail=tail)
