"""What an artifact is, found without unpacking it: its kind, its layout and the size of its image.

Every use of an artifact starts here: a modify, a review, the boot test and
the wizard's artifact picker. A tarball is listed (see `listing`), a bare
image has its superblock read. Artifacts are hostile until surveyed: a
tarball is accepted only when it holds regular files and folders with safe
names (no leading "-", no "..", no absolute path, nothing unprintable, no
backslash), exactly one image, and no more than `MAX_DECLARED_BYTES` in all.
Anything else is refused as bad input (`UnsafeArtifact`, an `EmiError`),
before anything is unpacked or run, with the offending name shown escaped.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from emi_tui.engine.artifact.kinds import KINDS_HINT, CompressName, is_image, stem, tarball_kind
from emi_tui.engine.artifact.listing import Member, UnsafeArtifact, list_members
from emi_tui.engine.artifact.read import ImageReadError, superblock
from emi_tui.engine.errors import EmiError
from emi_tui.engine.sizes import human
from emi_tui.engine.text import printable

#: A tarball's kernel files may end in .img too (initrd.img-*, initramfs-*.img): they are not the image.
RAMDISK_PREFIXES = ("initrd", "initramfs")
#: Images are at most tens of GB: a tarball declaring more than this in all is no artifact (a bomb of sparse or zero members).
MAX_DECLARED_BYTES = 64 * 1024**3
#: What Linux allows for a whole path and one of its components, in bytes.
MAX_NAME_BYTES, MAX_COMPONENT_BYTES = 4096, 255
#: The kinds of member an artifact holds: "-" a regular file, "d" a folder. Links, devices, fifos and the rest are refused.
SAFE_TYPES = {"-": "a regular file", "d": "a folder"}
_TYPE_WORDS = {"l": "a symbolic link", "h": "a hard link", "c": "a character device", "b": "a block device", "p": "a fifo", "s": "a socket"}
UNSAFE_HINT = "an artifact holds only regular files and folders with plain names (NAME/NAME.img, NAME/kvm-kernel/…): refusing to unpack it as root"


@dataclass
class ArtifactSurvey:
    """What an artifact is, found without unpacking it: its kind, its layout and the size of its image."""

    path: Path
    kind: Literal["tarball", "image"]
    compress: CompressName  # the output.compress name the new artifact uses ("none" for a bare image)
    image_member: str  # the image's path inside the tarball ("" for a bare .img)
    members: list[str]  # the tarball's top-level entries, in order
    image_bytes: int  # the image's apparent size
    declared: dict[str, int] = field(default_factory=dict)  # every regular file's name (as listed, "./" dropped) and declared size

    @property
    def declared_bytes(self) -> int:
        """What unpacking every member writes at most, as the listing declares it (a sparse image counts its holes)."""
        return sum(self.declared.values())

    @property
    def stem(self) -> str:
        return stem(self.path)


def survey_artifact(path: Path, cancel: threading.Event | None = None) -> ArtifactSurvey:
    """Tell what `path` is and where its image sits; EmiError (bad input) when emi-tui cannot modify it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise EmiError(f"no such artifact: {path}", hint=KINDS_HINT)
    if not path.is_file():
        raise EmiError(f"{path} is not a regular file", hint=KINDS_HINT)
    if is_image(path):
        try:
            fields = superblock(path)
        except ImageReadError as exc:
            raise EmiError(str(exc)) from None
        if fields is None:
            raise EmiError(f"{path.name} is not an ext2/3/4 filesystem image", hint=KINDS_HINT)
        return ArtifactSurvey(path, "image", "none", "", [], path.stat().st_size)
    kind = tarball_kind(path)
    if kind is None:
        raise EmiError(f"{path.name} is neither an image (.img) nor an artifact tarball", hint=KINDS_HINT)
    images, members, declared = _layout(path, list_members(path, kind.name, cancel=cancel))
    shown = printable(path.name)
    if len(images) > 1:
        listed = ", ".join(printable(n) for n, _ in images[:3]) + (", …" if len(images) > 3 else "")
        raise UnsafeArtifact(f"{shown} holds {len(images)} images ({listed})", hint="an artifact carries exactly one NAME/NAME.img, as the starter images do")
    if not images:
        raise EmiError(f"{shown} holds no image (*.img)", hint="an artifact carries exactly one NAME/NAME.img, as the starter images do")
    total = sum(declared.values())
    if total > MAX_DECLARED_BYTES:
        raise UnsafeArtifact(f"{shown} declares {human(total)} ({total:,} bytes) of files, more than the {human(MAX_DECLARED_BYTES)} an artifact may hold",
                             hint="images are at most tens of GB: this is no artifact emi-tui unpacks")
    return ArtifactSurvey(path, "tarball", kind.name, images[0][0], members, images[0][1], declared)


def member_problem(member: Member) -> str | None:
    """Why `member` is unsafe to unpack as root (a phrase naming it, escaped), or None when it is a plain file or folder."""
    name, shown = member.name, printable(member.name)
    if member.type not in SAFE_TYPES:
        what = _TYPE_WORDS.get(member.type, f"an entry of type {member.type!r}")
        return f"{what} {shown}" + (f" -> {printable(member.link)}" if member.link is not None else "")
    if not name.isprintable() or "\\" in name:
        return f"a name with an unprintable character or a backslash ({shown})"
    if name.startswith("/"):
        return f"an absolute name ({shown})"
    encoded = os.fsencode(name)
    if len(encoded) > MAX_NAME_BYTES:
        return f"a name longer than {MAX_NAME_BYTES} bytes ({shown[:60]}…)"
    parts = name.removeprefix("./").removesuffix("/").split("/")
    for part in parts if parts != [""] else []:
        if part in ("", ".", ".."):
            return f"a name outside its folder or with an empty part ({shown})"
        if part.startswith("-"):
            return f"a name starting with '-' that a command would take as an option ({shown})"
        if len(os.fsencode(part)) > MAX_COMPONENT_BYTES:
            return f"a name with a part longer than {MAX_COMPONENT_BYTES} bytes ({shown[:60]}…)"
    return None


def check_members(path: Path, listed: list[Member]) -> None:
    """Refuse (UnsafeArtifact) the first member that is not a plain file or folder with a safe name."""
    for member in listed:
        problem = member_problem(member)
        if problem is not None:
            raise UnsafeArtifact(f"{printable(path.name)} holds {problem}", hint=UNSAFE_HINT)


def _layout(path: Path, listed: list[Member]) -> tuple[list[tuple[str, int]], list[str], dict[str, int]]:
    """The image files (name, size), the top-level entries and every file's declared size; UnsafeArtifact for an unsafe member."""
    check_members(path, listed)
    images: list[tuple[str, int]] = []
    members: list[str] = []
    declared: dict[str, int] = {}
    for member in listed:
        name = member.name.removeprefix("./").rstrip("/")
        top = name.split("/")[0]
        if name and top not in members:
            members.append(top)
        base = name.rsplit("/", 1)[-1]
        if member.is_file:
            # A name listed twice is unpacked twice: both count.
            declared[name] = declared.get(name, 0) + (member.size or 0)
            if base.endswith(".img") and not base.startswith(RAMDISK_PREFIXES):
                images.append((name, member.size or 0))
    return images, members, declared
