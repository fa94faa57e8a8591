"""Finding what to review in a folder, and reading loose image-id files and catalogs, bounded and through no link.

A folder handed to `review` may hold anything, links planted by someone else
included. The walk never follows a link: a linked folder is not entered, a
linked file is not opened, and both are reported as skipped, so a review never
prints lines of a file it reached through a link (a link to /etc/shadow, or out
of the folder). Files are opened relative to their folder's descriptor with
O_NOFOLLOW, so a name swapped for a link during the walk is not followed
either. Every read is bounded. A path the operator names on the command line
is theirs to choose: a link named there is followed (`read_named`).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from emi_tui.engine.artifact.kinds import is_artifact

# A text file bigger than this is not an image-id or a catalog; reading it all would only cost memory.
MAX_TEXT_BYTES = 4 << 20
#: How much of a file with no telling name is read to decide whether it holds image-id lines.
SNIFF_BYTES = 64 << 10
# A line of an image-id (key="value") or of an old catalog (date …, stamp …).
_SNIFF = re.compile(rb"^[ \t]*(?:image_(?:name|version|arch|file|stamp|date)[ \t]*=|(?:date|stamp)[ \t]+\S+[ \t]*$)", re.MULTILINE)


class TooBig(Exception):
    """A file is bigger than an image-id file or a catalog can be."""


class NotImageId(Exception):
    """A file that might have been a catalog (by its name) holds no image-id lines: why, in words."""


@dataclass
class FolderScan:
    """What a folder holds for a review, in walk order: images and artifacts (data None, read by path) and texts already read; what was skipped."""

    found: list[tuple[Path, bytes | None]] = field(default_factory=list)
    #: Files read because their names may be catalogs', that are not: each with why (a review reports them).
    not_image_ids: list[tuple[Path, str]] = field(default_factory=list)
    links: list[Path] = field(default_factory=list)
    too_big: list[Path] = field(default_factory=list)
    unreadable: list[OSError] = field(default_factory=list)


def _named(name: str) -> bool:
    """True when a name says it is an image-id file."""
    return name == "image-id" or name.endswith(".image-id")


def _candidate(name: str) -> bool:
    """True when a name may be a catalog (they have no fixed name: EMI-IDs, images.txt…), to be sniffed."""
    return name.endswith(".txt") or "." not in name or "emi-id" in name


def _read_open(fd: int, limit: int, sniff: bytes | None) -> bytes | None:
    """Read a regular file's descriptor: None when `sniff` is given and its start does not match; TooBig past `limit`."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or a device would block the read or never end
        return None
    with os.fdopen(fd, "rb", closefd=False) as handle:
        head = handle.read(SNIFF_BYTES if sniff is not None else limit + 1)
        if sniff is not None:
            if b"\0" in head:
                raise NotImageId("binary content, not an image-id file or catalog")
            if _SNIFF.search(head) is None:
                raise NotImageId(f"no image-id lines (image_name=\"…\", or a catalog's date and stamp lines) in its first {SNIFF_BYTES >> 10} KB")
            head += handle.read(limit + 1 - len(head))
    if len(head) > limit:
        raise TooBig
    return head


def _read_in(dir_fd: int, name: str, sniff: bool) -> bytes | None:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        return _read_open(fd, MAX_TEXT_BYTES, b"" if sniff else None)
    finally:
        os.close(fd)


def read_named(path: Path) -> bytes:
    """The bytes of a file the operator named (a link there is followed: they chose it); TooBig past MAX_TEXT_BYTES.

    Raises OSError when it cannot be opened, TooBig when it is too big.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        return _read_open(fd, MAX_TEXT_BYTES, None) or b""
    finally:
        os.close(fd)


def scan_folder(folder: Path) -> FolderScan:
    """Walk `folder` (hidden folders left out) without following any link; read its image-id files and catalogs."""
    scan = FolderScan()
    for top, dirs, files, dir_fd in os.fwalk(folder, onerror=scan.unreadable.append, follow_symlinks=False):
        kinds = {}
        for name in dirs + files:
            try:
                kinds[name] = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
            except OSError as exc:  # gone since the folder was listed
                exc.filename = str(Path(top, name))
                scan.unreadable.append(exc)
        scan.links += [Path(top, n) for n in sorted(dirs + files) if stat.S_ISLNK(kinds.get(n, 0))]
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and stat.S_ISDIR(kinds.get(d, 0)))  # .git and friends hold no images
        for name in sorted(n for n in files if stat.S_ISREG(kinds.get(n, 0))):
            path, lower = Path(top, name), name.lower()
            if is_artifact(lower):
                scan.found.append((path, None))
            elif _named(lower) or _candidate(lower):
                try:
                    data = _read_in(dir_fd, name, sniff=not _named(lower))
                except TooBig:
                    scan.too_big.append(path)
                except NotImageId as why:
                    scan.not_image_ids.append((path, str(why)))
                except OSError as exc:
                    exc.filename = str(path)
                    scan.unreadable.append(exc)
                else:
                    if data is not None:
                        scan.found.append((path, data))
    return scan
