"""rc.local's grow-root step, run in the sandbox against a file-backed ext3 "disk".

The root "disk" is a regular file bigger than the ext3 filesystem made on it
(`truncate`, then `mke2fs` with a smaller size). The sandbox's mountinfo says
/ is that disk's device number, its /sys/dev/block entry gives the disk's
name and size, and DEV_DIR/vda points at the file, so the step's real
dumpe2fs and resize2fs work on the file (offline) and nothing else.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from rclocal_sandbox import ALL_OFF, MAIN_CALL, Sandbox, closed_port_url, log_call

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.image import rclocal
from emi_tui.engine.image.files import render_rc_local
from emi_tui.engine.sizes import human

MiB = 1024**2
MAJMIN = "254:0"


def grow_only(**options) -> Metadata:
    return Metadata(**{**ALL_OFF, "grow_root": True, "url": closed_port_url(), **options})


def make_disk(path: Path, disk_bytes: int, fs_bytes: int) -> Path:
    """A file of `disk_bytes` holding an ext3 filesystem of `fs_bytes` (4 KiB blocks, with mke2fs's resize_inode)."""
    subprocess.run(["truncate", "-s", str(disk_bytes), str(path)], check=True, timeout=30)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", "-b", "4096", "-L", "emi-root", str(path), str(fs_bytes // 4096)],
                   check=True, timeout=60)
    return path


def fs_size(path: Path) -> int:
    """Block count x block size, as the superblock of the filesystem in `path` says."""
    out = subprocess.run(["dumpe2fs", "-h", str(path)], capture_output=True, text=True, check=True, timeout=30).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return int(fields["Block count"]) * int(fields["Block size"])


def root_on(sandbox: Sandbox, disk: Path, fstype: str = "ext3") -> str:
    """Make `disk` the sandbox's root disk "vda": mountinfo, /sys/dev/block and DEV_DIR all say so."""
    sandbox.path("/proc/self/mountinfo").write_text(f"22 1 {MAJMIN} / / rw,relatime shared:1 - {fstype} /dev/root rw,errors=remount-ro\n")
    sys_entry = sandbox.path(f"/sys/dev/block/{MAJMIN}")
    sys_entry.mkdir(parents=True)
    (sys_entry / "size").write_text(f"{disk.stat().st_size // 512}\n")
    (sys_entry / "uevent").write_text("MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\nDISKSEQ=9\n")
    sandbox.path("/dev/vda").symlink_to(disk)
    return str(sandbox.path("/dev/vda"))


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    box = Sandbox(tmp_path / "sandbox")
    box.log_calls_to("resize2fs")
    return box


def test_a_bigger_disk_is_filled_and_the_console_says_before_and_after(sandbox, tmp_path):
    disk = make_disk(tmp_path / "disk.img", 64 * MiB, 24 * MiB)
    dev = root_on(sandbox, disk)
    run = sandbox.run(grow_only())
    assert run.returncode == 0
    assert f"emi-rc.local: grow-root: 24.0 MB -> 64.0 MB (/ on {dev})" in run.out
    assert run.called("resize2fs") == [f"resize2fs {dev}"]
    assert fs_size(disk) == 64 * MiB
    # What resize2fs made is a sound filesystem, not only a bigger number.
    check = subprocess.run(["e2fsck", "-f", "-n", str(disk)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    # Without the metadata options nothing is asked of the service, and the script says so.
    assert "emi-rc.local: metadata: not asked, no option needs it" in run.out
    assert run.out.rstrip().endswith("emi-rc.local: done")


def test_a_filesystem_that_fills_its_disk_is_left_alone(sandbox, tmp_path):
    disk = make_disk(tmp_path / "disk.img", 64 * MiB, 64 * MiB)
    dev = root_on(sandbox, disk)
    run = sandbox.run(grow_only())
    assert f"emi-rc.local: grow-root: / already fills {dev} (64.0 MB), nothing to grow" in run.out
    assert run.called("resize2fs") == []
    assert fs_size(disk) == 64 * MiB


def test_a_few_spare_megabytes_are_not_worth_a_resize(sandbox, tmp_path):
    spare = rclocal.GROW_MIN // 2
    disk = make_disk(tmp_path / "disk.img", 64 * MiB + spare, 64 * MiB)
    root_on(sandbox, disk)
    run = sandbox.run(grow_only())
    assert "nothing to grow" in run.out and run.called("resize2fs") == []
    assert fs_size(disk) == 64 * MiB


def test_it_grows_first_even_when_the_metadata_service_never_answers(sandbox, tmp_path):
    disk = make_disk(tmp_path / "disk.img", 48 * MiB, 24 * MiB)
    root_on(sandbox, disk)
    run = sandbox.run(grow_only(ssh_key="root"), settings={"CONTACT_BUDGET": "1", "CONTACT_TRIES": "1", "CONTACT_PAUSE": "0"})
    lines = [line for line in run.out.splitlines() if line.startswith("emi-rc.local: ")]
    assert lines[:2] == ["emi-rc.local: start", f"emi-rc.local: grow-root: 24.0 MB -> 48.0 MB (/ on {sandbox.path('/dev/vda')})"]
    assert any("ssh-key: skipped, no answer from the metadata service" in line for line in lines)
    assert fs_size(disk) == 48 * MiB


def test_a_root_that_is_not_ext_is_not_touched(sandbox, tmp_path):
    disk = make_disk(tmp_path / "disk.img", 64 * MiB, 24 * MiB)
    root_on(sandbox, disk, fstype="btrfs")
    run = sandbox.run(grow_only())
    assert "emi-rc.local: grow-root: / is btrfs, not an ext file system, not grown" in run.out
    assert run.called("resize2fs") == [] and fs_size(disk) == 24 * MiB


def test_an_unknown_root_device_is_said_and_skipped(sandbox):
    # The sandbox's own mountinfo names a device number that /sys/dev/block does not know.
    run = sandbox.run(grow_only())
    assert "emi-rc.local: grow-root: cannot find the disk of / (259:99), not grown" in run.out
    assert run.called("resize2fs") == [] and run.returncode == 0


def test_a_failing_resize2fs_is_reported_and_the_boot_goes_on(sandbox, tmp_path):
    disk = make_disk(tmp_path / "disk.img", 64 * MiB, 24 * MiB)
    dev = root_on(sandbox, disk)
    failing = sandbox.stubs / "resize2fs"
    failing.write_text(f"#!/bin/sh\n{log_call('resize2fs')}\nexit 1\n")
    run = sandbox.run(grow_only())
    assert len(run.called("resize2fs")) == 1
    assert f"emi-rc.local: grow-root: resize2fs could not grow / on {dev}, it stays 24.0 MB" in run.out
    assert run.out.rstrip().endswith("emi-rc.local: done") and run.returncode == 0


def test_with_grow_root_off_nothing_is_resized(sandbox, tmp_path):
    disk = make_disk(tmp_path / "disk.img", 64 * MiB, 24 * MiB)
    root_on(sandbox, disk)
    run = sandbox.run(Metadata(**ALL_OFF))
    assert "grow-root" not in run.out and "nothing to do: every metadata option is off" in run.out
    assert run.called("resize2fs") == [] and fs_size(disk) == 24 * MiB


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 600 * MiB, int(1.3 * 1024**3), 4 * 1024**3, 3 * 1024**4])
def test_console_sizes_are_in_the_one_unit_style(tmp_path, size):
    functions = render_rc_local(grow_only()).rpartition(MAIN_CALL)[0]
    library = tmp_path / "functions.sh"
    library.write_text(functions + "\n")
    said = subprocess.run(["sh", "-c", f'. "$1"; size_words {size}', "sh", str(library)], capture_output=True, text=True, timeout=30)
    assert said.stdout == human(size) + "\n"
