"""Text from outside (a guest's console, an artifact's member names, an image's files, a request) made safe to show.

Such text may hold terminal escape sequences (ESC [ ... m recolours or
rewrites the operator's terminal, OSC 52 writes their clipboard), carriage
returns that overwrite a line already shown, NULs, or bidirectional
overrides that reorder what is read. `printable` writes each of those
characters as a visible escape (ESC as \\x1b), so the text is shown
literally and nothing reaches the terminal as a control. Escaping one
character at a time keeps it safe however a stream is cut into pieces.

Renderers still must not read outside text as markup: the CLI prints it as a
rich `Text` (or with markup=False), the TUI as `Content` or in a `Log`.
"""

from __future__ import annotations

import unicodedata
from typing import TextIO

#: Unicode format characters that reorder or hide text (bidi overrides and isolates), and line separators.
_INVISIBLE = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(char: str, keep: str) -> bool:
    if char in keep:
        return False
    return unicodedata.category(char) == "Cc" or char in _INVISIBLE


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character (C0, DEL, C1) and bidi override written as \\xNN or \\uNNNN.

    Tabs stay. Newlines stay only with `keep_newlines` (a message of several
    lines); a CR is always escaped, since it lets a line overwrite what came
    before it.
    """
    keep = "\t\n" if keep_newlines else "\t"
    if text.isprintable() or not any(_unsafe(char, keep) for char in text):
        return text
    return "".join(_escape(char) if _unsafe(char, keep) else char for char in text)


class PrintableWriter:
    """A text file wrapper that writes what it is given through `printable`, keeping line ends.

    For logs fed a raw stream (a guest's console on a pty): CR LF and lone LF
    end lines; any other CR, and every other control character, is escaped.
    A CR at the end of one write is held until the next shows whether an LF follows.
    """

    def __init__(self, file: TextIO) -> None:
        self.file = file
        self._held_cr = False

    def write(self, data: str) -> int:
        if self._held_cr:
            data = "\r" + data
            self._held_cr = False
        if data.endswith("\r"):
            data, self._held_cr = data[:-1], True
        self.file.write(printable(data.replace("\r\n", "\n"), keep_newlines=True))
        return len(data)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        """Write a CR still held (escaped) and flush; the wrapped file stays open for its owner to close."""
        if self._held_cr:
            self.file.write(_escape("\r"))
            self._held_cr = False
        self.file.flush()
