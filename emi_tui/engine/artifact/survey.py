"""What an artifact is, found without unpacking it: its kind, its layout and the size of its image.

A modify (and the wizard's artifact picker) starts here: a tarball is
listed (see `listing`), a bare image has its superblock read. Anything that
is not an artifact emi-tui can modify is refused as bad input (`EmiError`),
before anything else runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from emi_tui.engine.artifact.kinds import KINDS_HINT, CompressName, is_image, stem, tarball_kind
from emi_tui.engine.artifact.listing import Member, list_members
from emi_tui.engine.artifact.read import ImageReadError, superblock
from emi_tui.engine.errors import EmiError

#: A tarball's kernel files may end in .img too (initrd.img-*, initramfs-*.img): they are not the image.
RAMDISK_PREFIXES = ("initrd", "initramfs")


@dataclass
class ArtifactSurvey:
    """What an artifact is, found without unpacking it: its kind, its layout and the size of its image."""

    path: Path
    kind: Literal["tarball", "image"]
    compress: CompressName  # the output.compress name the new artifact uses ("none" for a bare image)
    image_member: str  # the image's path inside the tarball ("" for a bare .img)
    members: list[str]  # the tarball's top-level entries, in order
    image_bytes: int  # the image's apparent size

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
    images, members = _layout(path, list_members(path, kind.name, cancel=cancel))
    if len(images) != 1:
        found = f"{len(images)} images ({', '.join(n for n, _ in images)})" if images else "no image (*.img)"
        raise EmiError(f"{path.name} holds {found}", hint="an artifact carries exactly one NAME/NAME.img, as the starter images do")
    return ArtifactSurvey(path, "tarball", kind.name, images[0][0], members, images[0][1])


def _layout(path: Path, listed: list[Member]) -> tuple[list[tuple[str, int]], list[str]]:
    """The image files (name, size) and the top-level entries of a listing; EmiError for a member outside the folder."""
    images: list[tuple[str, int]] = []
    members: list[str] = []
    for member in listed:
        name = member.name.removeprefix("./").rstrip("/")
        if name.startswith("/") or ".." in name.split("/"):
            raise EmiError(f"{path.name} holds a member outside its folder ({name!r})", hint="refusing to unpack it as root")
        top = name.split("/")[0]
        if name and top not in members:
            members.append(top)
        base = name.rsplit("/", 1)[-1]
        if member.is_file and base.endswith(".img") and not base.startswith(RAMDISK_PREFIXES):
            images.append((name, member.size or 0))
    return images, members
