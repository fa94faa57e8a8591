"""The sha256 of an artifact, and the `.sha256` file written beside it.

One function hashes (the build's package step, a modify's repack and the
Done screen all call it), and one place knows the sidecar's format: the
`sha256sum` line `<hex digest>  <file name>`, which `sha256sum -c` checks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from hashlib import sha256
from pathlib import Path

#: Read in blocks this big: large enough to be fast, small enough to report progress and notice a cancel.
BLOCK = 4 * 1024 * 1024
#: How often, at most, `sha256_file` reports its progress.
PROGRESS_EVERY_S = 0.1
SIDECAR_SUFFIX = ".sha256"
# sha256sum writes "<digest>  <name>" (text mode) or "<digest> *<name>" (binary mode); both are read.
_LINE = re.compile(r"^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$")


class ChecksumCancelled(Exception):
    """The caller asked `sha256_file` to stop before the end of the file."""


def sha256_file(
    path: Path,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> str:
    """The hex sha256 of the file at `path`, read in blocks.

    `progress(done, total)` is called at most every PROGRESS_EVERY_S seconds;
    when `cancelled()` turns true, ChecksumCancelled is raised.
    """
    total = path.stat().st_size
    digest = sha256()
    done, last = 0, time.monotonic()
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            if cancelled is not None and cancelled():
                raise ChecksumCancelled(str(path))
            digest.update(block)
            done += len(block)
            if progress is not None and time.monotonic() - last >= PROGRESS_EVERY_S:
                last = time.monotonic()
                progress(done, total)
    return digest.hexdigest()


def sidecar_path(path: Path) -> Path:
    """Where the `.sha256` file of `path` lives: beside it, named after it (`x.tgz.sha256`)."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def sha256_line(digest: str, name: str) -> str:
    """The sidecar's content for the file `name` (a bare name: the sidecar sits in the same folder)."""
    return f"{digest}  {name}\n"


def read_sha256_file(path: Path) -> str | None:
    """The digest that `<path>.sha256` (sha256sum format) records for `path`, if it does (lower case)."""
    try:
        first = sidecar_path(path).read_text(encoding="utf-8", errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None
    match = _LINE.match(first)
    if not match or Path(match.group(2)).name != path.name:
        return None
    return match.group(1).lower()
