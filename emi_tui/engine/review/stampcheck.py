"""Proving that an image_stamp belongs to its image_date.

The stamp is the md5 of the epoch seconds, so a reviewer can search the
instants around the date for the one whose stamp matches. The operators
wrote the date in their local time, so every UTC offset is tried; the date
and the stamp came from two runs of `date`, so a small skew is allowed.

A stamp that verifies is found early (UTC first, then the nearest offsets),
but one that does not costs the whole search: 12,705 md5s. A review shares
one `search_budget` among its entries, so that a catalog of thousands of
such stamps is still reviewed in about a second: once the budget is spent,
the rest are searched at UTC only, and their check says so.
"""

from __future__ import annotations

import calendar
import contextlib
import functools
import hashlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from emi_tui.engine.image.imageid import DATE_FORMAT, DATE_RE, STAMP_RE

try:
    # CPython's own md5 costs half of OpenSSL's per call on an 11-byte input, and this search is all such calls.
    from _md5 import md5 as _md5  # type: ignore[import-not-found]  # CPython's private module: typeshed has no stub
except ImportError:  # another Python: the same digests, a little slower
    _md5 = hashlib.md5

#: How far apart the stamp's and the date's instants may be (the operators ran `date` twice).
SKEW_WINDOW_S = 60
#: Every UTC offset in use, in minutes: −12:00 to +14:00 in quarter hours.
UTC_OFFSETS_MIN = tuple(range(-12 * 60, 14 * 60 + 1, 15))
_NO_MATCH = f"no epoch within ±{SKEW_WINDOW_S} s of the date in any UTC offset gives this stamp"
_NOT_SEARCHED = (
    f"no epoch within ±{SKEW_WINDOW_S} s of the date at UTC gives this stamp; the other UTC offsets were not searched, "
    "because this review already spent its stamp-search time on other unverifiable stamps (review --full-stamp-search searches them all)"
)
#: md5s a review may spend on full searches: ~0.7 s here, the cost of ~80 stamps that verify nowhere.
REVIEW_SEARCH_BUDGET = 1_000_000


class StampCheckJson(TypedDict):
    """`StampCheck.to_json`: what `review --json` prints for a stamp."""

    verified: bool
    utc_offset: str | None
    skew_s: int | None


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
    #: False when only UTC was searched (the review's search budget was spent).
    complete: bool = True

    def describe(self) -> str:
        if not self.verified or self.skew_s is None:  # a verified check always knows its skew
            return f"not verified: {self.reason}"
        when = "in the same second as the date" if self.skew_s == 0 else f"{abs(self.skew_s)} s {'before' if self.skew_s < 0 else 'after'} the date"
        # A real minus sign reads better than a hyphen in prose.
        return f"verified at UTC{(self.utc_offset or '').replace('-', '−')}, stamp taken {when}"

    def to_json(self) -> StampCheckJson:
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


class SearchBudget:
    """How many more md5s full stamp searches may cost (shared by the entries of one review)."""

    def __init__(self, md5s: int | None) -> None:
        self.remaining = md5s  # None: no limit

    def allows_full_search(self) -> bool:
        return self.remaining is None or self.remaining >= len(_search_order())

    def spend(self, md5s: int) -> None:
        if self.remaining is not None:
            self.remaining = max(0, self.remaining - md5s)


_BUDGET: ContextVar[SearchBudget | None] = ContextVar("emi_stamp_search_budget", default=None)


@contextlib.contextmanager
def search_budget(md5s: int | None = REVIEW_SEARCH_BUDGET) -> Iterator[SearchBudget]:
    """Share one budget among the stamp checks inside the block (an enclosing budget wins); None is unlimited."""
    current = _BUDGET.get()
    if current is not None:
        yield current
        return
    budget = SearchBudget(md5s)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def check_stamp(stamp: str, date: str) -> StampCheck:
    """Find the UTC offset and skew at which `stamp` is the stamp of an instant near `date`.

    The date is read in every offset from −12:00 to +14:00; in each, the epochs
    within ±60 s are tried. Offset 0 wins over the others, then the smallest |skew|.
    Images emi-tui builds verify at +00:00 with skew 0 (the first candidate).
    Inside `search_budget`, a search that the budget cannot pay for tries UTC only.
    """
    budget = _BUDGET.get()
    full = budget is None or budget.allows_full_search()
    check, tried = _check_stamp(stamp, date, full)
    if budget is not None:
        budget.spend(tried)
    return check


@functools.lru_cache(maxsize=1024)
def _check_stamp(stamp: str, date: str, full: bool) -> tuple[StampCheck, int]:
    """The check and how many md5s it cost."""
    stamp = stamp.strip().lower()
    if not STAMP_RE.match(stamp):
        return StampCheck(False, reason=f"the stamp {stamp!r} is not xxxx-xxxx"), 0
    naive = parse_date(date.strip())
    if naive is None:
        return StampCheck(False, reason=f"the date {date!r} is not a YYYYmmddHHMMSS date"), 0
    as_utc = calendar.timegm(naive.timetuple())
    target = bytes.fromhex(stamp[:4] + stamp[5:9])  # the stamp is the first 4 bytes of the digest
    order = _search_order() if full else _search_order()[: 2 * SKEW_WINDOW_S + 1]
    for tried, (offset_s, skew) in enumerate(order, start=1):
        # A date written at UTC+o names the instant as_utc − o.
        if _md5(b"%d\n" % (as_utc - offset_s + skew)).digest()[:4] == target:
            sign, minutes = ("-" if offset_s < 0 else "+"), abs(offset_s) // 60
            return StampCheck(True, f"{sign}{minutes // 60:02d}:{minutes % 60:02d}", skew), tried
    return (StampCheck(False) if full else StampCheck(False, reason=_NOT_SEARCHED, complete=False)), len(order)
