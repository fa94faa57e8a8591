"""What a root tree holds, in a form two trees can be compared by: the package list and a listing of every file.

Used by the bootstrap benchmark (is mmdebstrap's base the same as
debootstrap's?) and by the end-to-end test that builds the same answers with
both bootstrappers. Only trees we built ourselves are read here, so links are
listed, never followed. Owners are listed by name, read from the tree's own
/etc/passwd and /etc/group: package scripts make system groups in the order
packages are configured, so the same group can get another number.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from fnmatch import fnmatch
from pathlib import Path

#: Every difference a change of bootstrapper makes to a finished image, with its reason.
#: A path that differs and matches none of these fails the comparison.
IMAGE_DIFFERENCES: dict[str, str] = {
    "/etc/image-id": "stamped with the time of each build",
    "/etc/group": "system groups that package scripts make: the same names, made in another order, so with other numbers",
    "/etc/gshadow": "as /etc/group",
    "/etc/shadow": "system accounts that package scripts make: the same ones, made in another order",
    "/etc/group-": "the backup of /etc/group that the last groupadd left",
    "/etc/gshadow-": "the backup of /etc/gshadow that the last groupadd left",
    "/etc/shadow-": "the backup of /etc/shadow that the last useradd left",
    "/run/*": "/run is a tmpfs at boot, so nothing under it reaches an instance; debootstrap leaves what its package scripts made there",
    "/boot/initrd.img-*": "the ramdisk, made by another run: its members are the same (ramdisk_listing), their timestamps and order differ",
    "/var/cache/ldconfig/aux-cache": "ldconfig's cache of the libraries it saw, in the order it saw them",
    "/var/lib/dpkg/status": "dpkg's record of each package: debootstrap copies the archive's Priority, dpkg the .deb's own (versions and states are the same: see dpkg-query -W)",
    "/var/lib/dpkg/status-old": "dpkg's backup of its status file, as /var/lib/dpkg/status",
    "/var/lib/dpkg/available": "dpkg's list of available packages: debootstrap fills it in, mmdebstrap leaves none; apt never reads it",
    "/var/lib/dpkg/arch": "the architectures dpkg is told about: mmdebstrap writes the native one that dpkg assumes anyway",
    "/var/lib/dpkg/cmethopt": "dselect's access method, which debootstrap sets and nothing in an image uses",
    "/var/log/bootstrap.log": "debootstrap's log (emptied by hygiene)",
}
#: Further differences between two bootstrapped bases, before the build's chroot and hygiene steps.
BASE_DIFFERENCES: dict[str, str] = {
    "/etc/ssh/ssh_host_*": "host keys, made new by every openssh-server install (hygiene removes them)",
    "/etc/machine-id": "made by systemd's install, or left empty by mmdebstrap (hygiene empties it)",
    "/etc/apt/apt.conf.d/99mmdebstrap": "mmdebstrap's options, removed by the bootstrap step",
    "/etc/dpkg/dpkg.cfg.d/99mmdebstrap": "mmdebstrap's options, removed by the bootstrap step",
    "/var/lib/apt/extended_states": "apt's marks of dependencies, removed by the bootstrap step after mmdebstrap",
    "/var/cache/apt/*": "the packages debootstrap downloaded (removed by apt-get clean in hygiene)",
    "/var/cache/debconf/*": "debconf's database: the same answers, in the order packages were configured",
    "/var/lib/dpkg/triggers/*": "dpkg's trigger bookkeeping, which depends on the order packages were unpacked in",
    "/var/lib/apt/lists/*": "package lists (removed by hygiene)",
    "/var/log/*": "logs (emptied by hygiene)",
    "/etc/hostname": "the workstation's, copied in by the bootstrapper (the build writes its own)",
    "/etc/resolv.conf": "the workstation's, copied in by the bootstrapper (hygiene empties it)",
}


def packages(root: Path) -> str:
    """`dpkg-query -W` of the tree, read from its own database (nothing runs inside it)."""
    return subprocess.run(
        ["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f", "${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n"],
        check=True, capture_output=True, text=True,
    ).stdout


def _names(path: Path) -> dict[int, str]:
    """number -> name from a passwd or group file of the tree."""
    names = {}
    for line in path.read_text(errors="replace").splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[2].isdigit():
            names[int(fields[2])] = fields[0]
    return names


def listing(root: Path) -> dict[str, str]:
    """path -> type, mode, owner and content (hash, link target or device) of everything in the tree."""
    users, groups = _names(root / "etc/passwd"), _names(root / "etc/group")
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(folder) / name
            info = path.lstat()
            inner = "/" + str(path.relative_to(root))
            kind = stat.S_IFMT(info.st_mode)
            head = f"{stat.filemode(info.st_mode)} {users.get(info.st_uid, info.st_uid)}:{groups.get(info.st_gid, info.st_gid)}"
            if kind == stat.S_IFREG:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
                found[inner] = f"{head} {info.st_size} {digest}"
            elif kind == stat.S_IFLNK:
                found[inner] = f"{head} -> {os.readlink(path)}"
            elif kind in (stat.S_IFCHR, stat.S_IFBLK):
                found[inner] = f"{head} dev {os.major(info.st_rdev)},{os.minor(info.st_rdev)}"
            else:
                found[inner] = head
    return found


def reason_for(path: str, allowed: dict[str, str]) -> str | None:
    """The reason a difference at `path` is expected, or None."""
    for pattern, reason in allowed.items():
        if fnmatch(path, pattern):
            return reason
    return None


def compare(left: Path, right: Path, allowed: dict[str, str] = IMAGE_DIFFERENCES) -> tuple[bool, list[str], list[str]]:
    """(same packages, differences with their reason, differences no reason covers) between two trees."""
    same_packages = packages(left) == packages(right)
    one, two = listing(left), listing(right)
    explained, unexplained = [], []
    for path in sorted(one.keys() | two.keys()):
        if one.get(path) == two.get(path):
            continue
        what = f"{path}: {one.get(path, 'absent')} | {two.get(path, 'absent')}"
        reason = reason_for(path, allowed)
        (explained if reason else unexplained).append(f"{what} ({reason})" if reason else what)
    return same_packages, explained, unexplained


def ramdisk_listing(path: Path) -> dict[str, str]:
    """name -> mode, size and content hash of every member of a zstd-compressed newc ramdisk (mtimes left out).

    Two builds of the same kernel and modules make ramdisks whose bytes differ
    (timestamps, order); their members must not.
    """
    data = subprocess.run(["zstd", "-dc", "--", str(path)], check=True, capture_output=True).stdout
    members: dict[str, str] = {}
    offset = 0
    while offset + 110 <= len(data) and data[offset:offset + 6] in (b"070701", b"070702"):
        field = [int(data[offset + 6 + 8 * i: offset + 14 + 8 * i], 16) for i in range(13)]
        mode, size, name_size = field[1], field[6], field[11]
        name_start = offset + 110
        name = data[name_start:name_start + name_size - 1].decode(errors="replace")
        body = (name_start + name_size + 3) & ~3
        content = data[body:body + size]
        offset = (body + size + 3) & ~3
        if name == "TRAILER!!!":
            break
        members[name] = f"{mode:o} {size} {hashlib.sha256(content).hexdigest()[:16]}"
    return members
