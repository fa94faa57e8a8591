"""The files a released catalog writes next to its artifacts: EMI-IDs, SHA256SUMS and the release note.

Pure functions of the released images: the text of each file. `EMI-IDs` is in
the seed's format (the public Eucalyptus-Scripts catalog): a heading line
ending in ':' per image, then its seven key="value" lines indented by a tab,
so `emi-tui review` reads it back. `write_catalog_files` writes them, each
under a temporary name renamed into place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emi_tui.engine.artifact.manifest import PackageDiff, diff_manifests
from emi_tui.engine.image.imageid import FIELDS
from emi_tui.engine.safefs import write_atomic
from emi_tui.engine.sizes import human

EMI_IDS = "EMI-IDs"
SHA256SUMS = "SHA256SUMS"
RELEASE_NOTE = "RELEASE-NOTES.md"
#: The files of a catalog, as `catalog build` and `catalog collect` write them.
CATALOG_FILES = (EMI_IDS, SHA256SUMS, RELEASE_NOTE)

PREAMBLE = """\
The image-ids of the images of this release. Every image carries the same
lines in its /etc/image-id; the history of this file is the changelog of the
images.
"""

#: linux-image-6.1.0-28-amd64, not the meta package linux-image-686 or linux-image-cloud-amd64 (no dotted version).
_KERNEL_PACKAGE = re.compile(r"^linux-image-(\d+\.\d+[\w.+~-]*)$")


@dataclass(frozen=True)
class ReleasedImage:
    """One built image of a catalog: its heading, image-id, artifact and what is in it."""

    heading: str
    image_id: Mapping[str, str]
    artifact: str  # the tarball's file name, in the catalog's folder
    sha256: str
    size_bytes: int
    manifest: Mapping[str, str] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return self.image_id.get("image_file", "").removesuffix(".img")


def parse_image_id(text: str) -> dict[str, str]:
    """The fields of an /etc/image-id text (key="value" lines); other lines are ignored."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, equals, value = line.strip().partition("=")
        if equals and key in FIELDS:
            fields[key] = value.strip().strip('"')
    return fields


def emi_ids_text(images: Sequence[ReleasedImage]) -> str:
    """EMI-IDs in the seed's format: a preamble, then per image its heading and seven tab-indented lines."""
    blocks = [PREAMBLE]
    for image in images:
        lines = "".join(f'\t{name}="{image.image_id.get(name, "")}"\n' for name in FIELDS)
        blocks.append(f"{image.heading}:\n{lines}")
    return "\n".join(blocks)


def sha256sums_text(images: Sequence[ReleasedImage]) -> str:
    """SHA256SUMS as `sha256sum -c` reads it: one `digest  name` line per artifact, by name."""
    return "".join(f"{image.sha256}  {image.artifact}\n" for image in sorted(images, key=lambda i: i.artifact))


def kernel_of(manifest: Mapping[str, str]) -> str:
    """The kernel release an image boots, from its manifest: linux-image-<release> (deb) or kernel's version (rpm); "" if none."""
    found = sorted(m.group(1) for name in manifest if (m := _KERNEL_PACKAGE.match(name)))
    if found:
        return found[-1]
    return manifest.get("kernel", manifest.get("kernel-core", ""))


def _md(text: str) -> str:
    """`text` safe inside a Markdown table cell or heading: no pipe, no markup characters, one line."""
    return re.sub(r"([\\`*\[\]<>|])", r"\\\1", " ".join(str(text).split()))


def _diff_lines(diff: PackageDiff) -> list[str]:
    lines = [f"- {len(diff.added)} added, {len(diff.removed)} removed, {len(diff.upgraded)} upgraded"]
    lines += [f"  - added {_md(name)} {_md(version)}" for name, version in sorted(diff.added.items())]
    lines += [f"  - removed {_md(name)} {_md(version)}" for name, version in sorted(diff.removed.items())]
    lines += [f"  - upgraded {_md(name)} {_md(old)} → {_md(new)}" for name, (old, new) in sorted(diff.upgraded.items())]
    return lines


def release_note(title: str, images: Sequence[ReleasedImage], since: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The release note in Markdown: a table of the images (size, packages, kernel), then each image's changes.

    `since` maps a heading to the previous release's manifest of that image;
    an image it does not list is said to be new.
    """
    lines = [f"# {_md(title)}", "", "| image | artifact | size | packages | kernel | stamp |", "|---|---|---|---|---|---|"]
    for image in images:
        lines.append(
            f"| {_md(image.heading)} | {_md(image.artifact)} | {human(image.size_bytes)} | {len(image.manifest)} | "
            f"{_md(kernel_of(image.manifest) or '-')} | {_md(image.image_id.get('image_stamp', ''))} |"
        )
    if since is not None:
        lines += ["", "## Changes since the previous release"]
        for image in images:
            lines += ["", f"### {_md(image.heading)}", ""]
            before = since.get(image.heading)
            lines += _diff_lines(diff_manifests(before, image.manifest)) if before is not None else ["- new in this release"]
    return "\n".join(lines) + "\n"


def write_catalog_files(folder: Path, title: str, images: Sequence[ReleasedImage], since: Mapping[str, Mapping[str, str]] | None = None) -> list[Path]:
    """Write EMI-IDs, SHA256SUMS and the release note into `folder`, each renamed into place; returns their paths."""
    texts = {EMI_IDS: emi_ids_text(images), SHA256SUMS: sha256sums_text(images), RELEASE_NOTE: release_note(title, images, since)}
    written = []
    for name, text in texts.items():
        write_atomic(folder / name, text)
        written.append(folder / name)
    return written
