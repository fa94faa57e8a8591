"""Reading files out of an image's root tree (a mounted image, or a build's own tree) as a chroot would see them.

An image is hostile: any name in it may be a link to the host's /etc/shadow, a
FIFO, a device, or a sparse file that claims gigabytes. Every read here walks
the path one component at a time from a descriptor of the root, never letting
the kernel follow a link (O_NOFOLLOW, dir_fd). A link is resolved inside the
root as the image itself would see it after a chroot: an absolute target starts
again at the root and `..` stops at the root, so no host file is ever reached.
The walk also stays on the root's own filesystem, so the host's /proc, /sys and
/dev bound into a modify's chroot are never read through. Only a regular file is
opened (a FIFO or a device never is) and no more than the caller's bound is read.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
from pathlib import Path

from emi_tui.engine.errors import EmiError

#: As many links as Linux follows in one lookup before it says ELOOP.
MAX_LINKS = 40
#: A kernel or a ramdisk is tens of MiB; one bigger than this is no kernel, and copying it would only fill the disk.
KERNEL_FILE_LIMIT = 512 << 20
_CHUNK = 1 << 20


class InRootError(EmiError):
    """A file in an image cannot be read safely: it is a link loop, not a regular file, on another filesystem, or too big."""


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def _open_regular(root: Path, inner: str) -> tuple[int, os.stat_result]:
    """A read-only descriptor of the regular file `inner` resolved inside `root`, and its stat.

    Raises FileNotFoundError when a component is absent, InRootError when the
    file cannot be read safely.
    """
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    root_dev = os.fstat(root_fd).st_dev
    folders = [root_fd]  # the descriptors from the root down to the folder being looked in
    pending = list(reversed(_components(inner)))
    links = 0
    try:
        while pending:
            name = pending.pop()
            if name == "..":
                if len(folders) > 1:  # `..` of the root is the root, as in a chroot
                    os.close(folders.pop())
                continue
            here = folders[-1]
            info = os.stat(name, dir_fd=here, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                links += 1
                if links > MAX_LINKS:
                    raise InRootError(f"/{inner} in the image goes through more than {MAX_LINKS} links: a loop")
                target = os.readlink(name, dir_fd=here)
                if target.startswith("/"):
                    while len(folders) > 1:
                        os.close(folders.pop())
                pending.extend(reversed(_components(target)))
                continue
            if info.st_dev != root_dev:
                raise InRootError(f"/{inner} in the image leads onto another filesystem (a mount such as /proc): not read")
            if pending:
                if not stat.S_ISDIR(info.st_mode):
                    raise FileNotFoundError(f"/{inner}: {name} is not a folder")
                folders.append(os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=here))
                continue
            if not stat.S_ISREG(info.st_mode):  # never open a FIFO (it blocks) or a device (opening one can act)
                raise InRootError(f"/{inner} in the image is not a regular file: not read")
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC, dir_fd=here)
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
                os.close(fd)
                raise InRootError(f"/{inner} in the image changed while it was opened: not read")
            return fd, opened
        raise InRootError(f"/{inner} names the image's root folder, not a file")
    finally:
        for fd in folders:
            os.close(fd)


def read_in_root(root: Path, inner: str, limit: int) -> bytes | None:
    """The bytes of the regular file `inner` inside `root`, or None when it is absent.

    Raises InRootError when it is not a regular file, leads off the root's
    filesystem, or holds more than `limit` bytes (at most `limit` + 1 are read).
    """
    try:
        fd, info = _open_regular(root, inner)
    except (FileNotFoundError, NotADirectoryError):
        return None
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > limit:
            raise InRootError(f"/{inner} in the image claims {info.st_size:,} bytes, over the {limit:,} emi-tui reads: not read")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InRootError(f"/{inner} in the image holds over {limit:,} bytes: not read")
    return data


def copy_from_root(root: Path, inner: str, dest: Path, limit: int = KERNEL_FILE_LIMIT) -> int:
    """Copy the regular file `inner` inside `root` to `dest` (created anew, never through a link); the bytes copied.

    The copy streams in chunks and stops past `limit` bytes, removing what it
    wrote, so a file that claims or holds more costs neither memory nor disk.
    Keeps the file's times, as shutil.copy2 did. Raises FileNotFoundError when
    it is absent and InRootError when it cannot be read safely.
    """
    fd, info = _open_regular(root, inner)
    with os.fdopen(fd, "rb") as source:
        if info.st_size > limit:
            raise InRootError(f"/{inner} in the image claims {info.st_size:,} bytes, over the {limit:,} a kernel or ramdisk may have: not copied")
        if os.path.lexists(dest):
            os.unlink(dest)
        out_fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        copied = 0
        try:
            with os.fdopen(out_fd, "wb") as out:
                while block := source.read(_CHUNK):
                    copied += len(block)
                    if copied > limit:
                        raise InRootError(f"/{inner} in the image grew past {limit:,} bytes while it was copied: not copied")
                    out.write(block)
        except BaseException:
            os.unlink(dest)
            raise
    os.utime(dest, ns=(info.st_atime_ns, info.st_mtime_ns))
    return copied


def regular_matches(root: Path, pattern: str) -> list[str]:
    """The regular files inside `root` matching `pattern` ("boot/vmlinuz-*": a folder, then a glob of names), as inner paths.

    The folder is resolved inside the root; in it, an entry that is a link is
    not followed and not listed (a kernel is copied only as the regular file it
    is; a link's target, when it is in that folder, is listed under its own
    name). Nothing matches when the folder is absent or unsafe.
    """
    folder, names = posixpath.split(pattern.strip("/"))
    try:
        fd = _open_folder(root, folder)
    except (FileNotFoundError, NotADirectoryError, InRootError):
        return []
    try:
        found = []
        for name in sorted(os.listdir(fd)):
            if fnmatch.fnmatchcase(name, names) and stat.S_ISREG(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                found.append(posixpath.join(folder, name) if folder else name)
        return found
    finally:
        os.close(fd)


def _open_folder(root: Path, inner: str) -> int:
    """A descriptor of the folder `inner` inside `root`, reached through real folders only (no link, no other filesystem)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    root_dev = os.fstat(fd).st_dev
    try:
        for name in _components(inner):
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if name == ".." or stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode) or info.st_dev != root_dev:
                raise InRootError(f"/{inner} in the image is not a real folder on the image's filesystem: nothing is looked for in it")
            folder = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = folder
    except BaseException:
        os.close(fd)
        raise
    return fd
