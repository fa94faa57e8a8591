"""Image sizes as operators write them ("1.3G", "4.5G", "1500M") and as tools want them."""

from __future__ import annotations

import re

_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT])(?:i?B)?\s*$", re.IGNORECASE)

STANDARD = "1.3G"
MAX_TEXT = "2T"
MAX_BYTES = 2 * 1024**4
LARGE = "4.5G"


class SizeError(ValueError):
    """A size an operator wrote that cannot be an image size."""


def parse_size(text: object) -> int:
    """Bytes in a size such as "1.3G", "1500M" or "2GiB"; units are binary (G = 1024 M)."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise SizeError("a size is a number with a unit, such as 1.3G, 4.5G or 1500M")
    if isinstance(text, float) and text != text or text in (float("inf"), float("-inf")):
        raise SizeError(f"{text} is not a size: write 1.3G, 4.5G, or a number with K, M, G or T such as 1500M")
    if isinstance(text, (int, float)):
        raise SizeError(f"{text} has no unit: write {text}M or {text}G")
    match = _SIZE.match(text)
    if not match:
        if re.match(r"^\s*-", text):
            raise SizeError(f"{text!r} is negative: a size is 1.3G, 4.5G or, say, 2G")
        raise SizeError(f"{text!r} is not a size: write 1.3G, 4.5G, or a number with K, M, G or T such as 1500M")
    value = float(match.group(1)) * _UNITS[match.group(2).upper()]
    if value <= 0:
        raise SizeError(f"{text!r} is zero: a size is 1.3G, 4.5G or, say, 2G")
    if value > MAX_BYTES:
        raise SizeError(f"{text!r} is larger than {MAX_TEXT}: a starter image is small, and ephemeral disks and EBS hold the rest")
    return int(value)


def is_large(size_bytes: int) -> bool:
    """Images of 4.5G and more carry "large" in their default names, like the starter images."""
    return size_bytes >= parse_size(LARGE)


def human(size_bytes: int | float) -> str:
    """1395864371 -> '1.3 GB' (binary units, one decimal, as operators say it)."""
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
