"""A command of the boot test that runs past its timeout fails the boot test with a clear message, not a traceback.

Fake tools stand in for QEMU and ssh: the fake guest prints what a booted
emi-tui image prints, and the fake ssh never answers. The boot test must stop
the ssh at its timeout, stop the guest, clean up, and exit 1 naming ssh.
"""

from __future__ import annotations

from pathlib import Path

from emi_tui import cli
from emi_tui.engine.boot import boottest
from emi_tui.engine.run import runner

FAKE_TOOLS = {
    "qemu-img": "exit 0\n",
    "mke2fs": "exit 0\n",
    "dumpe2fs": "echo 'Filesystem volume name:   root'\necho 'Block count:              1'\n",  # the label the kernel command line names
    # ssh-keygen ... -f KEY: writes KEY and KEY.pub.
    "ssh-keygen": 'while [ $# -gt 1 ]; do [ "$1" = -f ] && key=$2; shift; done\necho private >"$key"\necho "ssh-ed25519 AAAAfake emi" >"$key.pub"\n',
    "qemu-system-x86_64": (
        "echo '[    0.000000] Linux version 6.1.0-fake'\n"
        "echo 'emi-rc.local: done'\n"
        "echo 'emi-rc.local: user-data: ran'\n"
        "exec sleep 600\n"
    ),
    "ssh": "exec sleep 600\n",  # a guest whose sshd accepts the connection and then never answers
}


def _fake_tools(folder: Path) -> Path:
    folder.mkdir()
    for name, body in FAKE_TOOLS.items():
        tool = folder / name
        tool.write_text("#!/bin/sh\n" + body)
        tool.chmod(0o755)
    return folder


def test_an_ssh_past_its_timeout_fails_the_boot_test_with_exit_1_naming_it(tmp_path, monkeypatch, capsys):
    tools = _fake_tools(tmp_path / "bin")
    # The children's PATH is the runner's own; the operator's PATH is what `require_tools` looked at before the runner.
    monkeypatch.setitem(runner.BASE_ENV, "PATH", f"{tools}:{runner.BASE_ENV['PATH']}")
    monkeypatch.setenv("PATH", f"{tools}:/usr/sbin:/usr/bin:/sbin:/bin")
    monkeypatch.setattr(boottest, "SSH_SECONDS", 1.0, raising=False)
    monkeypatch.setenv("EMI_TUI_STATE_DIR", str(tmp_path / "state"))
    image, kernel, ramdisk = (tmp_path / name for name in ("root.img", "vmlinuz", "initrd.img"))
    for path in (image, kernel, ramdisk):
        path.write_bytes(b"\0" * 4096)

    code = cli.main(["boot-test", str(image), "--kernel", str(kernel), "--ramdisk", str(ramdisk), "--accel", "tcg", "--timeout", "120"])

    printed = capsys.readouterr()
    assert code == 1, printed
    assert "boot test failed: ssh did not finish within 1 s" in printed.err, printed.err
    assert "Traceback" not in printed.out + printed.err
    logs = list((tmp_path / "state" / "logs").glob("*-root.console.log"))  # the log folder, never beside the image
    assert len(logs) == 1 and not (tmp_path / "root.console.log").exists(), logs
    assert logs[0].read_text().count("emi-rc.local: done") == 1
