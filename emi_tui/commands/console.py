"""The rich consoles every headless command prints through (stdout for results, stderr for trouble)."""

from __future__ import annotations

from rich.console import Console

from emi_tui.engine.errors import EmiError, ExitCode

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def report_error(error: EmiError) -> ExitCode:
    """Print an EmiError as one clear message (plus its problems and hint); return its exit code."""
    for problem in error.problems:
        err.print(str(problem), markup=False)
    err.print(f"[bold red]emi-tui: error:[/] {error.message}" if error.message else "", markup=True, highlight=False)
    if error.hint:
        err.print(f"  [dim]hint:[/] {error.hint}", markup=True)
    return error.exit_code
