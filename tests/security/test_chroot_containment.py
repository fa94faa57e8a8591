"""Class 8: what the image's own programs can reach when emi-tui runs them as root inside the image's root.

A build and a modify run the image's programs (dpkg and its maintainer
scripts, the recipe's cleanup, a `--run` script) through `JobContext.chroot`
after `customize.mount_chroot`. A hostile image is played here by a tiny root
made of busybox-static, and its "program" is a shell script that tries, as
root: to read a marker file of the host through /proc/<pid>/root or
/proc/<pid>/cwd, to see the host's processes, to write to the host's sysfs
(an idempotent write: the value already there) or mount a sysfs of its own,
and to reach a host disk through /dev or a device node it makes. Every one of
them must fail. Before issue 14 the host's /proc, /sys and /dev were bound in,
and all of them succeeded.
"""

from __future__ import annotations

import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emi_tui.engine.build import customize
from emi_tui.engine.run.context import JobContext, JobPaths
from emi_tui.engine.run.events import OutputLine
from emi_tui.engine.run.mounts import MountStack, mounts_under

from .tinyroot import busybox_root

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="runs the chroot as root, as emi-tui does"),
]

#: What the hostile program prints when an attack worked; the test looks for these words only.
BROKE_OUT = "ESCAPED"


def _host_disk() -> tuple[str, int, int]:
    """A block device of the host: its name, major and minor (the first line of /proc/partitions)."""
    for line in Path("/proc/partitions").read_text().splitlines()[2:]:
        major, minor, _blocks, name = line.split()
        return name, int(major), int(minor)
    pytest.skip("no block device on this host")


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An image root of busybox alone: a static shell and its applets, with the usual empty /proc, /sys and /dev."""
    return busybox_root(tmp_path_factory.mktemp("containment") / "work")


@pytest.fixture(scope="module")
def host_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A process of the host, running in a folder of the host that holds a marker file: (its pid, its folder)."""
    folder = tmp_path_factory.mktemp("host-secret")
    sleeper = subprocess.Popen(["sleep", "600.25"], cwd=folder)
    try:
        yield sleeper.pid, folder
    finally:
        sleeper.kill()
        sleeper.wait()


def _run_inside(work: Path, script: str) -> str:
    """Run `script` with the image's /bin/sh the way a build runs a command in the root; returns what it printed."""
    lines: list[str] = []
    ctx = JobContext(
        paths=JobPaths(work=work, output=work.parent / "out", log=work.parent / "log"), cancel=threading.Event(),
        emit=lambda event: lines.append(event.text) if isinstance(event, OutputLine) else None, mounts=MountStack(),
    )
    customize.mount_chroot(ctx)
    try:
        ctx.chroot(["/bin/sh", "-c", script], check=False)
    finally:
        assert ctx.mounts is not None
        ctx.mounts.close()
    assert not mounts_under(work), "the chroot left mounts behind"
    return "\n".join(line for line in lines if not line.startswith("$ "))


markers = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=4, max_size=24)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=markers, secret=markers, link=st.sampled_from(["root", "cwd"]), which=st.sampled_from(["1", "2", "sleeper", "self-parent"]))
def test_no_proc_link_leads_to_a_host_file(hostile_root: Path, host_process: tuple[int, Path], name: str, secret: str, link: str, which: str) -> None:
    """/proc/<pid>/root and /proc/<pid>/cwd, for pid 1, 2, a host process or the parent, never reach the host's files."""
    pid, folder = host_process
    marker = folder / f"marker-{name}"
    marker.write_text(f"{BROKE_OUT}-{secret}\n")
    # Through root the whole path of the marker is needed; through the sleeper's cwd only its name.
    tail = f"{marker}" if link == "root" else f"/{marker.name}"
    target = {"1": "1", "2": "2", "sleeper": str(pid), "self-parent": "$PPID"}[which]
    try:
        shown = _run_inside(hostile_root, f"cat /proc/{target}/{link}{tail}; for p in /proc/[0-9]*; do cat $p/{link}{tail}; done; true")
    finally:
        marker.unlink()
    assert f"{BROKE_OUT}-{secret}" not in shown


def test_the_host_processes_are_not_visible(hostile_root: Path, host_process: tuple[int, Path]) -> None:
    """Only the image's own processes are in its /proc: not the sleeper, not this test, not the host's init."""
    pid, _folder = host_process
    shown = _run_inside(hostile_root, f"[ -e /proc/{pid} ] && echo {BROKE_OUT}-sleeper; [ -e /proc/{os.getpid()} ] && echo {BROKE_OUT}-test; "
                                      f"grep -l '60[0][.]25' /proc/[0-9]*/cmdline 2>/dev/null | sed 's/^/{BROKE_OUT}-cmdline /'; "
                                      f"echo count $(ls -d /proc/[0-9]* | wc -l)")
    assert BROKE_OUT not in shown, shown
    count = int(shown.split("count ")[-1].split()[0])
    assert count <= 4, f"{count} processes visible inside the image's root: {shown}"


def test_the_host_sysfs_cannot_be_written_nor_mounted(hostile_root: Path) -> None:
    """Writing the host's sysfs (the value it already has, so a failure of the test changes nothing) and mounting one both fail."""
    shown = _run_inside(hostile_root, f"v=$(cat /sys/class/net/lo/tx_queue_len) && echo $v > /sys/class/net/lo/tx_queue_len && echo {BROKE_OUT}-write; "
                                      f"mount -t sysfs sysfs /mnt 2>/dev/null && ls /mnt/class >/dev/null && echo {BROKE_OUT}-mount; "
                                      f"mount -t devtmpfs devtmpfs /mnt 2>/dev/null && echo {BROKE_OUT}-devtmpfs; true")
    assert BROKE_OUT not in shown, shown


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(node=markers, kind=st.sampled_from(["b", "c"]))
def test_no_host_disk_can_be_reached_through_dev(hostile_root: Path, node: str, kind: str) -> None:
    """The host's disks are not in /dev, and a node made for one (as block or char device) cannot be made."""
    name, major, minor = _host_disk()
    host_blocks = sorted(entry.name for entry in os.scandir("/dev") if stat.S_ISBLK(entry.stat(follow_symlinks=False).st_mode))
    probe = " ".join(f"/dev/{device}" for device in host_blocks)
    shown = _run_inside(hostile_root, f"for d in {probe}; do [ -e $d ] && echo {BROKE_OUT}-listed $d; done; "
                                      f"mknod /tmp/{node} {kind} {major} {minor} 2>/dev/null && echo {BROKE_OUT}-mknod; "
                                      f"head -c 512 /tmp/{node} 2>/dev/null | wc -c | grep -qv '^0$' && echo {BROKE_OUT}-read {name}; "
                                      f"rm -f /tmp/{node}; true")
    assert BROKE_OUT not in shown, shown


def test_the_image_gets_the_devices_programs_need(hostile_root: Path) -> None:
    """Containment is not breakage: /dev/null, /dev/zero, /dev/urandom, a pty and /dev/shm work inside."""
    shown = _run_inside(hostile_root, "echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c "
                                      "&& [ -c /dev/pts/ptmx ] && [ -L /dev/ptmx ] && touch /dev/shm/x && echo devices-ok; echo pid $$")
    assert "devices-ok" in shown and "pid 1" in shown, shown
