"""The file trace's parser and judge on crafted strace lines, and a traced review and build --dry-run for real.

The traced build, modify and boot test are real builds: they are in
tests/e2e/test_file_trace_e2e.py, in the e2e group that shares the cached base.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from . import filetrace as ft
from .filetrace import READ, WRITE, Places

CHECKOUT = Path(__file__).resolve().parents[2]


def _paths(log: str, cwd: str = "/home/op") -> list[tuple[str, str]]:
    return [(access.path, access.mode) for access in ft.parse(log, cwd)]


def test_opens_are_reads_or_writes_by_their_flags() -> None:
    log = """\
100 openat(AT_FDCWD</home/op>, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3</etc/passwd>
100 openat(AT_FDCWD</home/op>, "out/a.tgz", O_WRONLY|O_CREAT|O_EXCL, 0600) = 4</home/op/out/a.tgz>
100 openat(AT_FDCWD</home/op>, "log", O_RDWR) = 5</home/op/log>
100 open("/var/log/x", O_APPEND|O_WRONLY) = 6</var/log/x>
"""
    assert _paths(log) == [("/etc/passwd", READ), ("/home/op/out/a.tgz", WRITE), ("/home/op/log", WRITE), ("/var/log/x", WRITE)]


def test_a_relative_path_without_a_dirfd_follows_chdir_and_fchdir() -> None:
    log = """\
100 chdir("sub") = 0
100 mkdir("new", 0777) = 0
100 fchdir(7</srv/data>) = 0
100 unlink("old") = 0
100 stat("../x", 0x7ffc) = 0
"""
    assert _paths(log) == [("/home/op/sub", READ), ("/home/op/sub/new", WRITE), ("/srv/data/old", WRITE), ("/srv/x", READ)]


def test_paths_inside_a_chroot_are_the_chroots_files_and_forks_inherit_it() -> None:
    log = """\
100 chroot("/dev/shm/emi-tui/job/root") = 0
100 chdir("/") = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
101 execve("/usr/bin/dpkg", ["dpkg"], 0x7ffd /* 5 vars */) = 0
100 <... clone resumed>, child_tidptr=0x7f) = 101
101 openat(AT_FDCWD</dev/shm/emi-tui/job/root>, "/var/lib/dpkg/status", O_RDONLY) = 3</dev/shm/emi-tui/job/root/var/lib/dpkg/status>
101 rename("var/lib/dpkg/status-new", "/var/lib/dpkg/status") = 0
102 stat("/etc/shadow", 0x1) = 0
"""
    root = "/dev/shm/emi-tui/job/root"
    assert _paths(log) == [
        (root, READ), (root, READ), (f"{root}/usr/bin/dpkg", READ), (f"{root}/var/lib/dpkg/status", READ),
        (f"{root}/var/lib/dpkg/status-new", WRITE), (f"{root}/var/lib/dpkg/status", WRITE),
        ("/etc/shadow", READ),  # pid 102 was never forked from the chrooted one: the host's file
    ]


def test_pivot_root_as_enter_root_calls_it_is_a_chroot_and_a_propagation_change_writes_nothing() -> None:
    root = "/dev/shm/emi-tui/job/root"
    log = f"""\
100 mount("none", "/", NULL, MS_REC|MS_PRIVATE, NULL) = 0
100 mount("{root}", "{root}", NULL, MS_BIND|MS_REC, NULL) = 0
100 chdir("{root}") = 0
100 pivot_root(".", ".") = 0
100 umount2(".", MNT_DETACH) = 0
100 chdir("/") = 0
100 mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0
100 mknodat(AT_FDCWD</>, "/dev/zero", S_IFCHR|0666, makedev(0x1, 0x5)) = 0
100 clone(child_stack=NULL, flags=SIGCHLD) = 2 /* 101 in strace's PID NS */
101 openat(AT_FDCWD</var/lib/apt>, "lists/lock", O_RDWR|O_CREAT, 0640) = 4</var/lib/apt/lists/lock>
101 openat(AT_FDCWD</>, "/tmp", O_RDWR|O_EXCL|O_TMPFILE, 0600) = 5</tmp/#123>(deleted)
"""
    # The kernel names the pivoted process's files from its new root (AT_FDCWD</var/lib/apt>): they are the image's.
    assert _paths(log) == [
        (root, READ), (root, WRITE),  # the bind mount of the root onto itself
        (root, READ), (root, WRITE), (root, READ),  # chdir, the old root detached from ".", chdir("/") in the new root
        (f"{root}/proc", WRITE), (f"{root}/dev/zero", WRITE),
        (f"{root}/var/lib/apt/lists/lock", WRITE), (f"{root}/tmp", WRITE), (f"{root}/tmp/#123", WRITE),
    ]


def test_a_process_of_unknown_lineage_learns_its_root_from_what_the_kernel_opened() -> None:
    # pid 300's clone was never seen (a reused pid whose old life ended unlogged): the fd strace printed tells its root.
    log = """\
100 chroot("/w/root") = 0
300 openat(AT_FDCWD</w/root>, "/var/lib/dpkg/status", O_RDONLY) = 3</w/root/var/lib/dpkg/status>
300 mkdir("/var/lib/dpkg/tmp.ci", 0755) = 0
300 openat(AT_FDCWD</>, "/lib/x.so", O_RDONLY) = 4</w/root/usr/lib/x.so>
400 openat(AT_FDCWD</>, "/lib/y.so", O_RDONLY) = 4</usr/lib/y.so>
400 mkdir("/lib/z", 0755) = 0
500 newfstatat(AT_FDCWD</w/root/var/tmp>, "/var/tmp/mkinitramfs_x/lib", {st_mode=S_IFDIR|0755, ...}, 0) = 0
"""
    assert _paths(log) == [
        ("/w/root", READ), ("/w/root/var/lib/dpkg/status", READ), ("/w/root/var/lib/dpkg/tmp.ci", WRITE),
        ("/w/root/lib/x.so", READ), ("/w/root/usr/lib/x.so", READ),
        ("/lib/y.so", READ), ("/usr/lib/y.so", READ), ("/lib/z", WRITE),  # a link to /usr is not a chroot
        ("/w/root/var/tmp/mkinitramfs_x/lib", READ),  # no open to learn from: its cwd is inside the chroot
    ]


def test_at_calls_resolve_against_their_dirfd_and_an_empty_path_is_the_fd() -> None:
    log = """\
100 renameat2(5</out>, ".a.partial", 5</out>, "a.tgz", RENAME_NOREPLACE) = 0
100 linkat(AT_FDCWD</w>, "x", 6</elsewhere>, "y", 0) = 0
100 newfstatat(3</etc/ld.so.cache>, "", {st_mode=S_IFREG|0644, st_size=1, ...}, AT_EMPTY_PATH) = 0
100 symlinkat("/etc/shadow", 5</out>, "link") = 0
100 symlink("../target", "/out/l2") = 0
100 utimensat(4</out/a.tgz>, NULL, [UTIME_NOW, UTIME_NOW], 0) = 0
100 unlinkat(5</out>, "tmp", AT_REMOVEDIR) = 0
"""
    assert _paths(log) == [
        ("/out/.a.partial", WRITE), ("/out/a.tgz", WRITE), ("/w/x", WRITE), ("/elsewhere/y", WRITE),
        ("/etc/ld.so.cache", READ), ("/out/link", WRITE), ("/out/l2", WRITE), ("/out/a.tgz", WRITE), ("/out/tmp", WRITE),
    ]


def test_a_link_followed_by_an_open_is_judged_by_where_it_led() -> None:
    log = '100 openat(AT_FDCWD</o>, "/o/console.log", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3</etc/cron.d/x>\n'
    assert _paths(log) == [("/o/console.log", WRITE), ("/etc/cron.d/x", WRITE)]


def test_failed_calls_count_unless_nothing_was_there() -> None:
    log = """\
100 openat(AT_FDCWD</h>, "/nonexistent/x", O_RDONLY) = -1 ENOENT (No such file or directory)
100 stat("/a/file/sub", 0x1) = -1 ENOTDIR (Not a directory)
100 mkdir("/dev/shm/emi-tui", 0777) = -1 EEXIST (File exists)
100 openat(AT_FDCWD</h>, "/root/secret", O_RDONLY) = -1 EACCES (Permission denied)
"""
    assert _paths(log) == [("/dev/shm/emi-tui", WRITE), ("/root/secret", READ)]


def test_quoted_paths_with_escapes_commas_and_brackets_are_decoded() -> None:
    log = r'100 openat(AT_FDCWD</h>, "/o/a, b\"[c]\n\303\251\x01", O_RDONLY) = 3</o/a, b"[c]>' + "\n"
    assert _paths(log)[0] == ('/o/a, b"[c]\n\u00e9\x01', READ)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(name=st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=20))
def test_any_file_name_strace_quotes_is_read_back(name: str) -> None:
    escaped = "".join(f"\\x{byte:02x}" for byte in name.encode())
    assert _paths(f'100 unlink("/o/{escaped}") = 0\n') == [(f"/o/{name}", WRITE)]


def _places(tmp: Path) -> Places:
    return Places(output=tmp / "out", cache=tmp / "cache", state=tmp / "state", config=tmp / "config", work_roots=("/dev/shm",), temp="/tmp")


def _judged(log: str, tmp: Path) -> list[str]:
    return [violation.access.path for violation in ft.judge(ft.parse(log, "/"), _places(tmp))]


def test_writes_go_only_to_writable_places_or_a_private_folder_the_run_made(tmp_path: Path) -> None:
    log = f"""\
100 mkdir("/dev/shm/emi-tui-a1b2", 0700) = 0
100 openat(AT_FDCWD</>, "/dev/shm/emi-tui-a1b2/root/etc/hosts", O_WRONLY|O_CREAT, 0644) = 3
100 mkdir("/dev/shm/emi-tui", 0777) = 0
100 mkdir("/dev/shm/emi-tui/job", 0777) = 0
100 openat(AT_FDCWD</>, "/dev/shm/emi-tui/job/x", O_WRONLY|O_CREAT, 0644) = 3
100 openat(AT_FDCWD</>, "{tmp_path}/out/a.tgz", O_WRONLY|O_CREAT, 0644) = 3
100 openat(AT_FDCWD</>, "{tmp_path}/config/recipes/x.yaml", O_RDONLY) = 3
100 openat(AT_FDCWD</>, "{tmp_path}/config/config.yaml", O_WRONLY|O_TRUNC) = 3
100 openat(AT_FDCWD</>, "/etc/resolv.conf", O_RDONLY) = 3
100 openat(AT_FDCWD</>, "/etc/resolv.conf", O_RDWR) = 3
100 openat(AT_FDCWD</>, "/dev/null", O_WRONLY) = 3
100 openat(AT_FDCWD</>, "/dev/sda", O_RDWR) = 3
100 openat(AT_FDCWD</>, "/dev/loop7", O_RDWR) = 3
100 openat(AT_FDCWD</>, "/home/other/.bashrc", O_RDONLY) = 3
100 stat("/home", 0x1) = 0
100 openat(AT_FDCWD</>, "/home", O_RDONLY|O_DIRECTORY) = 3
"""
    assert _judged(log, tmp_path) == [
        "/dev/shm/emi-tui", "/dev/shm/emi-tui/job", "/dev/shm/emi-tui/job/x",  # not private: 0777, not mkdtemp's 0700
        f"{tmp_path}/config/config.yaml", "/etc/resolv.conf", "/dev/sda", "/home/other/.bashrc", "/home", "/home",
    ]


def test_a_temp_file_made_as_mkstemp_does_is_private_and_o_path_is_a_look(tmp_path: Path) -> None:
    log = """\
100 openat(AT_FDCWD</>, "/tmp/8nq9i_2b", O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600) = 3</tmp/8nq9i_2b>
100 unlink("/tmp/8nq9i_2b") = 0
100 openat(AT_FDCWD</>, "/tmp/shared", O_RDWR|O_CREAT|O_EXCL, 0644) = 3</tmp/shared>
100 openat(AT_FDCWD</>, "/", O_RDONLY|O_CLOEXEC|O_PATH|O_DIRECTORY) = 4</>
100 setxattr("/proc/self/fd/4/./var/log/journal", "system.posix_acl_access", "", 44, 0) = 0
"""
    assert _judged(log, tmp_path) == ["/tmp/shared"]


def test_a_folder_made_0700_outside_the_work_roots_does_not_make_writes_there_allowed(tmp_path: Path) -> None:
    log = '100 mkdir("/etc/emi", 0700) = 0\n100 openat(AT_FDCWD</>, "/etc/emi/x", O_WRONLY|O_CREAT, 0600) = 3\n'
    assert _judged(log, tmp_path) == ["/etc/emi", "/etc/emi/x"]


def test_the_report_names_each_path_once_with_the_line(tmp_path: Path) -> None:
    log = '100 openat(AT_FDCWD</>, "/root/.ssh/id_rsa", O_RDONLY) = 3\n' * 3
    text = ft.report(ft.judge(ft.parse(log, "/"), _places(tmp_path)))
    assert text.startswith("1 file(s) outside") and "/root/.ssh/id_rsa" in text and "read outside every place" in text


# --- real, fast runs: review and build --dry-run ----------------------------------------------------------------

ANSWERS = """\
version: 1
recipe: debian-based
size: 1.3G
metadata:
  ssh_key: root
image:
  version: "2026.01.01"
output:
  dir: {output}
"""


def traced_cli(tmp: Path, *args: str | Path, inputs: tuple[Path, ...] = (), output: Path | None = None,
               cache: Path | None = None) -> tuple[str, list[ft.Violation]]:
    """Run `emi-tui ARGS` under strace with private cache, state, data and config folders; its output and the violations."""
    cache = cache or tmp / "cache"
    env = dict(os.environ, PYTHONPATH=str(CHECKOUT), PYTHONDONTWRITEBYTECODE="1", EMI_TUI_CACHE_DIR=str(cache),
               EMI_TUI_STATE_DIR=str(tmp / "state"), XDG_DATA_HOME=str(tmp / "data"), XDG_CONFIG_HOME=str(tmp / "config"))
    done, accesses = ft.trace([sys.executable, "-m", "emi_tui", *map(str, args)], tmp / "strace.log", env=env, cwd=CHECKOUT)
    places = Places(output=output, cache=cache, state=tmp / "state", data=tmp / "data" / "emi-tui",
                    config=tmp / "config" / "emi-tui", inputs=inputs)
    assert accesses, "strace logged nothing"
    return done.stdout + done.stderr, ft.judge(accesses, places)


pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="strace of a root tool: run as root")


def test_a_review_of_image_id_files_and_a_folder_stays_in_the_places(tmp_path: Path) -> None:
    folder = CHECKOUT / "tests" / "data" / "review"
    outside = tmp_path / "reviewed"
    outside.mkdir()
    (outside / "euca.image-id").write_bytes((folder / "euca-debian.image-id").read_bytes())
    shown, violations = traced_cli(tmp_path, "review", outside, outside / "euca.image-id", inputs=(outside,))
    assert "euca" in shown
    assert not violations, ft.report(violations)


def test_a_build_dry_run_stays_in_the_places(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS.format(output=tmp_path / "out"))
    shown, violations = traced_cli(tmp_path, "build", "--dry-run", "--offline", answers, inputs=(answers,), output=tmp_path / "out")
    assert "plan complete" in shown, shown[-2000:]
    assert not violations, ft.report(violations)
