"""Boot tests under QEMU of the images the build tests made, and of one with a broken rc.local."""

from __future__ import annotations

import shutil
import socket
import threading
from contextlib import contextmanager

import pytest

from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.boot.boottest import CHECK_NAMES, GROWN_CHECK, VD_CHECK, BootTest
from emi_tui.engine.build import customize
from emi_tui.engine.build.job import BuildOptions, run_build
from emi_tui.engine.image import layout

pytestmark = [pytest.mark.root, pytest.mark.e2e]


@pytest.fixture(autouse=True)
def _qemu():
    if shutil.which("qemu-system-x86_64") is None or shutil.which("ssh") is None:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the boot tests, but QEMU or ssh is missing")
        pytest.skip("needs qemu-system-x86 and openssh-client")


#: The host's address in the guest's user network (169.254.169.0/24): QEMU maps it to the host's 127.0.0.1.
HOST_IN_GUEST_NETWORK = "169.254.169.2"
#: A TCP connect from inside the guest, as the guest's bash does it; prints which way it went.
GUEST_CONNECT = "timeout 10 bash -c 'exec 3<>/dev/tcp/{address}/{port}' 2>/dev/null && echo REACHED || echo BLOCKED"


class ProbingBootTest(BootTest):
    """The boot test, plus connects from inside the guest once it is up: to the metadata relay and to the host's loopback."""

    probe_port = 0
    answers: dict[str, str] = {}

    def _inspect(self, child, key, ssh_port):
        super()._inspect(child, key, ssh_port)
        for name, address, port in (("metadata", "169.254.169.254", 80), ("host loopback", HOST_IN_GUEST_NETWORK, self.probe_port)):
            self.answers[name] = self._ssh(self.ssh_user, GUEST_CONNECT.format(address=address, port=port), key, ssh_port).strip()


@contextmanager
def host_loopback_listener():
    """A TCP listener on the host's 127.0.0.1 that counts the connections it accepts (it stops with the block)."""
    accepted = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    done = threading.Event()

    def serve():
        while not done.is_set():
            try:
                connection, peer = server.accept()
            except TimeoutError:
                continue
            accepted.append(peer)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        done.set()
        thread.join(timeout=5)
        server.close()


def _boot(artifact, user: str, tmp_path, test_class=BootTest, imds: str = "v2", root_size=None):
    lines, ticks = [], []
    report = test_class(artifact, ssh_user=user, timeout=240, on_line=lines.append, on_check=ticks.append,
                        console_log=tmp_path / "console.log", imds=imds, root_size=root_size).run()
    return report, lines, ticks


def test_boot_test_passes_with_ssh_key_for_root(cold_build, tmp_path):
    with host_loopback_listener() as (port, accepted):
        probing = type("Probing", (ProbingBootTest,), {"probe_port": port, "answers": {}})
        # Against a service that refuses every request without an IMDSv2 session token, as EC2's HttpTokens=required.
        report, lines, ticks = _boot(cold_build.tarball, "root", tmp_path, probing, imds="v2-required")
    assert report.ok, [(c.name, c.detail) for c in report.checks if not c.passed]
    assert "the metadata service ran as v2-required; rc.local used IMDSv2 (with a session token)" in report.notes
    # The guest is contained (restrict=on): the forward it needs works, the host's loopback does not answer.
    assert probing.answers == {"metadata": "REACHED", "host loopback": "BLOCKED"}, probing.answers
    assert accepted == []
    # The image maps vd* disks (udev_vd is on by default), so /dev/sdb is checked too; its root disk is not larger.
    assert [c.name for c in report.checks] == [*CHECK_NAMES, VD_CHECK]
    assert [t.name for t in ticks if t.passed][0] == "kernel booted"  # ticked off live, in boot order
    assert all(c.seconds is not None and c.seconds < 240 for c in report.checks)
    assert any("emi-rc.local: ssh-key: installed for root" in line for line in lines)
    console_log = (tmp_path / "console.log").read_bytes().decode()  # bytes: read_text would turn a CR into a newline
    assert console_log.count("Linux version") >= 1
    # The guest's console is its own text: systemd colours it, and none of its escape sequences reach the log raw.
    assert "\x1b" not in console_log and "\r" not in console_log


def test_boot_test_passes_with_ssh_key_for_ec2_user(cached_build, tmp_path):
    # Against a v1-only service (the token request gets 405 and rc.local falls back to plain requests), with
    # a 4 GiB root disk, as a cloud gives a larger one than the 1.3 GB image: rc.local grows / at first boot.
    report, lines, _ = _boot(cached_build.tarball, "ec2-user", tmp_path, imds="v1", root_size=4 * 1024**3)
    assert report.ok, [(c.name, c.detail) for c in report.checks if not c.passed]
    assert "the metadata service ran as v1; rc.local used IMDSv1 (its token request got HTTP 405)" in report.notes
    assert any("ec2-user" in note for note in report.notes), report.notes
    checks = {c.name: c for c in report.checks}
    assert checks[GROWN_CHECK].passed and checks[VD_CHECK].passed, [(c.name, c.detail) for c in report.checks]
    grown = [line for line in lines if "emi-rc.local: grow-root: " in line]
    assert grown and " -> 4.0 GB (/ on /dev/vda)" in grown[0], grown


def test_an_image_with_a_broken_rc_local_fails_the_boot_test(cold_build, build_env, tmp_path, monkeypatch):
    # A real build whose rc.local claims success but does none of its work.
    for key in ("EMI_TUI_CACHE_DIR", "EMI_TUI_STATE_DIR", "XDG_DATA_HOME"):
        monkeypatch.setenv(key, build_env[key])
    real_files = customize.image_files

    def broken(metadata):
        files = dict(real_files(metadata))
        files[layout.RC_LOCAL] = ("#!/bin/sh\necho 'emi-rc.local: done' >/dev/console\nexit 0\n", 0o755)
        return files

    monkeypatch.setattr(customize, "image_files", broken)
    text = f"version: 1\nrecipe: debian-based\nimage: {{version: '2026.01.03'}}\noutput: {{dir: {tmp_path / 'out'}}}\n"
    checked = validate_bytes(text, "broken.yaml", RecipeBook())
    result = run_build(checked.answers, checked.recipe, lambda _: None, threading.Event(), BuildOptions())
    assert result.ok, result.message
    report, _, _ = _boot(result.artifacts[0], "root", tmp_path)
    assert not report.ok
    failed = {c.name for c in report.checks if not c.passed}
    assert {"SSH key installed", "ephemeral0 mounted", "user-data ran"} <= failed
