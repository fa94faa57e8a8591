"""Package names as each package family allows them.

A package name in an answer file ends up as one argv element of apt-get or
dnf, never in a shell string; validating it still catches typos and hostile
values ("curl; rm -rf /") before anything runs.
"""

from __future__ import annotations

import re

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
