"""The manifest written beside an artifact: every package installed in the image and its version.

One line a package, `name<TAB>version`, sorted by name, so that two
manifests compare with `diff` and read with `cut`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MANIFEST_SUFFIX = ".manifest"


def render_manifest(packages: dict[str, str]) -> str:
    """The manifest's text for `packages` (name -> version)."""
    return "".join(f"{name}\t{version}\n" for name, version in sorted(packages.items()))


def parse_manifest(text: str) -> dict[str, str]:
    """name -> version from a manifest's text; lines that are not `name<TAB>version` are skipped."""
    packages: dict[str, str] = {}
    for line in text.splitlines():
        name, tab, version = line.partition("\t")
        if tab and name:
            packages[name] = version
    return packages


def read_manifest(path: Path) -> dict[str, str]:
    """name -> version from the manifest at `path`."""
    return parse_manifest(path.read_text(encoding="utf-8", errors="replace"))


@dataclass(frozen=True)
class PackageDiff:
    """What changed between two manifests: packages added and removed (name -> version), upgraded (name -> (old, new))."""

    added: dict[str, str]
    removed: dict[str, str]
    upgraded: dict[str, tuple[str, str]]


def diff_manifests(before: Mapping[str, str], after: Mapping[str, str]) -> PackageDiff:
    """The packages of `after` that `before` lacks, those it dropped, and those whose version changed."""
    return PackageDiff(
        added={n: v for n, v in after.items() if n not in before},
        removed={n: v for n, v in before.items() if n not in after},
        upgraded={n: (before[n], v) for n, v in after.items() if n in before and before[n] != v},
    )
