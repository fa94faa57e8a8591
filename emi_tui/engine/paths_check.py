"""Can a folder that artifacts go to be used? Looked at without creating or writing anything.

The wizard's Image and Changes steps and the command line (dry run, readiness)
ask the same question of an output folder, so they share this one answer.
Nothing here creates a folder or a file: the nearest part of the path that
exists is looked at, and what is missing is judged by whether it could be made
inside it.
"""

from __future__ import annotations

import os
from pathlib import Path


def nearest_existing(path: Path) -> Path:
    """`path` itself when it exists, else its closest ancestor that does (at worst the root)."""
    current = path
    while not os.path.lexists(current) and current != current.parent:
        current = current.parent
    return current


def output_folder_problem(path: str | os.PathLike[str], *, base: Path | None = None) -> str | None:
    """Why artifacts cannot be written to the folder `path`, or None when it exists or can be made.

    A relative `path` is taken from `base` (the current folder when None), as
    the build takes it. The answer is a message for an operator: it names the
    folder and says how to fix it.
    """
    text = os.fspath(path)
    if not text.strip():
        return "give a folder for the artifacts"
    if "\0" in text:
        return "a folder name cannot hold a NUL character"
    folder = Path(text).expanduser()
    if not folder.is_absolute():
        folder = (base if base is not None else Path.cwd()) / folder
    existing = nearest_existing(folder)
    try:
        is_dir = existing.is_dir()
    except OSError as exc:  # a loop of links, a path too long
        return f"{text} cannot be used: {exc.strerror or exc}"
    if not is_dir:
        if existing == folder:
            return f"{text} is a file, not a folder: choose a folder"
        return f"{text} cannot be made: {existing} is a file, not a folder"
    made = existing != folder
    where = f"{text} cannot be made: {existing}" if made else text
    try:
        stats = os.statvfs(existing)
    except OSError as exc:
        return f"{where} cannot be read: {exc.strerror or exc}"
    if stats.f_blocks == 0:
        # /proc, /sys and their kind report no storage at all: mkdir there fails
        # even as root, whatever the permission bits say.
        return f"{where} is on a filesystem that holds no files (such as /proc or /sys): choose another folder"
    if stats.f_flag & os.ST_RDONLY:
        return f"{where} is on a read-only filesystem: choose another folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{where} is not writable by this user: choose another folder, or fix its permissions"
    return None
