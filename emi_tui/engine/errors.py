"""Problems found in operator input, and the one exception that ends a command cleanly.

Every message an operator sees about bad input is a `Problem`: where it is
(file, line, column, key path), what is wrong, and how to fix it. `EmiError`
carries a message and a hint up to the CLI or the TUI, which print it without
a traceback (as mkosi's `die(msg, hint)` does). `ExitCode` names every exit
status emi-tui returns.
"""

from __future__ import annotations

import difflib
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

Severity = Literal["error", "warning"]


class ExitCode(IntEnum):
    """What `emi-tui` exits with: the CLI, every subcommand and `EmiError` use these, never bare numbers."""

    OK = 0
    FAILED = 1  # the work itself failed (a step of a build or modify); the log says why
    BAD_INPUT = 2  # the operator's input is wrong: one clear message, nothing written
    CANCELLED = 130  # 128 + SIGINT: Ctrl-C, a signal, or the TUI's cancel
    BROKEN_PIPE = 128 + signal.SIGPIPE  # the reader of the output went away (`| head`), as a shell reports a SIGPIPE
    HUNG_UP = 128 + signal.SIGHUP  # the wizard's terminal went away
    TERMINATED = 128 + signal.SIGTERM  # the wizard was told to stop

    @classmethod
    def for_signal(cls, signum: int) -> ExitCode:
        """The status a process ended by `signum` exits with, as a shell reports it (128 + the signal's number)."""
        return cls(128 + signum)


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
    exit_code: ExitCode = ExitCode.BAD_INPUT

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
