"""How commands and their output look in a job's log: clean lines, commands quoted as a shell reads them.

The runner (emi_tui.engine.run.runner) reports a command's output through
`clean_line`, an interactive child's terminal through `TerminalLines`, and
names every command it runs with `describe_argv`. Nothing here starts a process.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def clean_line(text: str) -> str:
    """A printable line: ANSI sequences gone, carriage-return overwrites resolved."""
    text = _ANSI.sub("", text)
    if "\r" in text:
        parts = [p for p in text.split("\r") if p.strip()]
        text = parts[-1] if parts else ""
    return text.rstrip()


def describe_argv(argv: Sequence[str]) -> str:
    """How a command is shown in logs and the dry-run plan (quoted like a shell would need)."""

    def word(arg: str) -> str:
        if any(ord(c) < 32 for c in arg):  # bash's $'…' keeps tabs and newlines on one line
            return "$'" + arg.encode("unicode_escape").decode("ascii").replace("'", "\\'") + "'"
        return shlex.quote(arg)

    return " ".join(word(str(a)) for a in argv)


class TerminalLines:
    """A pass-through filter of a terminal's bytes that reports them as lines: a child's output, or what a person typed.

    A carriage return or newline ends a line. With `keys`, a backspace takes
    back the last character (the line is reported as it was sent) and Ctrl-C
    or Ctrl-D ends the line as ^C or ^D. Lines are cleaned as `clean_line` does;
    empty ones are not reported.
    """

    def __init__(self, on_line: Callable[[str], None], keys: bool = False) -> None:
        self.on_line, self.keys, self.buffer = on_line, keys, ""

    def __call__(self, data: bytes) -> bytes:
        for char in data.decode("utf-8", "replace"):
            if char in "\r\n":
                self.flush()
            elif self.keys and char in "\x7f\x08":
                self.buffer = self.buffer[:-1]
            elif self.keys and char in "\x03\x04":
                self.buffer += "^" + chr(ord(char) + 64)
                self.flush()
            else:
                self.buffer += char
        return data

    def flush(self) -> None:
        """Report what is buffered as a line (what was left unfinished when the child ended)."""
        line, self.buffer = clean_line(self.buffer), ""
        if line:
            self.on_line(line)
