"""Package names as each package family allows them.

A package name in an answer file ends up as one argv element of apt-get or
dnf, never in a shell string; validating it still catches typos and hostile
values ("curl; rm -rf /") before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from emi_tui.engine.run.runner import CommandFailed, run_captured
from emi_tui.engine.sizes import human

#: apt-cache answers from its local lists in well under a second; a minute means something is stuck.
APT_CACHE_SECONDS = 30.0

# Debian policy 5.6.1: lower case letters, digits, + - . ; at least two characters, starting alphanumeric.
_DEB = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
# RPM names: letters, digits and ._+- ; start with a letter, digit or underscore.
_RPM = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]*$")


def package_name_problem(name: object, family: str) -> str | None:
    """Why `name` is not a valid package name in `family` ("deb" or "rpm"; "any": valid in either), or None."""
    if not isinstance(name, str):
        return f"a package name is text, got {name!r}"
    if family == "any":  # the recipe is unknown: only a name no family allows is wrong for sure
        if _RPM.fullmatch(name) or _DEB.fullmatch(name):
            return None
        return f"{name!r} is not a valid package name (letters, digits and . _ + - only)"
    if family == "rpm":
        if _RPM.fullmatch(name):
            return None
        return f"{name!r} is not a valid RPM package name (letters, digits and . _ + - only)"
    if _DEB.fullmatch(name):
        return None
    if _DEB.fullmatch(name.lower()):
        return f"{name!r} is not a valid Debian package name: Debian names are lower case ({name.lower()!r})"
    return f"{name!r} is not a valid Debian package name (lower-case letters, digits and + - . only, at least two characters)"



@dataclass(frozen=True)
class PackageInfo:
    """What this workstation's apt says about a package name."""

    name: str
    known: bool
    installed_bytes: int | None = None

    def describe(self) -> str:
        if not self.known:
            return "unknown to this workstation's apt"
        if self.installed_bytes is None:
            return "known to apt (size not given)"
        return f"{human(self.installed_bytes)} installed"


PackageLookup = Callable[[str], PackageInfo]


def apt_package_info(name: str) -> PackageInfo:
    """Ask `apt-cache show` about `name` (slow: run it in a thread, never on the UI loop)."""
    if package_name_problem(name, "deb"):
        return PackageInfo(name, False)  # never hand apt-cache something that could read as an option
    try:
        result = run_captured(["apt-cache", "show", "--no-all-versions", "--", name], timeout=APT_CACHE_SECONDS, env={"LC_ALL": "C"})
    except CommandFailed:  # not installed, or stuck: the wizard just cannot say
        return PackageInfo(name, False)
    if not result.ok or "Package:" not in result.stdout:
        return PackageInfo(name, False)
    match = re.search(r"^Installed-Size:\s*(\d+)", result.stdout, re.MULTILINE)
    return PackageInfo(name, True, int(match.group(1)) * 1024 if match else None)
