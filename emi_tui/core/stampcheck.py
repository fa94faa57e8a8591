"""Proving that an image_stamp belongs to its image_date.

The stamp is the md5 of the epoch seconds, so a reviewer can search the
instants around the date for the one whose stamp matches. The operators
wrote the date in their local time, so every UTC offset is tried; the date
and the stamp came from two runs of `date`, so a small skew is allowed.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import datetime

from emi_tui.core.imageid import DATE_FORMAT, DATE_RE, STAMP_RE, stamp_for

#: How far apart the stamp's and the date's instants may be (the operators ran `date` twice).
SKEW_WINDOW_S = 60
#: Every UTC offset in use, in minutes: −12:00 to +14:00 in quarter hours.
UTC_OFFSETS_MIN = tuple(range(-12 * 60, 14 * 60 + 1, 15))
_NO_MATCH = f"no epoch within ±{SKEW_WINDOW_S} s of the date in any UTC offset gives this stamp"


@dataclass(frozen=True)
class StampCheck:
    """Whether image_stamp is the md5 stamp of an instant next to image_date, and where.

    skew_s is the stamp's epoch minus the date's epoch: negative means the stamp
    was taken before the date. utc_offset is the offset the date was written in.
    """

    verified: bool
    utc_offset: str | None = None
    skew_s: int | None = None
    reason: str = _NO_MATCH

    def describe(self) -> str:
        if not self.verified:
            return f"not verified: {self.reason}"
        when = "in the same second as the date" if self.skew_s == 0 else f"{abs(self.skew_s)} s {'before' if self.skew_s < 0 else 'after'} the date"
        # A real minus sign reads better than a hyphen in prose.
        return f"verified at UTC{(self.utc_offset or '').replace('-', '−')}, stamp taken {when}"

    def to_json(self) -> dict:
        return {"verified": self.verified, "utc_offset": self.utc_offset, "skew_s": self.skew_s}


@functools.cache
def _search_order() -> tuple[tuple[int, int], ...]:
    """Every (offset seconds, skew seconds) pair, most plausible first: UTC, then the smallest skew."""
    skews = sorted(range(-SKEW_WINDOW_S, SKEW_WINDOW_S + 1), key=lambda s: (abs(s), s))
    others = sorted((m for m in UTC_OFFSETS_MIN if m), key=lambda m: (abs(m), m))
    return tuple([(0, s) for s in skews] + [(m * 60, s) for s in skews for m in others])


def parse_date(date: str) -> datetime | None:
    # strptime alone accepts unpadded fields, so the shape is checked first.
    if not DATE_RE.match(date):
        return None
    try:
        return datetime.strptime(date, DATE_FORMAT)
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def check_stamp(stamp: str, date: str) -> StampCheck:
    """Find the UTC offset and skew at which `stamp` is the stamp of an instant near `date`.

    The date is read in every offset from −12:00 to +14:00; in each, the epochs
    within ±60 s are tried. Offset 0 wins over the others, then the smallest |skew|.
    Images emi-tui builds verify at +00:00 with skew 0 (the first candidate).
    """
    stamp = stamp.strip().lower()
    if not STAMP_RE.match(stamp):
        return StampCheck(False, reason=f"the stamp {stamp!r} is not xxxx-xxxx")
    naive = parse_date(date.strip())
    if naive is None:
        return StampCheck(False, reason=f"the date {date!r} is not a YYYYmmddHHMMSS date")
    as_utc = calendar.timegm(naive.timetuple())
    for offset_s, skew in _search_order():
        # A date written at UTC+o names the instant as_utc − o.
        if stamp_for(as_utc - offset_s + skew) == stamp:
            sign, minutes = ("-" if offset_s < 0 else "+"), abs(offset_s) // 60
            return StampCheck(True, f"{sign}{minutes // 60:02d}:{minutes % 60:02d}", skew)
    return StampCheck(False)
