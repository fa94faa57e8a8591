"""The boot test's disk checks: a larger root disk (--root-size) that / must fill, and /dev/sdb for vd* images.

Fake tools stand in for QEMU, qemu-img and ssh: the fake guest prints what a
booted emi-tui image prints, and the fake ssh answers the in-guest inspection
with what a guest would say (df's size of /, where /dev/sdb leads). The image
is a real small ext3 file, with or without the udev rule that maps vd* disks,
so that the boot test reads that from the image itself.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from emi_tui import cli
from emi_tui.engine.boot.boottest import CHECK_NAMES, GROWN_CHECK, VD_CHECK, BootTest
from emi_tui.engine.image import layout
from emi_tui.engine.image.files import render_udev_rule
from emi_tui.engine.run import runner

GiB = 1024**3
IMAGE_BYTES = 8 * 1024**2


def fake_tools(folder: Path, inspection: str) -> Path:
    """Fake qemu-img (it logs its arguments), mke2fs, ssh-keygen, QEMU and ssh (it prints `inspection`)."""
    folder.mkdir()
    calls = folder / "qemu-img.args"
    tools = {
        "qemu-img": f'printf "%s\\n" "$*" >>{calls}\n',
        "mke2fs": "exit 0\n",
        "ssh-keygen": 'while [ $# -gt 1 ]; do [ "$1" = -f ] && key=$2; shift; done\necho private >"$key"\necho "ssh-ed25519 AAAAfake emi" >"$key.pub"\n',
        "qemu-system-x86_64": (
            "echo '[    0.000000] Linux version 6.1.0-fake'\n"
            "echo 'emi-rc.local: grow-root: 8.0 MB -> 4.0 GB (/ on /dev/vda)'\n"
            "echo 'emi-rc.local: done'\n"
            "echo 'emi-rc.local: user-data: ran'\n"
            "echo '[   9.000000] reboot: Power down'\n"
            "exec sleep 600\n"
        ),
        # The inspection prints its sections; anything else (the poweroff) prints nothing.
        "ssh": f'for last; do :; done\ncase $last in *--end*) cat {folder / "inspection"} ;; esac\n',
    }
    (folder / "inspection").write_text(inspection)
    for name, body in tools.items():
        (folder / name).write_text("#!/bin/sh\n" + body)
        (folder / name).chmod(0o755)
    return folder


def inspection(root_bytes: str, sdb: str) -> str:
    return (
        "--authorized_keys\nssh-ed25519 AAAAfake emi\n--ephemeral\n/dev/vdb\n--marker\n\n--hostkeys\n3\n"
        f"--image-id\nimage_stamp=1\n--root-size\n{root_bytes}\n--sdb\n{sdb}\n--end\n"
    )


def make_image(tmp_path: Path, rule: str | None) -> Path:
    """A small real ext3 image labelled as emi-tui's, holding the udev rule `rule` (None: no rule)."""
    tree = tmp_path / "tree"
    if rule is not None:
        (tree / layout.UDEV_RULE).parent.mkdir(parents=True)
        (tree / layout.UDEV_RULE).write_text(rule)
    tree.mkdir(exist_ok=True)
    image = tmp_path / "root.img"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", "-L", layout.ROOT_LABEL, "-d", str(tree), str(image), f"{IMAGE_BYTES // 1024}k"],
                   check=True, timeout=60)
    return image


@pytest.fixture
def boot(tmp_path, monkeypatch):
    """Run a boot test of a fresh image against the fake tools; returns (report, qemu-img's arguments)."""

    def run(rule: str | None, answers: str, root_size: int | None):
        image = make_image(tmp_path, rule)
        kernel, ramdisk = tmp_path / "vmlinuz", tmp_path / "initrd.img"
        kernel.write_bytes(b"k")
        ramdisk.write_bytes(b"r")
        tools = fake_tools(tmp_path / "bin", answers)
        monkeypatch.setitem(runner.BASE_ENV, "PATH", f"{tools}:{runner.BASE_ENV['PATH']}")
        monkeypatch.setenv("EMI_TUI_STATE_DIR", str(tmp_path / "state"))
        report = BootTest(image, kernel=kernel, ramdisk=ramdisk, accel="tcg", timeout=60, root_size=root_size,
                          console_log=tmp_path / "console.log").run()
        return report, (tools / "qemu-img.args").read_text().splitlines()

    return run


def test_a_larger_root_disk_is_given_and_a_grown_root_passes(boot):
    report, qemu_img = boot(render_udev_rule(), inspection(str(int(3.9 * GiB)), "/dev/vdb"), 4 * GiB)
    checks = {c.name: c for c in report.checks}
    assert [c.name for c in report.checks] == [*CHECK_NAMES, GROWN_CHECK, VD_CHECK]
    assert qemu_img[0].split()[-1] == str(4 * GiB)  # the overlay's virtual size, after the file name
    assert checks[GROWN_CHECK].passed and checks[GROWN_CHECK].detail == "/ is 3.9 GB on a 4.0 GB disk"
    assert checks[VD_CHECK].passed and checks[VD_CHECK].detail == "/dev/sdb -> /dev/vdb"


def test_a_root_that_did_not_grow_and_a_missing_sdb_fail(boot):
    report, _ = boot(render_udev_rule(), inspection(str(int(1.2 * GiB)), ""), 4 * GiB)
    checks = {c.name: c for c in report.checks}
    assert not report.ok
    assert not checks[GROWN_CHECK].passed and checks[GROWN_CHECK].detail == "/ is 1.2 GB, not about 4.0 GB"
    assert not checks[VD_CHECK].passed and "leads to nothing" in checks[VD_CHECK].detail


def test_without_root_size_or_vd_rule_neither_check_is_made(boot):
    report, qemu_img = boot(render_udev_rule(xvd=True, vd=False), inspection("", "/dev/sdb"), None)
    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    assert qemu_img[0].split()[-1].endswith("overlay.qcow2")  # no size: the image's own


def run_cli(tmp_path, monkeypatch, capsys, size: str) -> tuple[int, str]:
    image = make_image(tmp_path, None)
    code = cli.main(["boot-test", str(image), "--kernel", str(image), "--ramdisk", str(image), f"--root-size={size}"])
    printed = capsys.readouterr()
    return code, printed.out + printed.err


@pytest.mark.parametrize("size, said", [("4 gigs", "'4 gigs' is not a size"), ("-1G", "negative"), ("1M", "not larger than the image (8.0 MB)")])
def test_a_bad_root_size_is_one_message_and_exit_2(tmp_path, monkeypatch, capsys, size, said):
    monkeypatch.setenv("EMI_TUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr("emi_tui.commands.boot.require_tools", lambda *_: None)
    code, shown = run_cli(tmp_path, monkeypatch, capsys, size)
    assert code == 2, shown
    assert said in shown and "Traceback" not in shown
