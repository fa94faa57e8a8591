"""Enter an image's root inside fresh mount and PID namespaces, then exec a command there.

Run as `python -I enter_root.py ROOT -- ARGV...` by `unshare --mount --pid
--fork --kill-child` (see emi_tui.engine.run.chroot), so this process is pid 1
of a new PID namespace and owns a private copy of the mount table. It:

1. makes ROOT the namespace's root with pivot_root and detaches the host's
   root, so nothing of the host's filesystems is reachable from inside (not
   through /proc/<pid>/root, nor by chrooting out again);
2. mounts a fresh /proc (only this namespace's processes), a minimal /dev
   (null, zero, full, random, urandom, tty, a private devpts with its ptmx,
   a tmpfs /dev/shm) and no /sys;
3. drops the capabilities that would undo this (mount, mknod, modules, raw
   I/O, the host's network and clock) from the bounding and inheritable sets;
4. execs ARGV, which becomes pid 1: nothing of the host is mapped in it.

Everything mounted here lives and dies with the namespace: there is nothing to
unmount afterwards. It imports the standard library only (it runs isolated,
with -I, whatever the caller's environment) and is kept small on purpose.
"""

from __future__ import annotations

import ctypes
import os
import stat
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
MNT_DETACH = 0x2
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
LINUX_CAPABILITY_VERSION_3 = 0x20080522

#: What a root inside the image may not do: mount (sysfs, devtmpfs, a host disk), make device nodes, load
#: modules, touch raw I/O ports or the host's network and clock, nor change MAC policy or read the kernel log.
DROPPED = {
    "net_admin": 12, "sys_module": 16, "sys_rawio": 17, "sys_admin": 21, "sys_boot": 22, "sys_time": 25,
    "mknod": 27, "mac_override": 32, "mac_admin": 33, "syslog": 34, "bpf": 39, "perfmon": 38,
}
#: The character devices of the minimal /dev: name -> (major, minor).
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                      data.encode() if data else None), f"mount {target}")


def _pivot_into(root: str) -> None:
    """Make `root` the mount namespace's root and detach the old one (the host's) from it."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing done here may reach the host's mount table
    _mount(root, root, None, MS_BIND | MS_REC)  # pivot_root wants a mount point; a loop mount stays as it is
    os.chdir(root)
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(0, f"no pivot_root number known for {os.uname().machine}")
    # pivot_root(".", "."): the old root is stacked under the new one, then detached (pivot_root(2), NOTES).
    _check(libc.syscall(number, b".", b"."), "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "detach the host's root")
    os.chdir("/")


def _minimal_dev() -> None:
    """A tmpfs /dev with only harmless devices and a private devpts; no disk of the host is there to open."""
    _mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m")
    for name, (major, minor) in DEVICES.items():
        os.mknod(f"/dev/{name}", 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(f"/dev/{name}", 0o666)  # mknod's mode is masked by the umask
    os.mkdir("/dev/pts", 0o755)
    _mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
    os.symlink("pts/ptmx", "/dev/ptmx")
    os.mkdir("/dev/shm", 0o1777)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"/dev/{name}")


def _drop_capabilities() -> None:
    """Drop DROPPED from the bounding set and clear the inheritable and ambient sets, so the exec'd root keeps none of them."""
    for number in DROPPED.values():
        if libc.prctl(PR_CAPBSET_DROP, number, 0, 0, 0) != 0 and ctypes.get_errno() != 22:  # EINVAL: this kernel lacks it
            _check(-1, "drop a capability")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # {effective, permitted, inheritable} x 2 words
    _check(libc.capget(header, data), "capget")
    data[2] = data[5] = 0
    _check(libc.capset(header, data), "capset")


def enter(root: str, argv: list[str]) -> None:
    """Set up the namespace around `root` and exec `argv` inside it (does not return)."""
    for folder in ("proc", "dev"):
        if not os.path.isdir(os.path.join(root, folder)) or os.path.islink(os.path.join(root, folder)):
            raise OSError(0, f"the image has no /{folder} folder to mount on")
    _pivot_into(root)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _minimal_dev()
    _drop_capabilities()
    os.execv(_program(argv[0]), argv)


def _program(name: str) -> str:
    """`name` looked up in PATH inside the new root (os.execvp would import a module, and the host's stdlib is gone)."""
    if "/" in name:
        return name
    for folder in os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
        candidate = os.path.join(folder or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(2, f"{name}: not found in the image's PATH")


def main(args: list[str]) -> int:
    if len(args) < 3 or args[1] != "--":
        print("usage: enter_root.py ROOT -- ARGV...", file=sys.stderr)
        return 125
    try:
        enter(args[0], args[2:])
    except OSError as exc:
        print(f"emi-tui: cannot enter the image's root: {exc.strerror or exc}", file=sys.stderr)
        return 127 if isinstance(exc, FileNotFoundError) else 125
    return 125  # not reached: enter() execs


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
