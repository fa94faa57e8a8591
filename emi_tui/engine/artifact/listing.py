"""What a tarball holds, read without unpacking it: one robust, bounded `tar --list`.

GNU tar reads every kind emi-tui handles (Python's tarfile cannot read zstd
on 3.11), so it lists them all. Its verbose listing is parsed by position
only up to the member's name: with --quoting-style=c every name (and link
target) is one double-quoted C string, so names holding blanks, " -> ", a
newline or a leading "-" come back exactly. The C locale makes tar escape
every byte outside ASCII, so no name is lost to decoding either.

A hostile tarball can hold millions of members: the listing stops at
`MAX_LISTING_BYTES` of output or `MAX_MEMBERS` members, whichever comes
first, with an error that says so.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.artifact.kinds import tar_read_args
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.runner import run_captured

#: An artifact holds an image, a kernel and a ramdisk; a starter image a few more. Far more is not an artifact.
MAX_MEMBERS = 10_000
#: About a hundred bytes a member: room for MAX_MEMBERS with long names.
MAX_LISTING_BYTES = 4 * 1024 * 1024
#: Listing decompresses the whole tarball: several GB on a slow disk take minutes, not an hour.
LIST_TIMEOUT_S = 900.0
#: Every byte outside ASCII comes back as an octal escape, so the listing decodes without loss.
_C_LOCALE = {"LC_ALL": "C", "LANG": "C"}
_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34, "'": 39, "?": 63}


class ListingError(EmiError):
    """The tarball could not be listed, or holds too much to be an artifact."""


class UnsafeArtifact(EmiError):
    """The artifact holds what emi-tui never unpacks: a link, a device, an unsafe name, too much; bad input, refused before unpacking."""


class TooManyMembers(ListingError, UnsafeArtifact):
    """The listing went past its bound of members or bytes: no artifact holds that much."""


@dataclass(frozen=True)
class Member:
    """One entry of a tarball as tar lists it."""

    name: str  # exactly as stored (bytes that are not UTF-8 are kept as surrogate escapes, like os.fsdecode)
    type: str  # the first letter of the mode: "-" file, "d" folder, "l" symbolic link, "h" hard link, "c"/"b"/"p" special
    size: int | None  # apparent size in bytes (a sparse image counts its holes); None for a device
    link: str | None = None  # what a symbolic or hard link points to

    @property
    def is_file(self) -> bool:
        return self.type == "-"


def unquote_c(text: str, start: int) -> tuple[str, int]:
    """The C string literal that opens at `text[start]`, decoded, and the index just past its closing quote."""
    if text[start : start + 1] != '"':
        raise ValueError(f"no quoted name at column {start + 1}")
    out = bytearray()
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == '"':
            return os.fsdecode(bytes(out)), i + 1
        if char != "\\":
            out += char.encode("utf-8", "surrogateescape")
            i += 1
            continue
        following = text[i + 1 : i + 2]
        octal = len(text[i + 1 : i + 4]) - len(text[i + 1 : i + 4].lstrip("01234567"))
        if octal:
            out.append(int(text[i + 1 : i + 1 + octal], 8) & 0xFF)
            i += 1 + octal
        elif following in _ESCAPES:
            out.append(_ESCAPES[following])
            i += 2
        else:
            raise ValueError(f"unknown escape \\{following} at column {i + 1}")
    raise ValueError("the quoted name never closes")


def parse_line(line: str) -> Member | None:
    """One line of `tar --list --verbose --quoting-style=c --numeric-owner --full-time`; None for a line naming no member.

    The columns before the name (mode, uid/gid, size, day, time) hold no
    double quote, so the first one opens the name.
    """
    opening = line.find('"')
    if opening < 0:
        return None
    columns = line[:opening].split()
    if len(columns) < 3:
        return None
    name, end = unquote_c(line, opening)
    link = None
    for joiner in (" -> ", " link to "):
        if line.startswith(joiner, end):
            link, _ = unquote_c(line, end + len(joiner))
    size = int(columns[2]) if columns[2].isdigit() else None
    return Member(name, columns[0][:1], size, link)


def parse_listing(text: str, limit: int = MAX_MEMBERS) -> list[Member]:
    """Every member of a verbose, C-quoted listing: OverflowError past `limit` members, ValueError on a name cut short."""
    members: list[Member] = []
    for line in text.splitlines():
        member = parse_line(line)
        if member is None:
            continue
        if len(members) == limit:
            raise OverflowError(f"more than {limit:,} members")
        members.append(member)
    return members


def list_members(
    path: Path,
    compress: str | None = None,
    *,
    max_members: int = MAX_MEMBERS,
    max_bytes: int = MAX_LISTING_BYTES,
    timeout: float = LIST_TIMEOUT_S,
    cancel: threading.Event | None = None,
) -> list[Member]:
    """The members of the tarball at `path` (of kind `compress` when known), in archive order.

    Raises ListingError when tar cannot read it, or when it holds more than
    `max_members` members or `max_bytes` of listing: such a file is no
    artifact, and reading on would only cost time and memory.
    """
    argv = ["tar", *(tar_read_args(compress) if compress else []), "--list", "--verbose", "--quoting-style=c",
            "--numeric-owner", "--full-time", "--force-local", "-f", os.path.abspath(path)]
    done = run_captured(argv, timeout=timeout, cancel=cancel, env=_C_LOCALE, limit=max_bytes)
    too_many = TooManyMembers(f"{path.name} holds more than {max_members:,} members", hint="an artifact holds an image, its kernel and ramdisk: this is not one")
    if done.truncated:
        raise TooManyMembers(f"{path.name} lists more than {max_bytes:,} bytes of member names", hint=too_many.hint)
    if not done.ok:
        raise ListingError(f"{path.name} could not be read ({done.first_error_line()})", hint="check that it is a complete tarball")
    try:
        return parse_listing(done.stdout, max_members)
    except OverflowError:
        raise too_many from None
    except ValueError as exc:
        raise ListingError(f"{path.name}: tar's listing cannot be read ({exc})", hint="check that it is a complete tarball") from None
