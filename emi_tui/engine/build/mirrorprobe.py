"""Asking a mirror or a repository whether it answers, and what release it serves: every answer in words.

The readiness checks (readiness.py) ask before a build; each request waits
`NETWORK_TIMEOUT_S` at most, and a failure says what happened ("refuses the
connection", "answers HTTP 404 Not Found"), never an errno.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

from emi_tui.engine.build.aptlists import INRELEASE_MAX_BYTES

#: Each request to a mirror or repository waits this long for an answer, at most.
NETWORK_TIMEOUT_S = 5.0


def fetch_problem(url: str, limit: int = 1, timeout: float = NETWORK_TIMEOUT_S) -> str | None:
    """Why `url` cannot be read (in words: "refuses the connection", "answers HTTP 404 Not Found"), or None."""
    return _fetch(url, limit, timeout)[1]


def _fetch(url: str, limit: int, timeout: float = NETWORK_TIMEOUT_S) -> tuple[bytes | None, str | None]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read(limit + 1), None
    except urllib.error.HTTPError as exc:
        return None, f"answers HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        return None, _reason(exc.reason, timeout)
    except (TimeoutError, OSError, ValueError) as exc:
        return None, _reason(exc, timeout)


def _reason(reason: object, timeout: float) -> str:
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"does not answer within {timeout:.0f} s"
    if isinstance(reason, ConnectionRefusedError):
        return "refuses the connection (nothing listens there)"
    text = getattr(reason, "strerror", None) or str(reason)
    if "Name or service not known" in text or "not known" in text or "resolution" in text:
        return "names a host this workstation cannot find"
    return f"cannot be read ({text.lower() if text else 'no reason given'})"


def release_fields(mirror: str, release: str) -> tuple[dict[str, str] | None, str]:
    """The fields of the mirror's InRelease (or Release) of `release`, or None and why not."""
    why = ""
    for name in ("InRelease", "Release"):
        data, why_not = _fetch(f"{mirror}/dists/{release}/{name}", INRELEASE_MAX_BYTES)
        if data is not None:
            if len(data) > INRELEASE_MAX_BYTES:
                return None, f"its {name} is larger than a release file can be"
            return _fields(data.decode("utf-8", errors="replace")), ""
        why = why or f"dists/{release}/{name} {why_not}"
        if why_not and not why_not.startswith("answers HTTP"):
            break  # it does not answer at all: the second file would not either
    return None, why


def _fields(text: str) -> dict[str, str]:
    """The top-level `Key: value` fields of a release file (its signature's armour lines left out)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if line[:1].isspace() or ":" not in line or line.startswith("-----"):
            continue
        key, value = line.split(":", 1)
        fields.setdefault(key.strip(), value.strip())
    return fields


def repository_urls(line: str, family: str) -> list[str]:
    """Where to ask whether a repository answers (its release files, the first that reads wins); none for file:// sources."""
    words = line.split()
    if family == "rpm":
        url = words[1] if len(words) == 2 else ""
        return [url.rstrip("/") + "/repodata/repomd.xml"] if url.startswith("http") else []
    if words[1:2] and words[1].startswith("["):
        words = [words[0], *line.split("]", 1)[1].split()]
    if len(words) < 3 or not words[1].startswith("http"):
        return []
    base = words[1].rstrip("/") + "/"
    suite = words[2]
    folder = urllib.parse.urljoin(base, suite) if suite.endswith("/") else f"{base}dists/{suite}/"
    return [f"{folder}InRelease", f"{folder}Release"]
