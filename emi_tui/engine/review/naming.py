"""The starter images' naming scheme, as a review checks it.

An image is named euca[-large]-<distro>-emi, its file
euca[-large]-<distro>-<version>-<arch>.img, its recipe <distro>-based, and a
version that names a day names the day of its image_date. These checks only
warn (or, where two fields contradict each other, err): they say what to rename.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

from emi_tui.engine.artifact.kinds import ARTIFACT_SUFFIXES, LISTED_ONLY_SUFFIXES
from emi_tui.engine.errors import Severity, did_you_mean
from emi_tui.engine.review.stampcheck import parse_date


class Add(Protocol):
    """Adds one finding on a field; `about` names the line it is about when that is not the field's (`tarball NAME`)."""

    def __call__(self, name: str, severity: Severity, message: str, about: str = "") -> None: ...


KNOWN_ARCHES = ("x86_64", "i386", "i686", "aarch64", "armhf", "armv7l", "ppc64le", "s390x", "amd64", "arm64")
# Old catalogs also list .tar.bz2 tarballs, which emi-tui neither writes nor opens.
TARBALL_EXTENSIONS = "|".join(re.escape(suffix[1:]) for suffix in (*ARTIFACT_SUFFIXES, *LISTED_ONLY_SUFFIXES))
_WORD = r"[a-z0-9][a-z0-9.]*"
_NAME = re.compile(rf"^euca-(large-)?({_WORD}(?:-{_WORD})*?)-emi$")
_FILE = re.compile(rf"^(?P<stem>.+)-(?P<version>[^-]+)-(?P<arch>[^-]+)\.(?P<ext>{TARBALL_EXTENSIONS})$")
_STEM = re.compile(rf"^euca-(large-)?({_WORD}(?:-{_WORD})*)$")
_RECIPE = re.compile(rf"^({_WORD})(?:-{_WORD})*-based$")
_DAY_VERSION = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})$")


def check_names(f: Mapping[str, str], add: Add) -> None:
    """Warn where the name, file, arch and recipe break the starter images' naming scheme, or disagree."""
    name, file, version, arch, recipe = (f.get(k, "") for k in ("image_name", "image_file", "image_version", "image_arch", "recipe_name"))
    named = _NAME.match(name)
    if name and not named:
        add("image_name", "warning", f"image_name {name!r} breaks the naming scheme euca-<distro>-emi (euca-large-<distro>-emi for a large image): rename it, e.g. euca-debian-emi")
    if arch and arch not in KNOWN_ARCHES:
        add("image_arch", "warning", f"image_arch {arch!r} is not a known architecture{did_you_mean(arch, KNOWN_ARCHES)}: use one of {', '.join(KNOWN_ARCHES)}")
    if file:
        parts, stem = _FILE.match(file), None
        if parts and parts["ext"] == "img":
            stem = _STEM.match(parts["stem"])
        if not stem:
            like = f"euca{'-large' if named and named[1] else ''}-{named[2] if named else 'debian'}-{version or '2011.08.15'}-{arch or 'x86_64'}.img"
            add("image_file", "warning", f"image_file {file!r} breaks the naming scheme euca[-large]-<distro>-<version>-<arch>.img: rename it, e.g. {like}")
        if parts and version and parts["version"] != version:
            add("image_file", "error", f"image_file {file!r} says version {parts['version']} but image_version is {version!r}: make the two agree")
        if parts and arch and parts["arch"] != arch:
            add("image_file", "error", f"image_file {file!r} says arch {parts['arch']} but image_arch is {arch!r}: make the two agree")
        if stem and named and (stem[1], stem[2]) != (named[1], named[2]):
            add("image_file", "warning", f"image_file {file!r} is for euca-{stem[1] or ''}{stem[2]} but image_name is {name!r}: name both euca-<distro> or both euca-large-<distro>")
    recipe_parts = _RECIPE.match(recipe) if recipe else None
    if recipe and not recipe_parts:
        add("recipe_name", "warning", f"recipe_name {recipe!r} breaks the naming scheme <distro>-based: rename it, e.g. debian-based")
    elif recipe_parts and named and recipe_parts[1] != named[2].split("-")[0]:
        add("recipe_name", "warning", f"recipe_name {recipe!r} is not the recipe of {name!r}: one of the two is wrong")


def check_versions(f: Mapping[str, str], tarballs: list[str], date: str | None, add: Add) -> None:
    """Versions that name a day must name the date's day; tarball names must match the fields."""
    day = date[:8] if date and parse_date(date) else None
    claims = [("image_version", f"image_version {f['image_version']!r}", f["image_version"])] if f.get("image_version") else []
    for tarball in tarballs:
        parts = _FILE.match(tarball)
        if not parts:
            continue
        claims.append(("tarball", f"tarball {tarball}", parts["version"]))
        for key, value in (("image_version", parts["version"]), ("image_arch", parts["arch"])):
            if f.get(key) and f[key] != value:
                add("tarball", "warning", f"tarball {tarball} says {value} but {key} is {f[key]!r}: list the right tarball or fix {key}", f"tarball {tarball}")
    for key, label, version in claims:
        m = _DAY_VERSION.match(version)
        if day and m and "".join(m.groups()) != day:
            about = label if key == "tarball" else ""
            add(key, "warning", f"{label} names {version} but image_date {date} is {day[:4]}.{day[4:6]}.{day[6:]}: set the version to the build day or fix the date", about)
