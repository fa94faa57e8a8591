"""Packaging an image folder into a tarball with the chosen compressor.

tar --sparse keeps the holes of the image out of the archive; pigz (when
present) writes the same .tgz format as gzip on all cores.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Compressor:
    """One `output.compress` choice: its file suffix and how tar calls it."""

    name: str
    suffix: str
    programs: tuple[str, ...]  # preferred first; the first one installed is used
    package: str  # what apt-get installs to get it


COMPRESSORS = {
    "gzip": Compressor("gzip", ".tgz", ("pigz", "gzip"), "pigz"),
    "zstd": Compressor("zstd", ".tar.zst", ("zstd",), "zstd"),
    "xz": Compressor("xz", ".tar.xz", ("xz",), "xz-utils"),
    "none": Compressor("none", ".tar", (), "tar"),
}

# Multi-threaded where the tool allows it: compression dominates the packaging step.
_PROGRAM_ARGS = {"pigz": "pigz", "gzip": "gzip", "zstd": "zstd -T0 -3", "xz": "xz -T0 -6"}


def compressor(name: str) -> Compressor:
    return COMPRESSORS[name]


def program_for(name: str, prefer: str | None = None) -> str | None:
    """The compressor program tar should run (e.g. 'pigz'), or None for an uncompressed tar."""
    choice = COMPRESSORS[name]
    candidates = (prefer,) if prefer else choice.programs
    for program in candidates:
        if program and shutil.which(program):
            return program
    return None


def tar_argv(source_dir: str, member: str, output: str, program: str | None) -> list[str]:
    """tar, sparse-aware, of `member` inside `source_dir`, compressed by `program`, into `output`."""
    argv = ["tar", "--sparse", "--numeric-owner", "-C", source_dir, "-cf", output]
    if program:
        argv[1:1] = [f"--use-compress-program={_PROGRAM_ARGS[program]}"]
    return argv + [member]
