"""Finding and removing what dead builds left behind.

Every build records its PID (with the process's start time, so a reused PID
is not mistaken for it), its work folder, its mounts and its running command
in a state file. A build killed with SIGKILL, or lost in a power cut, leaves
that file behind; `emi-tui cleanup` reads it and undoes what remains:
processes, mounts, loop devices, the work folder, partial artifacts and locks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emi_tui.engine import paths
from emi_tui.engine.run.mounts import mounts_under, unmount
from emi_tui.engine.run.runner import CommandFailed, run_captured
from emi_tui.engine.safefs import private_folder

#: losetup answers from the kernel at once; cleanup goes on without it rather than hang.
LOSETUP_SECONDS = 30.0


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (clock ticks since boot), or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def is_alive(pid: int, started: str | None) -> bool:
    now = process_start_time(pid)
    return now is not None and (started is None or now == started)


@dataclass
class DeadBuild:
    """A build whose process is gone, and what it left."""

    state_file: Path
    pid: int
    work: Path
    output: Path | None
    mounts: list[str] = field(default_factory=list)
    loops: list[str] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    partials: list[Path] = field(default_factory=list)

    def actions(self) -> list[str]:
        """What cleanup will do, one line each, in order."""
        lines = [f"stop process {pid}" for pid in self.children]
        lines += [f"unmount {point}" for point in sorted(self.mounts, key=len, reverse=True)]
        lines += [f"detach loop device {loop}" for loop in self.loops]
        if self.work.exists():
            lines.append(f"remove the work folder {self.work}")
        lines += [f"remove the partial file {p}" for p in self.partials]
        lines.append(f"forget the build record {self.state_file.name}")
        return lines


def loops_under(folder: Path) -> list[str]:
    try:
        done = run_captured(["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"], timeout=LOSETUP_SECONDS)
    except CommandFailed:
        return []
    if not done.ok or not done.stdout.strip():
        return []
    prefix = str(folder).rstrip("/") + "/"
    devices = json.loads(done.stdout).get("loopdevices", [])
    return [d["name"] for d in devices if (d.get("back-file") or "").startswith(prefix)]


def find_dead_builds(state_dir: Path | None = None) -> list[DeadBuild]:
    """Builds whose state file remains but whose process is gone."""
    folder = (state_dir or paths.state_dir()) / "builds"
    if folder.is_dir():  # a state file names what cleanup unmounts and removes as root: only ever our own
        private_folder(folder, create=False)
    found = []
    for state_file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            state = json.loads(state_file.read_text())
            pid, work = int(state["pid"]), Path(state["work"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if is_alive(pid, state.get("started")):
            continue
        output = Path(state["output"]) if state.get("output") else None
        recorded = [m for m in state.get("mounts", []) if isinstance(m, str)]
        mounts = sorted(set(recorded) | set(mounts_under(work)), key=len, reverse=True)
        mounts = [m for m in mounts if m in mounts_under(Path("/")) or m in mounts_under(work)]
        children = [c for c in state.get("children", []) if isinstance(c, int) and process_start_time(c) is not None]
        partials = sorted(output.glob(f".*.partial-{pid}")) + sorted(output.glob(".*.lock")) if output and output.is_dir() else []
        partials = [p for p in partials if not p.name.endswith(".lock") or _lock_owner(p) == pid]
        found.append(DeadBuild(state_file, pid, work, output, mounts, loops_under(work), children, partials))
    return found


def _lock_owner(lock: Path) -> int | None:
    try:  # in the output folder: another user's link to a FIFO or a huge file is neither followed nor read whole
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            return int(os.read(fd, 32).decode().strip())
        finally:
            os.close(fd)
    except (OSError, ValueError):
        return None


def clean(dead: DeadBuild, say: Callable[[str], None] = print) -> list[str]:
    """Undo everything `dead` left; returns what could not be undone."""
    failures: list[str] = []
    for pid in dead.children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        say(f"stopped process {pid}")
    time.sleep(0.2 if dead.children else 0)
    for point in sorted(set(dead.mounts) | set(mounts_under(dead.work)), key=len, reverse=True):
        if unmount(point):
            say(f"unmounted {point}")
        else:
            failures.append(f"still mounted: {point}")
    for loop in set(dead.loops) | set(loops_under(dead.work)):
        try:  # losetup takes the device as --detach's argument: "--" would be read as a device name
            run_captured(["losetup", "--detach", loop], timeout=LOSETUP_SECONDS)
        except CommandFailed:
            pass
        say(f"detached {loop}")
    if failures:
        return failures  # never delete a folder that still has something mounted in it
    if dead.work.exists():
        shutil.rmtree(dead.work, ignore_errors=True)
        say(f"removed {dead.work}")
    for partial in dead.partials:
        partial.unlink(missing_ok=True)
        say(f"removed {partial}")
    dead.state_file.unlink(missing_ok=True)
    return failures
