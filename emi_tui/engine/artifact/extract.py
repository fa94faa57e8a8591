"""Unpacking members of an artifact tarball: the one `tar --extract` of the review, the boot test and a modify.

GNU tar restores a sparse image sparse, so a 4.5G image costs what it
holds. The archive is named by an absolute path with --force-local (a name
holding ':' would otherwise be read as host:file), and the member names
follow `--`, so no name is ever taken for an option.

`extract_surveyed` is the bounded unpacking every caller uses: the survey
has already refused links, devices and unsafe names; what the chosen
members declare must fit in the target's free space; and what was unpacked
is checked again (the artifact may have changed since it was listed).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from emi_tui.engine.artifact.kinds import tar_read_args
from emi_tui.engine.artifact.listing import UnsafeArtifact
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.runner import Captured, run_captured
from emi_tui.engine.sizes import human
from emi_tui.engine.text import printable


class Surveyed(Protocol):
    """What the bounded unpacking needs of an artifact's survey (artifact.survey.ArtifactSurvey, which imports this module)."""

    @property
    def path(self) -> Path: ...
    @property
    def compress(self) -> str: ...
    @property
    def declared(self) -> dict[str, int]: ...

#: Decompressing several GB from a slow disk takes minutes; an hour means something is wrong.
EXTRACT_TIMEOUT_S = 900.0
#: Room kept free beside what the members declare: folders, metadata, and whatever else the disk is for.
ROOM_MARGIN_BYTES = 64 * 1024**2


def extract_argv(
    artifact: Path, into: Path, names: Sequence[str] = (), *, wildcards: bool = False, compress: str | None = None, preserve: bool = False
) -> list[str]:
    """tar's argv to unpack `names` (every member when empty; shell patterns with `wildcards`) into `into`.

    With `preserve`, modes and numeric owners are kept as stored (a modify repacks them as they were).
    """
    kept = ["--preserve-permissions", "--numeric-owner"] if preserve else ["--no-same-owner", "--no-same-permissions"]
    argv = ["tar", *(tar_read_args(compress) if compress else []), "--extract", *kept, "--force-local", "-f", os.path.abspath(artifact), "-C", str(into)]
    # Said either way: a member name holding "*" or "[" must only match itself unless patterns were asked for.
    return argv + (["--wildcards"] if wildcards else ["--no-wildcards"]) + ["--", *names]


def extract(
    artifact: Path,
    into: Path,
    names: Sequence[str] = (),
    *,
    wildcards: bool = False,
    compress: str | None = None,
    timeout: float = EXTRACT_TIMEOUT_S,
    cancel: threading.Event | None = None,
) -> Captured:
    """Unpack `names` of `artifact` into the folder `into`; the caller reads the outcome (tar's messages differ by use).

    Raises CommandFailed when tar is missing or runs past `timeout`, Cancelled on `cancel`.
    """
    return run_captured(extract_argv(artifact, into, names, wildcards=wildcards, compress=compress), timeout=timeout, cancel=cancel)


def free_bytes(folder: Path) -> int:
    """What an unprivileged writer may still put on the filesystem holding `folder` (root gets a little more)."""
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def check_room(survey: Surveyed, into: Path, names: Sequence[str] = ()) -> int:
    """The bytes `names` (every member when empty) declare; EmiError when they do not fit in `into`'s free space."""
    wanted = survey.declared if not names else {n: survey.declared.get(n, 0) for n in names}
    need = sum(wanted.values())
    free = free_bytes(into)
    if need + ROOM_MARGIN_BYTES > free:
        raise EmiError(
            f"unpacking {printable(survey.path.name)} needs {human(need)} ({need:,} bytes, as its members declare) but {into} has {human(free)} free",
            hint="free some space there, or choose another folder (TMPDIR for a review, --work-dir for a modify)",
        )
    return need


def present(into: Path) -> set[Path]:
    """Everything under `into` now: what was there before an unpacking is not the artifact's."""
    return {Path(folder, name) for folder, subfolders, files in os.walk(into) for name in subfolders + files}


def check_unpacked(survey: Surveyed, into: Path, declared: int, before: set[Path] | None = None) -> None:
    """Refuse (UnsafeArtifact) what tar left in `into` that the survey would not have let through: a link, a device, more bytes.

    The artifact is read twice (listed, then unpacked): this catches one that
    changed in between. Paths in `before` were there already and are skipped.
    """
    written = 0
    for folder, subfolders, files in os.walk(into):
        for name in subfolders + files:
            path = Path(folder, name)
            if before and path in before:
                continue
            mode = path.lstat()
            if stat.S_ISREG(mode.st_mode):
                written += mode.st_size
            elif not stat.S_ISDIR(mode.st_mode):
                raise UnsafeArtifact(f"{printable(survey.path.name)} unpacked a link or special file ({printable(str(path.relative_to(into)))})",
                                     hint="it changed since it was surveyed: refusing to use it")
    if written > declared:
        raise UnsafeArtifact(f"{printable(survey.path.name)} unpacked {written:,} bytes where its listing declared {declared:,}",
                             hint="it changed since it was surveyed: refusing to use it")


def extract_surveyed(
    survey: Surveyed,
    into: Path,
    names: Sequence[str] = (),
    *,
    timeout: float = EXTRACT_TIMEOUT_S,
    cancel: threading.Event | None = None,
) -> None:
    """Unpack `names` (every member when empty) of a surveyed tarball into the empty folder `into`, bounded by its free space.

    Raises EmiError when the members do not fit or tar fails, UnsafeArtifact
    when what was unpacked is not what the survey listed.
    """
    declared = check_room(survey, into, names)
    before = present(into)
    done = extract(survey.path, into, names, compress=survey.compress, timeout=timeout, cancel=cancel)
    if not done.ok:
        raise EmiError(f"cannot unpack {printable(survey.path.name)}: {printable(done.first_error_line())}", hint="check that it is a complete tarball")
    check_unpacked(survey, into, declared, before)
