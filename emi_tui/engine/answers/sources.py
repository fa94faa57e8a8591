"""Extra package sources as an answer file writes them, checked word by word.

A repository line ends up in a file inside the image (sources.list.d or
yum.repos.d), read by apt or dnf: a line that smuggles in a second line, a
shell command or a URL that is not one is refused before the build starts.
"""

from __future__ import annotations

import re

_URL = re.compile(r"^(https?|file)://[A-Za-z0-9._~:/\[\]%@+-]+$")
_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/+-]*$")
_OPTION = re.compile(r"^[a-z][a-z-]*(\+|-)?=[A-Za-z0-9._/:,=+-]+$")


def source_line_problem(line: str, family: str) -> str | None:
    """Why `line` is not a valid source line for `family` ("deb" or "rpm"), or None."""
    if any(ord(c) < 32 or ord(c) == 127 for c in line):
        return f"{line!r} must be one line with no control characters"
    if family == "rpm":
        words = line.split()
        if len(words) != 2 or words[0] != "baseurl":
            return f"{line!r} is not a yum source: write \"baseurl URL\" (this recipe installs RPM packages)"
        return None if _URL.fullmatch(words[1]) else f"{words[1]!r} is not a URL: write http://…, https://… or file:///…"
    match = re.match(r"^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)((?:\s+\S+)*)\s*$", line)
    if not match:
        hint = " (this recipe installs Debian packages)" if line.startswith("baseurl") else ""
        return f"{line!r} is not an apt source line: write \"deb URL SUITE COMPONENT…\"{hint}"
    options, url, suite, components = match.group(2), match.group(3), match.group(4), match.group(5).split()
    if options is not None and not all(_OPTION.fullmatch(o) for o in options.split()):
        return f"the options [{options}] are not key=value words such as [arch=amd64 signed-by=/etc/apt/keyrings/x.gpg]"
    if not _URL.fullmatch(url):
        return f"{url!r} is not a URL: write http://…, https://… or file:///…"
    if suite.endswith("/"):
        # A flat repository (sources.list(5)): the suite is a path such as "/" or "./", and no components follow.
        if components:
            return f"a flat repository ({suite!r}) takes no components: remove {' '.join(components)!r}"
        return None if re.fullmatch(r"[A-Za-z0-9._/+-]*/", suite) else f"{suite!r} is not a repository path"
    for word in [suite, *components]:
        if not _WORD.fullmatch(word):
            return f"{word!r} is not a suite or component name (letters, digits and . _ / + - only)"
    return None


#: apt options (sources.list(5)) that switch off or weaken the signature checks of a source.
UNSIGNED_OPTIONS = ("trusted", "allow-insecure", "allow-weak", "allow-downgrade-to-insecure")
#: The values apt reads as "no" (StringToBool); any other value may mean "yes".
_APT_NO = ("no", "false", "without", "off", "disable", "0")


def unsigned_options(line: str) -> list[str]:
    """The options of the apt line `line` that let apt skip or weaken its signature checks, such as "trusted=yes"."""
    match = re.match(r"^\s*deb(?:-src)?\s+\[([^\]]*)\]", line)
    if not match:
        return []
    found = []
    for option in match.group(1).split():
        name, _, value = option.partition("=")
        if name.rstrip("+-").lower() in UNSIGNED_OPTIONS and value.lower() not in _APT_NO:
            found.append(option)
    return found
