"""Can a job write into a folder? Looked at without making or writing anything.

The output folder may not exist yet (the build makes it), so the probe walks
up to the nearest folder that does exist and asks of it what `mkdir` and the
build would: is it a folder, is its filesystem one that takes new folders
(not the kernel's /proc or /sys), is it read-only, may this user write there,
and how much room it has. Every answer is in an operator's words: an errno
never reaches the screen.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.paths_check import nearest_existing

#: Filesystems the kernel fills in itself: they take no new folders, or none an image belongs in.
KERNEL_FILESYSTEMS = {
    "proc", "sysfs", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs", "configfs", "pstore", "bpf",
    "efivarfs", "fusectl", "binfmt_misc", "mqueue", "devpts", "autofs", "devtmpfs", "hugetlbfs", "nsfs",
}
MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True)
class FolderProbe:
    """What a folder (or the nearest existing folder above it) says about writing there.

    `problem` and `fix` are set when nothing can be written; otherwise
    `free_bytes` is the room there is for it.
    """

    folder: Path
    exists: bool
    nearest: Path  # the folder itself when it exists, else its nearest existing parent
    problem: str = ""
    fix: str = ""
    free_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problem


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISLNK(mode):
        return "a link that leads nowhere"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a folder"


def _unescape(field: str) -> str:
    r"""mountinfo writes a space as \040, a tab as \011, a newline as \012 and a backslash as \134."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mount_of(path: Path, mountinfo: Path = MOUNTINFO) -> tuple[Path, str] | None:
    """The mount point that holds `path` (an absolute, resolved path) and its filesystem type, or None when unknown."""
    try:
        text = mountinfo.read_text(errors="replace")
    except OSError:
        return None
    best: tuple[Path, str] | None = None
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, after = left.split(), right.split()
        if not sep or len(fields) < 5 or not after:
            continue
        point = Path(_unescape(fields[4]))
        if (point == path or point in path.parents) and (best is None or len(point.parts) >= len(best[0].parts)):
            best = (point, after[0])  # the later of two mounts on one point is the one on top
    return best


def absolute_folder(text: str) -> Path:
    """The folder `text` names, as the job will use it: ~ expanded, made absolute, links resolved."""
    path = Path(os.path.expanduser(text))
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop of links: keep the name as written, the probe then reports it
        return Path(os.path.abspath(path))


def probe_folder(folder: Path, mountinfo: Path = MOUNTINFO) -> FolderProbe:
    """Whether a job can make (when missing) and write into `folder`; never makes or writes anything."""
    nearest = nearest_existing(folder)
    exists = nearest == folder
    probe = FolderProbe(folder, exists, nearest)
    try:
        info = os.stat(nearest)
    except OSError:
        info = os.lstat(nearest)
    what = "" if exists else f"{folder} cannot be made: "
    if not stat.S_ISDIR(info.st_mode):
        problem = f"{folder} is {_kind(info.st_mode)}, not a folder" if exists else f"{what}{nearest} is {_kind(info.st_mode)}, not a folder"
        return _refused(probe, problem, "choose a folder, or a name that does not exist yet")
    mount = mount_of(nearest, mountinfo)
    if mount is not None and mount[1] in KERNEL_FILESYSTEMS:
        point, fstype = mount
        where = what or ("" if folder == point else f"{folder} is on the kernel's {fstype} filesystem: ")
        verb = "does not take new folders" if not exists else "holds no files of yours"
        return _refused(probe, f"{where}{point} is the kernel's {fstype} filesystem, which {verb}",
                        "choose a folder on a disk, such as ./images or /var/tmp/images")
    try:
        read_only = bool(os.statvfs(nearest).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        return _refused(probe, f"{what or f'{folder}: '}{nearest} is on a read-only filesystem", "choose a folder on a writable disk")
    if not os.access(nearest, os.W_OK | os.X_OK):
        return _refused(probe, f"{what or f'{folder}: '}this user may not write in {nearest}",
                        "choose a folder you may write in, or change the folder's owner or permissions")
    try:
        free = shutil.disk_usage(nearest).free
    except OSError as exc:
        return _refused(probe, f"{what or f'{folder}: '}cannot tell how much room {nearest} has ({exc.strerror or 'unknown reason'})",
                        "choose another folder")
    return FolderProbe(folder, exists, nearest, free_bytes=free)


def _refused(probe: FolderProbe, problem: str, fix: str) -> FolderProbe:
    return FolderProbe(probe.folder, probe.exists, probe.nearest, problem, fix)
