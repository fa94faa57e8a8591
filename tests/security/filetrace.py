"""Which files a command reads and writes, from an strace of its whole process tree, judged against the threat model's places.

`trace(argv)` runs argv under strace (every file syscall of every process it
starts, chroots included) and `parse(text)` turns the log into `Access`es:
a host path, read or write, the syscall and the pid. `judge(accesses, places)`
returns the ones outside PLACES, the threat model's table of where emi-tui may
read and write; the README's threat model refers to that table.

Paths are resolved as the kernel resolved them: a relative path against the
process's cwd (strace -y prints it as AT_FDCWD</cwd>; chdir/fchdir are tracked
for the calls that have no dirfd), a *at call against its dirfd's path, and an
absolute path against the process's root, so `/usr/bin/dpkg` run inside the
image's chroot is the image's file, not the host's. A fork inherits its
parent's cwd and root. Symlinks are not resolved: the trace names the path
asked for; where an open succeeded, strace -y names the file really opened
too, and that is judged as well, so a link out of a place is caught.

Failed calls: a call that failed with ENOENT or ENOTDIR found nothing there,
so it read and wrote nothing; such probes (PATH lookups, Python's import path,
locale and config fallbacks) are left out. Any other failure counts: an
EACCES or EEXIST is an attempt on a file that exists.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STRACE_OPTIONS = ("-f", "-q", "--seccomp-bpf", "-y", "--decode-pids=pidns", "-e", "trace=%file,openat2,fchdir,pivot_root,%process", "-e", "signal=none")

READ, WRITE = "read", "write"
#: Flags of open() that change the file (O_RDONLY with none of them only reads).
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE")
#: Failures that mean nothing was there to read or write.
NOT_THERE = ("ENOENT", "ENOTDIR")

#: syscall -> for each argument index that names a file, read or write. Each *at syscall's path
#: is resolved against the argument before it (its dirfd).
WRITES_ONE = {
    "mkdir": 0, "rmdir": 0, "unlink": 0, "chmod": 0, "chown": 0, "lchown": 0, "truncate": 0, "utime": 0, "utimes": 0,
    "mknod": 0, "setxattr": 0, "lsetxattr": 0, "removexattr": 0, "lremovexattr": 0, "umount": 0, "umount2": 0,
    "swapon": 0, "swapoff": 0, "acct": 0, "creat": 0,
}
WRITES_AT = {"mkdirat": 1, "unlinkat": 1, "fchmodat": 1, "fchmodat2": 1, "fchownat": 1, "mknodat": 1, "utimensat": 1, "futimesat": 1}
READS_ONE = {
    "stat": 0, "lstat": 0, "stat64": 0, "lstat64": 0, "access": 0, "readlink": 0, "execve": 0, "chdir": 0, "chroot": 0,
    "statfs": 0, "statfs64": 0, "getxattr": 0, "lgetxattr": 0, "listxattr": 0, "llistxattr": 0, "uselib": 0,
}
READS_AT = {"newfstatat": 1, "fstatat64": 1, "statx": 1, "faccessat": 1, "faccessat2": 1, "readlinkat": 1, "execveat": 1,
            "name_to_handle_at": 1, "open_tree": 1, "fsconfig": -1}
#: Reads that look at a file's metadata, not its contents: allowed on the folders on the way to a place.
METADATA_READS = ("stat", "lstat", "stat64", "lstat64", "newfstatat", "fstatat64", "statx", "access", "faccessat", "faccessat2",
                  "readlink", "readlinkat", "statfs", "statfs64", "chdir", "openat(O_PATH)")


@dataclass(frozen=True)
class Access:
    """One file a traced process read or wrote."""

    path: str  # absolute, on the host
    mode: str  # READ or WRITE
    syscall: str
    pid: int
    line: str
    private: bool = False  # made private by this call: a folder by mkdir(..., 0700) as mkdtemp does, a file as mkstemp does


@dataclass
class _Process:
    cwd: str
    root: str = "/"
    lineage_known: bool = True
    #: After pivot_root (enter_root's), the kernel names files from the new root: strace -y's paths need the root put before them.
    pivoted: bool = False

    def seen(self, path: str | None) -> str | None:
        """A path as strace -y printed it (the kernel's view of this process), as the host names it."""
        if path is None or not self.pivoted or not path.startswith("/"):
            return path
        return os.path.normpath(self.root.rstrip("/") + path)


_LINE = re.compile(r"^(?P<pid>\d+)\s+(?P<rest>.*)$")
_CALL = re.compile(r"^(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>.*)$")
_RESUMED = re.compile(r"^<\.\.\. (?P<name>\w+) resumed>(?P<tail>.*)$")
_FD = re.compile(r"^(?:AT_FDCWD|-?\d+)<(?P<path>.*)>$")
_RETURNED_FD = re.compile(r"^\d+<(?P<path>.*)>")


def split_arguments(text: str) -> list[str]:
    """strace's argument list split at its top-level commas (quotes, brackets and fd paths kept whole)."""
    parts, depth, current, quoted, escaped, in_fd = [], 0, [], False, False, False
    for index, char in enumerate(text):
        if quoted:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
            continue
        if in_fd:
            current.append(char)
            # -y prints "3</path>" and a path may hold anything; it ends at a '>' followed by ',' or the end.
            if char == ">" and (index + 1 == len(text) or text[index + 1] == ","):
                in_fd = False
            continue
        if char == '"':
            quoted = True
        elif char == "<" and current and (current[-1].isdigit() or "".join(current).strip() == "AT_FDCWD"):
            in_fd = True
        elif char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if current or parts:
        parts.append("".join(current).strip())
    return parts


def unquote(argument: str) -> str | None:
    """The string a quoted strace argument holds (C escapes decoded), or None if it is not a string (NULL, a number)."""
    match = re.match(r'^"(.*)"(\.\.\.)?$', argument, re.S)
    if match is None:
        return None
    raw = match.group(1)
    out = bytearray()
    index = 0
    while index < len(raw):
        char = raw[index]
        if char != "\\":
            out += char.encode()
            index += 1
            continue
        nxt = raw[index + 1]
        if nxt == "x":
            out.append(int(raw[index + 2:index + 4], 16))
            index += 4
        elif nxt in "01234567":
            digits = re.match(r"[0-7]{1,3}", raw[index + 1:])
            assert digits is not None
            out.append(int(digits.group(0), 8))
            index += 1 + len(digits.group(0))
        else:
            out += {"n": b"\n", "t": b"\t", "r": b"\r", "v": b"\v", "f": b"\f"}.get(nxt, nxt.encode())
            index += 2
    return out.decode("utf-8", "surrogateescape")


def _fd_path(argument: str) -> str | None:
    """The path -y prints for a file descriptor, if it is a path (not pipe:[…], socket:[…] or anon_inode:…)."""
    match = _FD.match(argument)
    return match.group("path") if match and match.group("path").startswith("/") else None


class _Resolver:
    """Per-pid cwd and root, and the joining of a path as the kernel would.

    Pids are reused during a build (debootstrap and dpkg start tens of
    thousands of processes): a pid's state ends at its exit_group, and each new
    life of a pid takes its state from the parent whose clone returned it,
    the n-th life from the n-th such clone.
    """

    def __init__(self, cwd: str) -> None:
        self.start = cwd
        self.processes: dict[int, _Process] = {}
        self.births: dict[int, list[int]] = {}  # child pid -> the parent of each of its lives, in order
        self.lives: dict[int, int] = {}
        self.roots: set[str] = set()  # every folder a process chrooted into

    def process(self, pid: int) -> _Process:
        if pid not in self.processes:
            life = self.lives.get(pid, 0)
            self.lives[pid] = life + 1
            parents = self.births.get(pid, [])
            if life < len(parents) and parents[life] in self.processes:
                source = self.processes[parents[life]]
                self.processes[pid] = _Process(source.cwd, source.root, pivoted=source.pivoted)
            else:  # the first process, or one whose parent was never seen: where the trace started
                self.processes[pid] = _Process(self.start, lineage_known=not self.processes)
        return self.processes[pid]

    def exited(self, pid: int) -> None:
        self.processes.pop(pid, None)

    def resolve(self, pid: int, path: str, base: str | None = None) -> str:
        process = self.process(pid)
        if path.startswith("/"):
            joined = process.root.rstrip("/") + path if process.root != "/" else path
        else:
            joined = os.path.join(base if base is not None else process.cwd, path)
        return os.path.normpath(joined).replace("//", "/")


def _merge_unfinished(lines: Iterable[str]) -> list[tuple[int, str]]:
    """(pid, 'call(args) = result') per finished syscall: an '<unfinished ...>' line joined to its '<... resumed>' line."""
    pending: dict[int, str] = {}
    calls: list[tuple[int, str]] = []
    for line in lines:
        match = _LINE.match(line.rstrip("\n"))
        if match is None:
            continue
        pid, rest = int(match.group("pid")), match.group("rest")
        if rest.endswith("<unfinished ...>"):
            pending[pid] = rest[: -len("<unfinished ...>")].rstrip()
            continue
        resumed = _RESUMED.match(rest)
        if resumed is not None:
            head = pending.pop(pid, f"{resumed.group('name')}(")
            rest = head + ("" if head.endswith(("(", ", ")) else " ") + resumed.group("tail").lstrip()
            rest = re.sub(r",\s+\)", ")", rest)
        calls.append((pid, rest))
    return calls


def parse(text: str, cwd: str) -> list[Access]:
    """Every file read or written in an strace log (written with STRACE_OPTIONS), the first process having started in `cwd`."""
    calls = _merge_unfinished(text.splitlines())
    resolver = _Resolver(cwd)
    for pid, rest in calls:  # who forked whom, first: a child's calls may be logged before its parent's clone returns
        call = _CALL.match(rest)
        # In a PID namespace (enter_root's) clone returns the namespace's pid; --decode-pids=pidns adds the one strace logs.
        child = (re.search(r"/\* (\d+) in strace's PID NS \*/", call.group("result")) or re.match(r"^(\d+)", call.group("result"))) if call else None
        if call and child and call.group("name") in ("clone", "clone3", "fork", "vfork"):
            resolver.births.setdefault(int(child.group(1)), []).append(pid)
    accesses: list[Access] = []
    for pid, rest in calls:
        if rest.startswith(("exit_group(", "exit(", "+++ exited", "+++ killed")):
            resolver.exited(pid)
            continue
        call = _CALL.match(rest)
        if call is None:
            continue
        accesses.extend(_accesses_of(resolver, pid, call.group("name"), split_arguments(call.group("args")), call.group("result"), rest))
    return accesses


def _accesses_of(resolver: _Resolver, pid: int, name: str, args: list[str], result: str, line: str) -> list[Access]:
    failed = result.startswith("-1 ")
    if any(re.match(r'^"/proc/(self|thread-self|\d+)/fd/\d+[/"]', argument) for argument in args):
        return []  # through an fd (chmod of an O_PATH fd, setxattr below one): the file was judged when it was opened
    if failed and any(f" {errno} " in f"{result} " for errno in NOT_THERE):
        return []
    process = resolver.process(pid)
    for argument in args:  # strace -y names the cwd the kernel used: the truth, whatever the lineage said
        if argument.startswith("AT_FDCWD</"):
            process.cwd = process.seen(_fd_path(argument)) or process.cwd
            # A process whose parent was never seen, working inside a folder some process chrooted into, is in that chroot.
            inside = [root for root in resolver.roots if _inside(process.cwd, root)]
            if not process.lineage_known and process.root == "/" and inside:
                process.root = max(inside, key=len)

    def at(dirfd_index: int, mode: str, *, private: bool = False) -> Access | None:
        path = unquote(args[dirfd_index + 1]) if dirfd_index + 1 < len(args) else None
        base = process.seen(_fd_path(args[dirfd_index])) if dirfd_index >= 0 else None
        if path is None:  # utimensat(fd, NULL, ...): the fd itself
            return Access(base, mode, name, pid, line) if base else None
        if path == "" and base is not None:  # AT_EMPTY_PATH: the fd itself
            return Access(base, mode, name, pid, line)
        return Access(resolver.resolve(pid, path, base), mode, name, pid, line, private)

    def one(index: int, mode: str, *, private: bool = False) -> Access | None:
        path = unquote(args[index]) if index < len(args) else None
        return Access(resolver.resolve(pid, path), mode, name, pid, line, private) if path is not None else None

    found: list[Access | None] = []
    if name in ("open", "openat", "openat2"):
        index = 0 if name == "open" else 1
        flags = args[index + 1] if index + 1 < len(args) else ""
        mode = WRITE if any(flag in flags for flag in WRITE_FLAGS) else READ
        if "O_PATH" in flags:
            name = "openat(O_PATH)"  # a handle on the name, nothing read: judged as a look at metadata
        # mkstemp's way: a new file only this user can open, never through a link: as private as a mkdtemp folder.
        made_private = all(flag in flags for flag in ("O_CREAT", "O_EXCL", "O_NOFOLLOW")) and args[-1] == "0600"
        opened = _RETURNED_FD.match(result)
        real = process.seen(opened.group("path")) if opened is not None and opened.group("path").startswith("/") else None
        asked = unquote(args[index]) if index < len(args) else None
        if real is not None and asked is not None and asked.startswith("/"):
            _learn_root(resolver, process, asked, real)
        found.append(one(0, mode, private=made_private) if name == "open" else at(0, mode, private=made_private))
        if real is not None and found[-1] is not None and real != found[-1].path:
            found.append(Access(real, mode, name, pid, line))  # the file a link led to
    elif name in ("rename", "link"):
        found += [one(0, WRITE), one(1, WRITE)]
    elif name in ("renameat", "renameat2", "linkat"):
        found += [at(0, WRITE), at(2, WRITE)]
    elif name == "symlink":  # the target is only text stored in the link
        found.append(one(1, WRITE))
    elif name == "symlinkat":
        found.append(Access(resolver.resolve(pid, unquote(args[2]) or "", process.seen(_fd_path(args[1]))), WRITE, name, pid, line))
    elif name == "mount" and len(args) > 3 and unquote(args[0]) == "none" and "MS_PRIVATE" in args[3] and "MS_BIND" not in args[3]:
        pass  # only the mount's propagation changes (enter_root makes its new namespace's mounts private): nothing is written
    elif name == "mount":
        source = unquote(args[0])
        if source and source.startswith("/"):
            found.append(one(0, READ))
        found.append(one(1, WRITE))
    elif name == "mkdir":
        found.append(one(0, WRITE, private=len(args) > 1 and args[1] == "0700"))
    elif name == "mkdirat":
        found.append(at(0, WRITE, private=len(args) > 2 and args[2] == "0700"))
    elif name in WRITES_ONE:
        found.append(one(WRITES_ONE[name], WRITE))
    elif name in WRITES_AT:
        found.append(at(WRITES_AT[name] - 1, WRITE))
    elif name in READS_ONE:
        found.append(one(READS_ONE[name], READ))
    elif name in READS_AT and READS_AT[name] > 0:
        found.append(at(READS_AT[name] - 1, READ))
    elif name == "fchdir" and not failed:
        target = process.seen(_fd_path(args[0])) if args else None
        if target:
            process.cwd = target
    if not failed:
        _follow_cwd_and_root(resolver, process, pid, name, args)
    return [access for access in found if access is not None]


def _learn_root(resolver: _Resolver, process: _Process, asked: str, real: str) -> None:
    """Correct the process's root from an open of an absolute path: the kernel opened `real`, so the root is what precedes `asked`.

    Only a folder some process chrooted into (or "/") is taken: /lib/x.so opened as /usr/lib/x.so is a link, not a root.
    """
    if real == asked or not real.endswith(asked):
        if real == asked and process.root != "/" and not _inside(asked, process.root):
            process.root = "/"
        return
    candidate = real[: -len(asked)] or "/"
    if candidate in resolver.roots:
        process.root = candidate


def _follow_cwd_and_root(resolver: _Resolver, process: _Process, pid: int, name: str, args: list[str]) -> None:
    path = unquote(args[0]) if args else None
    if path is None:
        return
    if name == "chdir":
        process.cwd = resolver.resolve(pid, path)
    elif name in ("chroot", "pivot_root"):
        # pivot_root(".", ".") as enter_root calls it makes the folder the process stands in its root, as chroot does.
        process.root = resolver.resolve(pid, path)
        process.pivoted = process.pivoted or name == "pivot_root"
        resolver.roots.add(process.root)


def trace(argv: Sequence[str], log: Path, *, env: dict[str, str] | None = None, cwd: Path | None = None,
          timeout: float = 1800) -> tuple[subprocess.CompletedProcess[str], list[Access]]:
    """Run argv under strace (its whole process tree); its result and every file it read or wrote."""
    done = subprocess.run(["strace", *STRACE_OPTIONS, "-o", str(log), "--", *argv], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout, check=False)
    return done, parse(log.read_text(errors="surrogateescape"), str(cwd or Path.cwd()))


# --- the places -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """One place of the threat model: the folders it covers, whether emi-tui may write there, and why it may."""

    name: str
    folders: tuple[str, ...]
    writable: bool
    reason: str
    only: Callable[[str], bool] | None = None  # within the folders, only these paths (e.g. named devices)


@dataclass
class Places:
    """The folders of one traced run, from which PLACES makes the table."""

    output: Path | None = None
    cache: Path | None = None
    state: Path | None = None
    data: Path | None = None
    config: Path | None = None
    checkout: Path = Path(__file__).resolve().parents[2]
    inputs: tuple[Path, ...] = ()  # artifacts, answer files and folders the operator named on the command line
    work_roots: tuple[str, ...] = ("/dev/shm", "/var/tmp")
    temp: str = field(default_factory=tempfile.gettempdir)
    extra: tuple[Place, ...] = ()


def _folders(*paths: Path | str | None) -> tuple[str, ...]:
    return tuple(os.path.normpath(str(path)) for path in paths if path is not None)


def _device_writable(path: str) -> bool:
    return (path in ("/dev/null", "/dev/tty", "/dev/ptmx", "/dev/loop-control", "/dev/kvm", "/dev/net/tun", "/dev/urandom", "/dev/random")
            or re.match(r"^/dev/(pts/\d+|loop\d+(p\d+)?|mapper/.*|fd/\d+)$", path) is not None)


def _work_root_or_ours(places: Places) -> Callable[[str], bool]:
    roots = _folders(*places.work_roots, places.temp)

    def ours(path: str) -> bool:
        return any(path == root or (_inside(path, root) and path[len(root) + 1:].startswith("emi")) for root in roots)
    return ours


def table(places: Places) -> list[Place]:
    """The threat model's places for one run: every folder emi-tui may read, and the few it may write, with the reason."""
    # The interpreter's prefixes and its import path (an editable install puts its checkout on it).
    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))),
              *(entry for entry in sys.path if entry.startswith("/"))}
    return [
        Place("output folder", _folders(places.output), True,
              "the operator named it: the artifacts, checksums and published build log go there"),
        Place("cache folder", _folders(places.cache), True, "EMI_TUI_CACHE_DIR (~/.cache/emi-tui): cached bootstrapped bases"),
        Place("state folder", _folders(places.state), True, "EMI_TUI_STATE_DIR (~/.local/state/emi-tui): job logs, locks, state files of running jobs"),
        Place("data folder", _folders(places.data), True, "~/.local/share/emi-tui: build history"),
        Place("config folder", _folders(places.config), False, "~/.config/emi-tui: the operator's recipes, themes and settings, read only"),
        Place("operator's inputs", _folders(*places.inputs), False,
              "artifacts, answer files and folders named on the command line: read, never written"),
        Place("checkout and Python", _folders(places.checkout, *python), False,
              "emi-tui's code, shipped recipes and themes, and the Python running it: read only (bytecode writing is off)"),
        Place("system", ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc"), False,
              "the workstation's programs, libraries and configuration (trusted): read only, no /etc file is written"),
        Place("host package database", ("/var/lib/dpkg", "/var/lib/apt", "/var/cache/apt", "/var/cache/debconf"), False,
              "apt-cache reads the workstation's package facts (the mirror in its sources, package sizes): read only"),
        Place("mount table", ("/run/mount",), True, "mount(8) keeps its own table of user-space mount options in /run/mount/utab"),
        Place("container markers", ("/.dockerenv", "/run/.containerenv"), False,
              "debootstrap and systemd-detect-virt look for them to tell whether they run in a container"),
        Place("kernel interfaces", ("/proc", "/sys"), False, "process, mount and device facts the tools read"),
        Place("devices", ("/dev",), False, "the tools read device nodes (loop devices to attach an image, /dev/urandom)"),
        Place("device writes", ("/dev",), True,
              "/dev/null and the terminal for output, loop devices and /dev/mapper to mount an image, /dev/kvm and tun for QEMU",
              only=_device_writable),
        Place("work roots", _folders(*places.work_roots, places.temp), False,
              "/dev/shm, /var/tmp and the temp folder, and emi-* folders in them, are looked at to choose and make a private folder",
              only=_work_root_or_ours(places)),
        *places.extra,
    ]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _under_any(path: str, folders: set[str]) -> bool:
    """Whether `path` is one of `folders` or inside one (a walk up its parents: a build makes thousands of folders)."""
    while True:
        if path in folders:
            return True
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent


@dataclass(frozen=True)
class Violation:
    """An access outside the places: what was touched, how, and by which call."""

    access: Access
    why: str


def judge(accesses: Sequence[Access], places: Places) -> list[Violation]:
    """The accesses outside the threat model's places.

    Writes are allowed in the writable places and inside a private folder the
    run itself made (mkdir mode 0700, as mkdtemp does) in a work root or the
    temp folder: the job's work folder, the boot test's scratch, review's
    extraction folder. Everything else written is a violation, and so is every
    read outside all the places.
    """
    rows = table(places)
    roots = _folders(*places.work_roots, places.temp)
    private = {a.path for a in accesses if a.private and a.mode == WRITE and any(_inside(a.path, root) for root in roots)}
    ancestors = {os.path.dirname(folder) for row in rows for folder in row.folders}
    for folder in list(ancestors):
        while folder not in ("/", ""):
            folder = os.path.dirname(folder)
            ancestors.add(folder)
    violations = []
    unique: dict[tuple[str, str, str], Access] = {}
    for access in accesses:  # a build makes a million accesses, mostly the same few thousand files
        unique.setdefault((access.path, access.mode, access.syscall), access)
    for access in unique.values():
        if _under_any(access.path, private):
            continue
        if access.mode == READ and access.syscall in METADATA_READS and access.path in ancestors | {"/"}:
            continue  # realpath() and mkdir -p look at each folder on the way to a place
        fits = [row for row in rows if any(_inside(access.path, folder) for folder in row.folders)
                and (row.only is None or row.only(access.path))]
        if access.mode == WRITE and not any(row.writable for row in fits):
            where = f" (in {fits[0].name}, read only)" if fits else ""
            violations.append(Violation(access, f"written outside the writable places{where}"))
        elif access.mode == READ and not fits:
            violations.append(Violation(access, "read outside every place"))
    return violations


def report(violations: Sequence[Violation], limit: int = 60) -> str:
    """A table of the violations, one path once per mode and syscall: what, how, why, and the first strace line."""
    seen: dict[tuple[str, str, str], Violation] = {}
    for violation in violations:
        seen.setdefault((violation.access.path, violation.access.mode, violation.access.syscall), violation)
    rows = [f"{v.access.mode:5}  {v.access.syscall:10}  {v.access.path}\n       {v.why}; pid {v.access.pid}: {v.access.line[:160]}"
            for v in list(seen.values())[:limit]]
    more = f"\n… and {len(seen) - limit} more" if len(seen) > limit else ""
    return f"{len(seen)} file(s) outside the threat model's places:\n" + "\n".join(rows) + more
