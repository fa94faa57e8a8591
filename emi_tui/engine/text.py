"""Text from outside (a guest's console, an artifact's member names, an image's files, a request) made safe to show.

Such text may hold terminal escape sequences (ESC [ ... m recolours or
rewrites the operator's terminal, OSC 52 writes their clipboard), carriage
returns that overwrite a line already shown, NULs, or bidirectional
overrides that reorder what is read. `printable` writes each of those
characters as a visible escape (ESC as \\x1b), so the text is shown
literally and nothing reaches the terminal as a control. A console's colour
sequences may be dropped instead (`drop_colours`): they only colour, and
escaped they would bury every line. `PrintableWriter` does the same for a
log fed a raw stream.

Renderers still must not read outside text as markup: the CLI prints it as a
rich `Text` (or with markup=False), the TUI as `Content` or in a `Log`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TextIO

#: Unicode format characters that reorder or hide text (bidi overrides and isolates), and line separators.
_INVISIBLE = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")


#: What a CI runner (GitHub's) reads as a workflow command in a log: `::` opening a line after blanks, and the
#: legacy `##[` anywhere. Their one character that matters is written as an escape ([ as \x5b, the first : as \x3a).
_LEGACY_COMMAND = re.compile(r"##\[")
#: (A line is a command only when a second `::` ends its command name: "::1 GET /" stays as it is.)
_LINE_COMMAND = re.compile(r"^(\s*):(?=:[^\n]*::)", re.MULTILINE)
#: A colour sequence: ESC [ numbers separated by ; or : then m.
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
#: The end of a line in a pty's stream: LF after any CRs.
_LINE_END = re.compile(r"\r*\n")
#: A URL's scheme and userinfo: everything of its authority (up to /, ?, # or a space) before the last @.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#\s]*)@")
#: What stands for a password (or a token) in redacted text.
REDACTED = "***"


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(char: str, keep: str) -> bool:
    if char in keep:
        return False
    return unicodedata.category(char) == "Cc" or char in _INVISIBLE


def printable(text: str, *, keep_newlines: bool = False, drop_colours: bool = False) -> str:
    """`text` with every control character (C0, DEL, C1) and bidi override written as \\xNN or \\uNNNN.

    What a CI log would read as a workflow command is written visibly too: a
    line's opening `::` as `\\x3a:` and `##[` as `##\\x5b`, so that an image-id
    value or a file name cannot raise an annotation or mask a secret in CI.

    Tabs stay. Newlines stay only with `keep_newlines` (a message of several
    lines); a CR is always escaped, since it lets a line overwrite what came
    before it. `drop_colours` first removes whole colour sequences (SGR,
    ESC [ ... m), which a console is full of and which only set colours:
    what is left of any other sequence is escaped.
    """
    if drop_colours:
        text = _SGR.sub("", text)
    keep = "\t\n" if keep_newlines else "\t"
    if not text.isprintable() and any(_unsafe(char, keep) for char in text):
        text = "".join(_escape(char) if _unsafe(char, keep) else char for char in text)
    if "##[" in text or "::" in text:
        text = _LINE_COMMAND.sub(r"\1\\x3a", _LEGACY_COMMAND.sub(r"##\\x5b", text))
    return text


class PrintableWriter:
    """A text file wrapper for a raw stream (a guest's console on a pty): whole lines, escaped, colours dropped.

    CRs before an LF end the line with it (a serial console on a pty sends
    CR CR LF); any other CR, and every other control character, is escaped.
    Text is held until its line ends, so a colour sequence cut in two by the
    stream is still recognised, but never more than `MAX_HELD` characters.
    """

    MAX_HELD = 8192

    def __init__(self, file: TextIO) -> None:
        self.file = file
        self._held = ""

    def write(self, data: str) -> int:
        text = self._held + data
        *lines, self._held = _LINE_END.split(text)
        if lines:
            self.file.write("".join(printable(line, drop_colours=True) + "\n" for line in lines))
        if len(self._held) > self.MAX_HELD:
            self.file.write(printable(self._held, drop_colours=True))
            self._held = ""
        return len(data)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        """Write what is held (a last line without its end) and flush; the wrapped file stays open for its owner."""
        if self._held:
            self.file.write(printable(self._held, drop_colours=True))
            self._held = ""
        self.file.flush()


def _redacted_userinfo(match: re.Match[str]) -> str:
    user, colon, _secret = match["userinfo"].partition(":")
    # Only a user name is kept: a lone name with no password may itself be a token (https://TOKEN@host/).
    return f"{match['scheme']}{user}:{REDACTED}@" if colon else f"{match['scheme']}{REDACTED}@"


def redact_secrets(text: str) -> str:
    """`text` with the password of every URL (`scheme://user:password@`) written as ***, and a lone token too.

    For whatever is published or stored from a mirror URL or a repository line:
    the image's stored answers and sources, the answers and the log beside the
    artifact, and the events the CLI and the TUI show.
    """
    return _USERINFO.sub(_redacted_userinfo, text) if "@" in text else text
