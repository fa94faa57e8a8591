"""The artifact's files beside its image (kvm-kernel/), replaced by a modify through no link.

The modify unpacks the artifact into its own private folder; the survey has
refused links in it. These helpers hold that even if one got through: the
folder must be a real folder inside the unpacked copy, it is opened
O_NOFOLLOW, and each new file is created O_EXCL | O_NOFOLLOW in it.
"""

from __future__ import annotations

import os
import shutil
from contextlib import suppress
from pathlib import Path

from emi_tui.engine.modify.identity import ArtifactError


def private_folder(folder: Path, unpacked: Path) -> None:
    """Refuse (ArtifactError) a `folder` that is not a real folder inside `unpacked`, the modify's own copy of the artifact."""
    # The survey refuses links in an artifact; this holds even if one got through: nothing is deleted or written through a link.
    if folder.is_symlink() or not folder.is_dir() or not folder.resolve().is_relative_to(unpacked.resolve()):
        raise ArtifactError(f"{folder.name}/ in the artifact is a link or not a folder", hint="refusing to delete or write files through it as root")


def replace_files(folder: Path, old: list[Path], fresh: list[Path]) -> None:
    """Delete `old` from `folder` and copy `fresh` in, through no link: the folder opened O_NOFOLLOW, each file created O_EXCL."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        for path in old:
            os.unlink(path.name, dir_fd=fd)
        for path in fresh:
            with suppress(FileNotFoundError):
                os.unlink(path.name, dir_fd=fd)  # a stale file of the same name, never followed
            out = os.open(path.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=fd)
            with os.fdopen(out, "wb") as target, path.open("rb") as source:
                shutil.copyfileobj(source, target)
                os.fchmod(target.fileno(), path.stat().st_mode & 0o7777)
            os.utime(path.name, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns), dir_fd=fd, follow_symlinks=False)
    finally:
        os.close(fd)

