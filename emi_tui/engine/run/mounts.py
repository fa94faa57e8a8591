"""Mounts made for a build, each one undone on every exit path.

A `MountStack` records every mount it makes (in memory and in the build's
state file, so `emi-tui cleanup` can undo the mounts of a build that was
killed) and unmounts them in reverse order when closed. Closing checks
/proc/self/mountinfo: nothing under the build's folders may remain.

mount and umount run through the runner with a timeout but never with the
cancel event: undoing a mount is exactly what a cancelled build must still do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.runner import CommandFailed, run_captured
from emi_tui.engine.safefs import write_atomic

#: A mount or unmount is near instant; one that hangs (a stuck loop device) is given up on, not waited for forever.
MOUNT_SECONDS = 120.0


def _unescape(path: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal.
    return path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mount_points() -> list[str]:
    """Every mount point of this process's namespace, in mount order."""
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as info:
        for line in info:
            fields = line.split()
            if len(fields) > 4:
                points.append(_unescape(fields[4]))
    return points


def mounts_under(folder: Path) -> list[str]:
    """Mount points at or below `folder`, deepest last."""
    prefix = str(folder.resolve()) if folder.exists() else str(folder)
    return [p for p in mount_points() if p == prefix or p.startswith(prefix.rstrip("/") + "/")]


class MountStack:
    """Mounts made for one build; `close()` undoes them, newest first."""

    def __init__(self, record: Callable[[list[str]], None] | None = None, log: Callable[[str], None] = lambda _: None):
        self.mounted: list[str] = []
        self._record = record or (lambda _: None)
        self._log = log

    def mount(self, argv_tail: list[str], target: Path) -> None:
        """`mount OPTIONS -- SOURCE TARGET` (`argv_tail` is the options, then the source), remembered for unmounting."""
        target.mkdir(parents=True, exist_ok=True)
        *options, source = argv_tail
        done = run_captured(["mount", *options, "--", source, str(target)], timeout=MOUNT_SECONDS)
        if not done.ok:
            raise EmiError(f"cannot mount {target}: {done.stderr.strip() or done.stdout.strip()}", hint="emi-tui must run as root")
        self.mounted.append(str(target.resolve()))
        self._record(list(self.mounted))
        self._log(f"mounted {' '.join(argv_tail)} at {target}")

    def close(self) -> list[str]:
        """Unmount everything, newest first; returns what could not be unmounted."""
        stuck: list[str] = []
        while self.mounted:
            target = self.mounted.pop()
            if not unmount(target):
                stuck.append(target)
            self._record(list(self.mounted) + stuck)
            self._log(f"unmounted {target}")
        return stuck


def unmount(target: str) -> bool:
    """Unmount `target` (lazily if it is busy); True when it is no longer mounted."""
    if target not in mount_points():
        return True
    if not _umount(["umount", "--", target]):
        _umount(["umount", "--lazy", "--", target])
    return target not in mount_points()


def _umount(argv: list[str]) -> bool:
    """Whether umount succeeded; one that cannot start or hangs counts as a failure, so the caller goes on."""
    try:
        return run_captured(argv, timeout=MOUNT_SECONDS).ok
    except CommandFailed:
        return False


def unmount_all_under(folder: Path) -> list[str]:
    """Unmount every mount at or under `folder`, deepest first; returns what remains."""
    for point in sorted(mounts_under(folder), key=len, reverse=True):
        unmount(point)
    return mounts_under(folder)


def write_json_atomic(path: Path, data: Mapping[str, object]) -> None:
    """Small state files are replaced whole, so a reader never sees half of one."""
    write_atomic(path, json.dumps(data, indent=2))
