"""Packaging an image folder into a tarball with the chosen compressor.

tar --sparse keeps the holes of the image out of the archive; pigz (when
present) writes the same .tgz format as gzip on all cores. The kinds of
tarball, their suffixes and their compressors are the table in `kinds`.
"""

from __future__ import annotations

from emi_tui.engine.artifact.kinds import KINDS, PROGRAM_COMMANDS, Kind, installed

#: One `output.compress` choice (the table's own entry, under the name the build uses).
Compressor = Kind
COMPRESSORS = KINDS


def compressor(name: str) -> Compressor:
    return KINDS[name]


def program_for(name: str, prefer: str | None = None) -> str | None:
    """The compressor program tar should run (e.g. 'pigz'), or None for an uncompressed tar."""
    candidates = (prefer,) if prefer else KINDS[name].programs
    for program in candidates:
        if program and installed(program):
            return program
    return None


def tar_argv(source_dir: str, member: str, output: str, program: str | None) -> list[str]:
    """tar, sparse-aware, of `member` inside `source_dir`, compressed by `program`, into `output`.

    More members may be appended: they follow the `--` that ends tar's options.
    """
    argv = ["tar", "--sparse", "--numeric-owner", "--force-local", "-C", source_dir, "-cf", output]
    if program:
        argv[1:1] = [f"--use-compress-program={PROGRAM_COMMANDS[program]}"]
    return argv + ["--", member]
