"""The one table of artifact kinds: which files emi-tui writes and reads, and how tar handles each.

An artifact is a tarball in the layout of the Eucalyptus starter images
(`NAME/NAME.img` plus `NAME/kvm-kernel/`), or a bare ext2/3/4 image (`*.img`).
Each tarball kind is one `output.compress` choice with its file suffixes (the
first is the one emi-tui writes, the others are spellings operators use, such
as the older .tar.gz for .tgz), the programs that compress it, the package
that installs them and the tar flags that unpack it by hand. Every question
"what is this file?" or "what is it called?" is answered here, nowhere else.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from emi_tui.engine.errors import one_of

#: An `output.compress` choice: the name of a tarball kind ("none": an uncompressed tar, or a bare image's own).
CompressName = Literal["gzip", "zstd", "xz", "none"]


@dataclass(frozen=True)
class Kind:
    """One tarball kind: an `output.compress` choice, its suffixes, and how tar writes and unpacks it."""

    name: CompressName  # the `output.compress` value
    suffixes: tuple[str, ...]  # the first is what emi-tui writes; all are recognised, in any letter case
    programs: tuple[str, ...]  # compressors, preferred first; the first one installed is used
    package: str  # what apt-get installs to get them
    unpack_flags: tuple[str, ...]  # tar's flags to unpack it by hand, the archive's name following

    @property
    def suffix(self) -> str:
        """The suffix emi-tui gives the tarballs it writes."""
        return self.suffixes[0]


KINDS: dict[str, Kind] = {
    "gzip": Kind("gzip", (".tgz", ".tar.gz"), ("pigz", "gzip"), "pigz", ("-xzf",)),
    "zstd": Kind("zstd", (".tar.zst",), ("zstd",), "zstd", ("--zstd", "-xf")),
    "xz": Kind("xz", (".tar.xz",), ("xz",), "xz-utils", ("-xJf",)),
    "none": Kind("none", (".tar",), (), "tar", ("-xf",)),
}
#: How tar runs each compressor (--use-compress-program): multi-threaded where the tool allows it,
#: because compression dominates the packaging step.
PROGRAM_COMMANDS = {"pigz": "pigz", "gzip": "gzip", "zstd": "zstd -T0 -3", "xz": "xz -T0 -6"}
#: What unpacks a kind faster than tar's own choice: pigz decompresses about 3x faster than gzip.
#: tar detects every format by itself, so this is only ever a speed-up.
FAST_READERS = {"gzip": "pigz"}

IMAGE_SUFFIX = ".img"
#: Tarball suffixes old catalogs list but emi-tui neither writes nor opens.
LISTED_ONLY_SUFFIXES = (".tar.bz2",)
TARBALL_SUFFIXES: tuple[str, ...] = tuple(s for kind in KINDS.values() for s in kind.suffixes)
#: Each tarball suffix and the `output.compress` it stands for (.tar.gz is the operators' older spelling of .tgz).
TARBALLS: dict[str, CompressName] = {suffix: kind.name for kind in KINDS.values() for suffix in kind.suffixes}
#: Everything a modify, a boot test or a review opens: the tarballs and the bare image.
ARTIFACT_SUFFIXES: tuple[str, ...] = (*TARBALL_SUFFIXES, IMAGE_SUFFIX)
#: The suffixes as an operator reads them: ".tgz, .tar.gz, .tar.zst, .tar.xz, .tar or .img".
SUFFIX_LIST = one_of(ARTIFACT_SUFFIXES)
#: The compressed tarballs a build writes, as help texts name them: ".tgz/.tar.zst/.tar.xz".
BUILT_SUFFIXES = "/".join(kind.suffix for kind in KINDS.values() if kind.programs)
#: What to say when a file is not an artifact.
KINDS_HINT = f"give a {BUILT_SUFFIXES} built by emi-tui or laid out like the starter images (NAME/NAME.img), or a bare ext2/3/4 .img"


def _name(path: str | PurePath) -> str:
    return PurePath(path).name.lower()


def tarball_kind(path: str | PurePath) -> Kind | None:
    """The kind of tarball `path` names by its suffix (any letter case), or None when it names none."""
    name = _name(path)
    # Longest first, so that no suffix can shadow a longer one that ends the same way.
    for suffix in sorted(TARBALL_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return next(kind for kind in KINDS.values() if suffix in kind.suffixes)
    return None


def is_tarball(path: str | PurePath) -> bool:
    """True when `path` has the suffix of an artifact tarball."""
    return tarball_kind(path) is not None


def is_image(path: str | PurePath) -> bool:
    """True when `path` has the suffix of a bare image (.img)."""
    return _name(path).endswith(IMAGE_SUFFIX)


def is_artifact(path: str | PurePath) -> bool:
    """True for every file emi-tui opens as an artifact: a tarball or a bare image."""
    return is_tarball(path) or is_image(path)


def artifact_suffix(path: str | PurePath) -> str | None:
    """The artifact suffix `path` ends in, as it is spelled there (e.g. ".TGZ"), or None."""
    name = PurePath(path).name
    for suffix in sorted(ARTIFACT_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[-len(suffix):]
    return None


def stem(path: str | PurePath) -> str:
    """The file name without its artifact suffix ("euca-x-1-x86_64" for "euca-x-1-x86_64.tgz")."""
    name = PurePath(path).name
    suffix = artifact_suffix(name)
    return name[: -len(suffix)] if suffix else name


def installed(program: str) -> bool:
    """True when `program` is on the PATH commands run with (the runner's, not the operator's)."""
    # Imported here so that the table stays cheap to import for help texts.
    from emi_tui.engine.run.runner import command_env

    return shutil.which(program, path=command_env()["PATH"]) is not None


def tar_read_args(compress: str) -> list[str]:
    """tar's extra options to read a tarball of kind `compress` (a faster decompressor when installed)."""
    reader = FAST_READERS.get(compress)
    return [f"--use-compress-program={reader}"] if reader and installed(reader) else []
