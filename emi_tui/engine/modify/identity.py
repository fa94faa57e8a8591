"""What an image says it is: its /etc/image-id, stored answers and os-release, read without mounting it.

A modify reads them with debugfs (and dumpe2fs for the filesystem); what the
modified image will be called is settled from them by
emi_tui.engine.modify.naming.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.artifact.extract import extract_surveyed
from emi_tui.engine.artifact.read import ImageReadError, UnsafeImageFile, read_from_image, superblock
from emi_tui.engine.artifact.survey import ArtifactSurvey
from emi_tui.engine.errors import EmiError
from emi_tui.engine.image import layout
from emi_tui.engine.review.review import review_bytes


class ArtifactError(EmiError):
    """The artifact cannot be modified as it is: bad input, found once it is open."""


@dataclass
class Identity:
    """What an image says about itself (image-id, stored answers, os-release) and its filesystem."""

    fields: dict[str, str]
    image_id: str
    answers: str | None
    os_release: dict[str, str]
    fs_type: str
    fs_bytes: int


def _os_release(img: Path, inner: str) -> bytes | None:
    # /etc/os-release is often a link to ../usr/lib/os-release: links are not followed, the other name is tried.
    try:
        return read_from_image(img, inner)
    except UnsafeImageFile:
        return None


def read_identity(img: Path, cancel: threading.Event | None = None) -> Identity:
    """Read an image's identity without mounting it (debugfs); ArtifactError when it is no ext2/3/4 image."""
    try:
        info = superblock(img)
    except ImageReadError as exc:
        raise ArtifactError(str(exc)) from None
    if info is None:
        raise ArtifactError(f"{img.name} is not an ext2/3/4 filesystem image", hint="emi-tui modifies ext2/3/4 images")
    features = info.get("Filesystem features", "")
    fs_type = "ext4" if "extent" in features else "ext3" if "has_journal" in features else "ext2"
    try:
        image_id = (read_from_image(img, layout.IMAGE_ID) or b"").decode("utf-8", "replace")
        answers = read_from_image(img, layout.ANSWERS)
        os_text = next((t for t in (_os_release(img, p) for p in ("usr/lib/os-release", "etc/os-release")) if t and b"=" in t), b"")
    except ImageReadError as exc:
        raise ArtifactError(str(exc)) from None
    fields = review_bytes("image-id", image_id.encode())[0].fields if image_id.strip() else {}
    os_release = {k.strip(): v.strip().strip("\"'") for k, v in (line.split("=", 1) for line in os_text.decode("utf-8", "replace").splitlines() if "=" in line)}
    size = int(info["Block count"]) * int(info.get("Block size", "4096"))
    return Identity(fields, image_id, answers.decode("utf-8", "replace") if answers else None, os_release, fs_type, size)


def look(survey: ArtifactSurvey, cancel: threading.Event | None = None) -> Identity:
    """A dry run's read-only look at the original: the image member alone, in a temporary folder."""
    if survey.kind == "image":
        return read_identity(survey.path, cancel)
    with tempfile.TemporaryDirectory(prefix="emi-modify-look-") as tmp:
        # The surveyed image member alone, after `--`, bounded by the free space of the private temporary folder.
        extract_surveyed(survey, Path(tmp), [survey.image_member], cancel=cancel)
        return read_identity(Path(tmp) / survey.image_member, cancel)
