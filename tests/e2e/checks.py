"""Checks the end-to-end tests share: digests, image-id fields, files read from an image, nothing left behind."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from emi_tui.engine.artifact.read import read_from_image
from emi_tui.engine.run.cleanup import loops_under
from emi_tui.engine.run.mounts import mounts_under


def sha256(path: Path) -> str:
    """The file's sha256, computed here (not by the code under test)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def utc_days_since(start: datetime) -> list[str]:
    """Every UTC day, as an image_version, from `start` to now: a run that crosses midnight may stamp either."""
    days, day, last = [], start.astimezone(UTC).date(), datetime.now(UTC).date()
    while day <= last:
        days.append(day.strftime("%Y.%m.%d"))
        day += timedelta(days=1)
    return days


def fields_of(text: str) -> dict[str, str]:
    """The key="value" lines of an /etc/image-id, unquoted."""
    return {k: v.strip('"') for k, v in (line.split("=", 1) for line in text.splitlines() if "=" in line)}


def text_in(image: Path, inner: str) -> str:
    """A text file inside an .img (dpkg's status file too, well over review's bound); the test fails when it is missing."""
    data = read_from_image(image, inner, limit=64 << 20)
    assert data is not None, f"/{inner} is missing from {Path(image).name}"
    return data.decode()


def assert_nothing_left(work: Path, *folders: Path) -> None:
    """No mount, loop device, work folder or chrooted process of a build or modify remains."""
    assert mounts_under(work) == [], "a mount of the modify remains"
    for folder in (work, *folders):
        assert loops_under(folder) == [], f"a loop device backed by a file under {folder} remains"
    assert not work.exists() or list(work.iterdir()) == [], "the work folder was not removed"
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                assert not os.readlink(proc / "root").startswith(str(work)), "a process still runs inside the image"
            except OSError:
                continue
