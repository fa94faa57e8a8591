"""The /etc/image-id format of the Eucalyptus starter images.

Seven `key="value"` lines in a fixed order. The stamp is what the operators'
shell pipeline made of the epoch seconds:
    date +%s | md5sum | sed '1,$ s/\\(....\\)\\(....\\).*/\\1-\\2/'
i.e. the md5 of the seconds *followed by a newline*, as 4 hex digits, a dash,
the next 4. emi-tui takes the stamp and the date from one instant in UTC, so
that a reviewer can prove the stamp belongs to the date.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

FIELDS = ("image_name", "image_version", "image_arch", "image_file", "image_stamp", "image_date", "recipe_name")
DATE_FORMAT = "%Y%m%d%H%M%S"
STAMP_RE = re.compile(r"^[0-9a-f]{4}-[0-9a-f]{4}$")
DATE_RE = re.compile(r"^\d{14}$")


def stamp_for(epoch_seconds: int) -> str:
    """The image_stamp of an instant: md5("<seconds>\\n") as xxxx-xxxx."""
    digest = hashlib.md5(f"{int(epoch_seconds)}\n".encode()).hexdigest()
    return f"{digest[:4]}-{digest[4:8]}"


def date_for(epoch_seconds: int) -> str:
    """The image_date of an instant, in UTC: YYYYmmddHHMMSS."""
    return datetime.fromtimestamp(int(epoch_seconds), tz=UTC).strftime(DATE_FORMAT)


@dataclass(frozen=True)
class ImageId:
    """The seven fields of /etc/image-id."""

    image_name: str
    image_version: str
    image_arch: str
    image_file: str
    image_stamp: str
    image_date: str
    recipe_name: str

    @classmethod
    def stamped(cls, *, name: str, version: str, arch: str, file: str, recipe: str, epoch_seconds: int) -> ImageId:
        """An image-id whose stamp and date both come from `epoch_seconds`."""
        return cls(name, version, arch, file, stamp_for(epoch_seconds), date_for(epoch_seconds), recipe)

    def render(self) -> str:
        """The file's text: one key="value" line per field, in the canonical order."""
        return "".join(f'{name}="{getattr(self, name)}"\n' for name in FIELDS)

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def utc_day(epoch_seconds: int) -> date:
    """The UTC day of an instant: the day a default image_version names, as image_date is in UTC too."""
    return datetime.fromtimestamp(int(epoch_seconds), tz=UTC).date()


def utc_today() -> date:
    """Today in UTC (see utc_day)."""
    return utc_day(now_epoch())


def now_epoch() -> int:
    """The current instant in whole seconds (one call, so stamp and date agree)."""
    return int(datetime.now(tz=UTC).timestamp())
