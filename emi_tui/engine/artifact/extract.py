"""Unpacking members of an artifact tarball: the one `tar --extract` of the review, the boot test and a modify's look.

GNU tar restores a sparse image sparse, so a 4.5G image costs what it
holds. The archive is named by an absolute path with --force-local (a name
holding ':' would otherwise be read as host:file), and the member names
follow `--`, so no name is ever taken for an option.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from emi_tui.engine.artifact.kinds import tar_read_args
from emi_tui.engine.run.runner import Captured, run_captured

#: Decompressing several GB from a slow disk takes minutes; an hour means something is wrong.
EXTRACT_TIMEOUT_S = 900.0


def extract_argv(artifact: Path, into: Path, names: Sequence[str] = (), *, wildcards: bool = False, compress: str | None = None) -> list[str]:
    """tar's argv to unpack `names` (every member when empty; shell patterns with `wildcards`) into `into`."""
    argv = ["tar", *(tar_read_args(compress) if compress else []), "--extract", "--force-local", "-f", os.path.abspath(artifact), "-C", str(into)]
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
