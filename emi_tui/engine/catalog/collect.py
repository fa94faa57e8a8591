"""Gathering a catalog's built artifacts: from its own folder, from folders built elsewhere (CI), and a previous release's manifests.

`collect` is `emi-tui catalog collect`: every image of the catalog is looked
for in the given folders (by its artifact's name), its checksum verified, its
/etc/image-id read from inside the artifact and checked against its entry,
then copied into the catalog's folder with its companions; the catalog's
files are written last.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emi_tui.engine.artifact.checksum import read_sha256_file, sha256_file, sidecar_path
from emi_tui.engine.artifact.manifest import MANIFEST_SUFFIX, read_manifest
from emi_tui.engine.artifact.read import ImageReadError
from emi_tui.engine.artifact.tarball_read import read_from_artifact
from emi_tui.engine.catalog.plan import CatalogPlan, PlannedImage
from emi_tui.engine.catalog.resolve import CatalogImage
from emi_tui.engine.catalog.write import EMI_IDS, ReleasedImage, parse_image_id
from emi_tui.engine.errors import EmiError
from emi_tui.engine.review.review import review_bytes
from emi_tui.engine.safefs import copy_new, read_small, unguessable

#: The files of a build brought into the catalog's folder (the build log is left where it was built).
RELEASED_FILES = ("tarball", "sha256", "manifest", "answers")
MAX_EMI_IDS_BYTES = 1024 * 1024


def expected_image_id(image: CatalogImage) -> dict[str, str]:
    """The image-id fields an image of this entry must carry (all but its stamp and date)."""
    a = image.answers
    return {"image_name": a.image.resolved_name, "image_version": a.image.resolved_version, "image_arch": a.arch,
            "image_file": a.image.resolved_file, "recipe_name": a.recipe}


def mismatches(image: CatalogImage, fields: dict[str, str]) -> list[str]:
    """How an artifact's image-id differs from its entry: one phrase per field, empty when it matches."""
    return [f"{key} is {fields.get(key, '')!r}, the entry says {want!r}" for key, want in expected_image_id(image).items() if fields.get(key) != want]


def released(folder: Path, planned: PlannedImage, image_id: str) -> ReleasedImage:
    """The released image of `planned` in `folder`: its checksum (from the sidecar, else computed), size and manifest."""
    artifact = folder / planned.artifact
    digest = read_sha256_file(artifact) or sha256_file(artifact)
    manifest_path = planned.files(folder)["manifest"]
    manifest = read_manifest(manifest_path) if manifest_path.is_file() else {}
    return ReleasedImage(planned.heading, parse_image_id(image_id), planned.artifact, digest, artifact.stat().st_size, manifest)


def previous_manifests(folder: Path) -> dict[str, dict[str, str]]:
    """Heading -> manifest of each image of the previous release in `folder` (its EMI-IDs names the images)."""
    data = read_small(folder / EMI_IDS, MAX_EMI_IDS_BYTES)
    if data is None:
        raise EmiError(f"{folder} holds no readable {EMI_IDS}", hint="--since takes the folder of a previous catalog build (with its EMI-IDs and manifests)")
    found: dict[str, dict[str, str]] = {}
    for entry in review_bytes(str(folder / EMI_IDS), data):
        stem = entry.fields.get("image_file", "").removesuffix(".img")
        manifest = folder / f"{stem}{MANIFEST_SUFFIX}"
        if entry.entry and stem and "/" not in stem and manifest.is_file():
            found[entry.entry] = read_manifest(manifest)
    return found


@dataclass
class Collected:
    """What `collect` found: each image's released form, and the problems (nothing is written when there are any)."""

    images: list[ReleasedImage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _find(name: str, folders: Sequence[Path]) -> list[Path]:
    return [f / name for f in folders if (f / name).is_file()]


def _link_or_copy(source: Path, dest: Path) -> None:
    """`source` into the catalog's folder: a hard link when it can be, else a copy, under a temporary name renamed into place."""
    if source.resolve() == dest.resolve():
        return
    tmp = unguessable(dest, ".partial")  # never a name another user could have planted a link at
    try:
        try:
            os.link(source, tmp)
        except OSError:
            copy_new(source, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def check_artifacts(plan: CatalogPlan, folders: Sequence[Path], read_image_id: Callable[[Path], bytes | None] | None = None) -> tuple[list[tuple[PlannedImage, Path, str]], list[str]]:
    """Find each planned artifact in `folders`, verify its checksum and its image-id against its entry.

    Returns (image, artifact path, image-id text) for each image found good, and the problems.
    """
    read_image_id = read_image_id or _image_id_of
    good: list[tuple[PlannedImage, Path, str]] = []
    problems: list[str] = []
    for planned in plan.images:
        found = _find(planned.artifact, folders)
        if not found:
            problems.append(f"{planned.heading}: no {planned.artifact} in {', '.join(str(f) for f in folders)}")
            continue
        if len(found) > 1:
            problems.append(f"{planned.heading}: {planned.artifact} is in more than one folder ({', '.join(str(p.parent) for p in found)}): keep one")
            continue
        artifact = found[0]
        recorded = read_sha256_file(artifact)
        if recorded is None:
            problems.append(f"{planned.heading}: {artifact} has no {sidecar_path(artifact).name} beside it: copy it with its artifact")
            continue
        if sha256_file(artifact) != recorded:
            problems.append(f"{planned.heading}: {artifact} does not match its {sidecar_path(artifact).name}: copy it again")
            continue
        try:
            raw = read_image_id(artifact)
        except (ImageReadError, EmiError) as exc:
            problems.append(f"{planned.heading}: cannot read the image-id inside {artifact}: {exc}")
            continue
        text = (raw or b"").decode("utf-8", "replace")
        wrong = mismatches(planned.image, parse_image_id(text))
        if wrong:
            problems.append(f"{planned.heading}: {artifact} is not this entry's image: {'; '.join(wrong)}")
            continue
        good.append((planned, artifact, text))
    stamps: dict[str, str] = {}
    for planned, _artifact, text in good:
        stamp = parse_image_id(text).get("image_stamp", "")
        if stamp in stamps:  # two jobs that started in the same second: the stamp no longer names one image
            problems.append(f"{planned.heading}: its image_stamp {stamp} is also {stamps[stamp]}'s: build one of them again")
        stamps.setdefault(stamp, planned.heading)
    return good, problems


def _image_id_of(artifact: Path) -> bytes | None:
    facts = read_from_artifact(artifact)
    return facts[0].image_id if facts else None


def collect(plan: CatalogPlan, folders: Sequence[Path], into: Path, read_image_id: Callable[[Path], bytes | None] | None = None) -> Collected:
    """Check every artifact of `plan` in `folders`, then bring them into `into`; nothing is copied unless all are good."""
    good, problems = check_artifacts(plan, folders, read_image_id)
    result = Collected(problems=problems)
    if problems:
        return result
    into.mkdir(parents=True, exist_ok=True)
    for planned, artifact, text in good:
        built = planned.files(artifact.parent)
        for kind in RELEASED_FILES:
            if built[kind].is_file():
                _link_or_copy(built[kind], into / built[kind].name)
        result.images.append(released(into, planned, text))
    return result
