"""The Debian mirror this workstation already uses, read from its own apt sources.

emi-tui never carries a mirror address of its own: the debian-based recipe's
default is whatever archive /etc/apt/sources.list or a deb822
/etc/apt/sources.list.d/*.sources file points at, and an answer file can name
another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AptSource:
    """One `deb` line or deb822 stanza: where it came from, its URI and its suites."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    origin: str


def _one_line_sources(path: Path) -> list[AptSource]:
    found = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        words = re.sub(r"\[[^\]]*\]", " ", line).split()
        if not words or words[0] != "deb":
            continue
        if len(words) >= 3:
            found.append(AptSource(words[1], (words[2],), tuple(words[3:]), str(path)))
    return found


def _deb822_sources(path: Path) -> list[AptSource]:
    found = []
    for stanza in re.split(r"\n\s*\n", path.read_text(errors="replace")):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            found.append(AptSource(uri, tuple(fields.get("suites", "").split()), tuple(fields.get("components", "").split()), str(path)))
    return found


def apt_sources(root: Path = Path("/")) -> list[AptSource]:
    """Every enabled `deb` source of the system under `root`, in apt's reading order."""
    etc = root / "etc" / "apt"
    found: list[AptSource] = []
    main_list = etc / "sources.list"
    files = [main_list] if main_list.is_file() else []
    parts = etc / "sources.list.d"
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    for path in files:
        try:  # one unreadable file must not hide the others
            found += _deb822_sources(path) if path.suffix == ".sources" else _one_line_sources(path)
        except OSError:
            continue
    return found


def workstation_mirror(releases: list[str], root: Path = Path("/")) -> str | None:
    """The archive URI that serves one of `releases` (a main suite, not -security), or None."""
    for source in apt_sources(root):
        if any(suite in releases for suite in source.suites):
            return source.uri.rstrip("/")
    return None
