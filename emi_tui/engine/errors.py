"""Problems found in operator input, and the one exception that ends a command cleanly.

Every message an operator sees about bad input is a `Problem`: where it is
(file, line, column, key path), what is wrong, and how to fix it. `EmiError`
carries a message and a hint up to the CLI or the TUI, which print it without
a traceback (as mkosi's `die(msg, hint)` does).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One located thing wrong with an input file."""

    source: str
    line: int
    column: int
    key: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}:{self.column}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass
class EmiError(Exception):
    """A failure the operator can act on; printed as the message plus a hint, exit code 2."""

    message: str
    hint: str = ""
    problems: list[Problem] = field(default_factory=list)
    exit_code: int = 2

    def __str__(self) -> str:
        return self.message


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' for the closest of `choices`, or '' when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def one_of(choices: Iterable[str]) -> str:
    """'a, b or c' for an error message."""
    items = [str(c) for c in choices]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
