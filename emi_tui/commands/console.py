"""The rich consoles every headless command prints through (stdout for results, stderr for trouble).

Text from outside (file and member names, image-id fields, guest lines, error
messages that quote them) is never read as markup: it is printed through
`safe_text`, which builds a rich `Text` with control characters escaped.
Markup strings are for the commands' own words only.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from emi_tui.engine.errors import EmiError, ExitCode
from emi_tui.engine.text import printable


class _Console(Console):
    """rich's Console, but a closed pipe is left to `emi_tui.cli.main`, which ends every command the same way."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more to print: the reader is gone
        raise BrokenPipeError  # rich's own answer exits 1 here; cli.main exits as a SIGPIPE'd command would


# emoji=False: a ":name:" in a printed file name stays as it is, even with markup=False.
out = _Console(highlight=False, soft_wrap=True, emoji=False)
err = _Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def safe_text(*parts: object | tuple[object, str], lines: bool = False) -> Text:
    """One Text from plain parts and (part, style) pairs: each part shown literally, control characters escaped.

    `lines` keeps newlines (a message of several lines); otherwise they are escaped too.
    """
    text = Text()
    for part in parts:
        value, style = part if isinstance(part, tuple) else (part, "")
        text.append(printable(str(value), keep_newlines=lines), style=style)
    return text


def report_error(error: EmiError) -> ExitCode:
    """Print an EmiError as one clear message (plus its problems and hint); return its exit code."""
    for problem in error.problems:
        err.print(safe_text(problem))
    err.print(safe_text(("emi-tui: error:", "bold red"), " ", error.message, lines=True) if error.message else "")
    if error.hint:
        err.print(safe_text("  ", ("hint:", "dim"), " ", error.hint, lines=True))
    return error.exit_code
