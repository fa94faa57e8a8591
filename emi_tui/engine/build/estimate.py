"""How big the installed image will be, from the mirror's package index, before anything is downloaded.

The Packages index of the release lists every package's Installed-Size and
dependencies. The image's package set is the closure of what debootstrap's
minbase installs (Priority: required, plus apt), the recipe's base and default
lists and the operator's additions. Summing it gives an estimate good to a
few per cent, and it also tells which requested packages do not exist.

The parsed index is kept beside the download as JSON, never as a pickle: the
cache folder can be pointed anywhere (EMI_TUI_CACHE_DIR) and root reads it,
so whatever is found there must be data that cannot run code. A parse that
is too big, malformed or of the wrong shape is a cache miss.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from emi_tui.engine.errors import EmiError, did_you_mean
from emi_tui.engine.safefs import write_atomic

_SPLIT_DEP = re.compile(r"\s*,\s*")
# What dpkg and apt leave that no Installed-Size counts: the initramfs, the dpkg database, logs.
EXTRA_BYTES = 80 * 1024**2
MARGIN = 1.10
#: The parse of a full Debian main index is tens of MiB of JSON; far more is not ours.
PARSED_MAX_BYTES = 256 * 1024**2
PARSED_FORMAT = 2  # 2: dependencies kept as written, split on demand


class PackageIndexJson(TypedDict):
    """`PackageIndex.to_json`: the parsed index as it is kept beside the download."""

    format: int
    sizes_kb: dict[str, int]
    depends: dict[str, str]
    provides: dict[str, str]
    required: list[str]


#: The only fields the estimate reads, each with its continuation lines (an index may fold a long Depends).
_FIELD = re.compile(r"^(Package|Installed-Size|Pre-Depends|Depends|Provides|Priority):[ \t]*(.*(?:\n[ \t].*)*)", re.M)


@dataclass
class PackageIndex:
    """Installed-Size, dependencies and priority of every package in one index.

    `depends` keeps each package's Pre-Depends and Depends as the index writes
    them; `groups` splits them when the closure reaches the package. Splitting
    all 60,000 packages up front took most of a second on every cold build,
    for the few hundred an image reaches.
    """

    sizes_kb: dict[str, int] = field(default_factory=dict)
    depends: dict[str, str] = field(default_factory=dict)
    provides: dict[str, str] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> PackageIndex:
        """One pass of a regular expression over the index, field by field (a Package field starts each stanza)."""
        index = cls()
        name = ""
        for match in _FIELD.finditer(text):
            key, value = match.group(1), " ".join(match.group(2).split())
            if key == "Package":
                name = value
                index.sizes_kb[name] = 0
            elif not name:
                continue
            elif key == "Installed-Size":
                index.sizes_kb[name] = int(value) if value.isdigit() else 0
            elif key in ("Pre-Depends", "Depends"):
                index.depends[name] = f"{index.depends[name]}, {value}" if name in index.depends else value
            elif key == "Provides":
                for provided in _SPLIT_DEP.split(value):
                    if provided.strip():
                        index.provides.setdefault(provided.split()[0], name)
            elif key == "Priority" and value == "required":
                index.required.append(name)
        return index

    def groups(self, name: str) -> list[list[str]]:
        """`name`'s dependencies: groups of alternatives, each a list of package names (versions and arches dropped)."""
        return [
            [alt.split()[0].split(":")[0] for alt in group.split("|") if alt.strip()]
            for group in _SPLIT_DEP.split(self.depends.get(name, "")) if group.strip()
        ]

    @classmethod
    def from_json(cls, data: object) -> PackageIndex | None:
        """The index a `to_json` document describes, or None when the document is not of that shape."""
        if not isinstance(data, dict) or data.get("format") != PARSED_FORMAT:
            return None
        sizes, depends, provides, required = (data.get(k) for k in ("sizes_kb", "depends", "provides", "required"))
        if not (isinstance(sizes, dict) and isinstance(depends, dict) and isinstance(provides, dict) and isinstance(required, list)):
            return None
        if not all(type(v) is int for v in sizes.values()) or not all(isinstance(v, str) for v in provides.values()):
            return None
        if not all(isinstance(n, str) for n in required) or not all(isinstance(v, str) for v in depends.values()):
            return None
        return cls(sizes, depends, provides, required)  # JSON object keys are always str

    def to_json(self) -> PackageIndexJson:
        return {
            "format": PARSED_FORMAT, "sizes_kb": self.sizes_kb, "depends": self.depends,
            "provides": self.provides, "required": self.required,
        }

    def resolve(self, name: str) -> str | None:
        if name in self.sizes_kb:
            return name
        return self.provides.get(name)

    def closure(self, roots: list[str]) -> set[str]:
        """Every package `roots` pull in through Depends/Pre-Depends (first alternative that exists)."""
        seen: set[str] = set()
        todo = [r for r in (self.resolve(n) for n in roots) if r]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for group in self.groups(name):
                for alternative in group:
                    real = self.resolve(alternative)
                    if real:
                        todo.append(real)
                        break
        return seen


def parsed_index(download: Path, parsed: Path, text: Callable[[], str], fresh: bool = True) -> PackageIndex:
    """The parse of `download`, from `parsed` when it is newer than the download, else parsed from `text()` and kept."""
    if fresh and download.is_file() and parsed.is_file() and parsed.stat().st_mtime >= download.stat().st_mtime:
        index = _read_parsed(parsed)
        if index is not None:
            return index
    index = PackageIndex.parse(text())
    _write_parsed(parsed, index)
    return index


def _read_parsed(path: Path) -> PackageIndex | None:
    """The index stored at `path`, or None (a cache miss) when it is too big, unreadable or malformed."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(PARSED_MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > PARSED_MAX_BYTES:
        return None
    try:
        return PackageIndex.from_json(json.loads(data))
    except (ValueError, RecursionError):
        return None


def _write_parsed(path: Path, index: PackageIndex) -> None:
    """Store `index` at `path` whole or not at all: a new file (never through a planted link), then a rename."""
    try:
        write_atomic(path, json.dumps(index.to_json(), separators=(",", ":")))
    except (OSError, EmiError):
        pass  # only a cache: the estimate goes on without it


@dataclass
class Estimate:
    """The estimated installed size of an image, and requested packages the index lacks."""

    needed_bytes: int
    packages: int
    missing: list[tuple[str, str]]  # (name, did-you-mean suffix)


def estimate(index: PackageIndex, wanted: list[str], removed: list[str]) -> Estimate:
    """Estimate the installed size of minbase + `wanted` − `removed`."""
    missing = [(name, did_you_mean(name, index.sizes_kb)) for name in wanted if index.resolve(name) is None]
    roots = [p for p in index.required + ["apt"] + wanted if p not in removed]
    packages = index.closure(roots)
    kilobytes = sum(index.sizes_kb.get(p, 0) for p in packages)
    return Estimate(int(kilobytes * 1024 * MARGIN) + EXTRA_BYTES, len(packages), missing)


def usable_bytes(size_bytes: int) -> int:
    """What an ext3 filesystem of `size_bytes` holds for files: less the journal, inode tables and slack."""
    blocks = size_bytes // 4096
    journal_blocks = 1024 if blocks < 32768 else 4096 if blocks < 262144 else 8192 if blocks < 524288 else 16384
    inode_table = (size_bytes // 16384) * 256
    return int((size_bytes - journal_blocks * 4096 - inode_table) * 0.97)
