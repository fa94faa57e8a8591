"""Folders emi-tui keeps to itself, and files it writes where other users may write too.

emi-tui runs as root on workstations other users share, so two rules hold every write:

- A folder it keeps its own things in (the work root, the cache, the state
  folder with its logs and job records) is *private*: `private_folder` walks
  it from `/` with lstat, and every folder on the way is owned by root or by
  the running user and writable by no one else. A world-writable sticky
  folder (`/tmp`, `/dev/shm`, `/var/tmp`) is accepted on the way, since the
  sticky bit keeps others from renaming or removing what we create in it, but
  the folder we then make in it must be ours. A symlink on the way is followed
  only when root or the running user made it. Missing folders are made one at
  a time with mode 0700 and checked again after the mkdir, so one that another
  user made first (the race) is refused, not used.

  A folder that fails the check is refused with an EmiError naming it, its
  owner and mode, and how to fix it. Refusing (rather than falling back to a
  fresh `mkdtemp` parent) is deliberate: a squatted `/dev/shm/emi-tui` means
  another user tried to own root's work, which the operator must hear about,
  and the cache and state folders cannot fall back at all (what they hold must
  be found again by the next run), so one rule serves every folder.

- A file written into a folder that is not private (the output folder: the
  artifacts and what goes beside them, the lock) is created with
  O_CREAT|O_EXCL|O_NOFOLLOW under a name no one can guess and renamed into
  place; a symlink planted at either name is never followed (`rename` over a
  planted link replaces the link itself).
"""

from __future__ import annotations

import os
import pwd
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emi_tui.engine.errors import EmiError

#: Symlinks followed while walking one folder's path, as the kernel's own limit.
_MAX_LINKS = 40
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def describe(path: Path | str, st: os.stat_result) -> str:
    """`path` with its owner and mode, as a refusal names it."""
    return f"{path} (owner {_owner_name(st.st_uid)}, mode {stat.S_IMODE(st.st_mode):04o})"


def _trusted(uid: int) -> bool:
    return uid in (0, os.geteuid())


def _refuse(path: Path | str, st: os.stat_result, why: str) -> EmiError:
    return EmiError(
        f"refusing to use {describe(path, st)}: {why}",
        hint=f"it must be owned by {' or '.join(sorted({_owner_name(os.geteuid()), 'root'}))} and writable by no one else; "
             f"check what it holds, then remove it (rm -rf -- {path}) or choose another folder",
    )


def private_folder(path: Path | str, create: bool = True) -> Path:
    """`path` as an absolute folder that only root and the running user can change; made (0700) when missing.

    Raises EmiError when the folder or one above it could be changed by
    another user (see the module's docstring), or, with `create` False, when it
    does not exist.
    """
    folder = Path(os.path.abspath(path))
    _walk(folder, create)
    return folder


def _walk(folder: Path, create: bool) -> None:
    """Check every folder from `/` down to `folder`, following trusted symlinks; make missing ones."""
    pending = list(folder.parts[1:])
    current = Path("/")
    _check_folder(current, os.lstat(current), last=not pending)
    links = 0
    while pending:
        part = pending.pop(0)
        candidate = current / part
        if part == "..":
            current = current.parent
            continue
        try:
            st = os.lstat(candidate)
        except FileNotFoundError:
            if not create:
                raise EmiError(f"{candidate} does not exist") from None
            try:
                os.mkdir(candidate, 0o700)
            except FileExistsError:
                pass  # made by someone else in between: the lstat below judges it
            st = os.lstat(candidate)
        if stat.S_ISLNK(st.st_mode):
            if not _trusted(st.st_uid):
                raise _refuse(candidate, st, "it is a symbolic link made by another user")
            links += 1
            if links > _MAX_LINKS:
                raise EmiError(f"too many symbolic links under {folder}")
            target = Path(os.readlink(candidate))
            pending[:0] = list(target.parts[1:] if target.is_absolute() else target.parts)
            if target.is_absolute():
                current = Path("/")
            continue
        _check_folder(candidate, st, last=not pending)
        current = candidate


def _check_folder(path: Path, st: os.stat_result, last: bool) -> None:
    """One folder on the way: a folder, owned by root or us, writable by no one else (sticky ones above the last)."""
    if not stat.S_ISDIR(st.st_mode):
        raise _refuse(path, st, "it is not a folder")
    if not _trusted(st.st_uid):
        raise _refuse(path, st, "another user owns it")
    shared = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if shared and (last or not st.st_mode & stat.S_ISVTX):
        raise _refuse(path, st, "other users can write to it")


def private_subfolder(parent: Path, name: str) -> Path:
    """A new folder `name` (0700) in the private folder `parent`, which is checked (and made) first.

    The folder must not exist yet: a job's work folder is always new.
    """
    folder = private_folder(parent) / name
    os.mkdir(folder, 0o700)
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or not _trusted(st.st_uid):
        raise _refuse(folder, st, "it is not the folder just made")
    return folder


def unguessable(final: Path, suffix: str = ".tmp") -> Path:
    """A hidden name beside `final` that no other user can guess ahead of us."""
    return final.with_name(f".{final.name}.{secrets.token_hex(8)}{suffix}")


def create_new(path: Path, mode: int = 0o644) -> int:
    """A descriptor for a new file at `path`: never one that exists, never through a symlink.

    Raises EmiError when something (a planted file or symlink) is there already.
    """
    try:
        return os.open(path, _NEW_FILE, mode)
    except FileExistsError:
        raise EmiError(f"refusing to write {path}: something is there already",
                       hint="another user may have planted it; check it and remove it") from None


def write_new(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Write `data` to a new file at `path` (see `create_new`); a partial or a log, renamed later if at all."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    fd = create_new(path, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Replace `path` whole with `data`: written to an unguessable new name, then renamed over it.

    A reader never sees half a file, and a symlink planted at `path` is
    replaced, never written through.
    """
    tmp = unguessable(path)
    write_new(tmp, data, mode)
    try:
        os.rename(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_small(path: Path, limit: int) -> bytes | None:
    """At most `limit` + 1 bytes of the regular file at `path` (more than `limit` means too big); None when it cannot be read.

    Never through a symlink (O_NOFOLLOW) and never waiting on a FIFO planted there (O_NONBLOCK, then a regular-file check).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def copy_new(source: Path, dest: Path, mode: int = 0o644) -> None:
    """Copy the regular file `source` to a new file `dest` (see `create_new`), in chunks."""
    fd = create_new(dest, mode)
    try:
        with open(source, "rb") as src, os.fdopen(fd, "wb") as out:
            while chunk := src.read(1024 * 1024):
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


@contextmanager
def reserved(path: Path, mode: int = 0o644) -> Iterator[None]:
    """Create `path` new and empty for a command that writes it by name (tar -f, cp); after it, check it is still ours.

    The command opens the name itself (following links), so the file is made
    first with O_EXCL|O_NOFOLLOW and afterwards must be the same regular file:
    if another user swapped it for something else in between, EmiError.
    """
    fd = create_new(path, mode)
    made = os.fstat(fd)
    os.close(fd)
    yield
    try:
        now = os.lstat(path)
    except FileNotFoundError:
        raise EmiError(f"{path} disappeared while it was written", hint="another user may have removed it") from None
    if (now.st_dev, now.st_ino) != (made.st_dev, made.st_ino) or not stat.S_ISREG(now.st_mode):
        raise EmiError(f"{path} was replaced while it was written", hint="another user can write to the output folder; choose a private one")


def open_lock_file(path: Path) -> int:
    """A read-write descriptor for the lock file `path`: made when missing, never through a symlink.

    A lock file may exist already (a live job holds it, or a dead one left
    it), so it is opened without O_EXCL; it must then be a regular file of
    ours (or root's) with no other name (a hard link), else EmiError.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise EmiError(f"refusing to use the lock file {path}: {exc.strerror}",
                       hint="it may be a symbolic link another user planted; check it and remove it") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or not _trusted(st.st_uid) or st.st_nlink != 1:
        os.close(fd)
        why = "it is not a regular file" if not stat.S_ISREG(st.st_mode) else (
            "another user owns it" if not _trusted(st.st_uid) else "it has another name too (a hard link)")
        raise EmiError(f"refusing to use the lock file {describe(path, st)}: {why}",
                       hint="another user may have planted it; check it and remove it")
    return fd
