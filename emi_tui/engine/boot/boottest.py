"""Booting an image under QEMU with a metadata service, and proving that rc.local did its job.

The kernel and ramdisk are given outside the image (-kernel, -initrd,
root=LABEL=…) as a Eucalyptus node does with an EKI and ERI. The image is
never written: QEMU works on a copy-on-write overlay. A second blank disk is
ephemeral0. The guest's 169.254.169.254:80 reaches our service through
guestfwd's per-connection relay; its SSH port is forwarded to the loopback,
and the checks that need a look inside log in with the key the service served.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pexpect

from emi_tui.engine.image import layout
from emi_tui.engine.artifact.kinds import stem as artifact_stem
from emi_tui.engine.errors import EmiError
from emi_tui.engine.boot.guest import GuestFiles, extract_guest, free_port, ssh_argv
from emi_tui.engine.boot.metadata_service import InstanceData, MetadataServer

#: A working KVM prints the kernel banner in well under a second; a broken one prints nothing.
KVM_PROBE_SECONDS = 6


@dataclass
class Check:
    """One thing the boot test proves, with the seconds since QEMU started when it passed."""

    name: str
    passed: bool = False
    seconds: float | None = None
    detail: str = ""


CHECK_NAMES = (
    "kernel booted", "root filesystem mounted", "rc.local ran", "SSH key installed", "ephemeral0 mounted",
    "user-data ran", "SSH host keys regenerated", "/etc/image-id readable",
)


@dataclass
class BootReport:
    checks: list[Check]
    console_log: Path | None
    accel: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.passed for check in self.checks)


def qemu_argv(guest: GuestFiles, overlay: Path, ephemeral: Path, label: str, accel: str, ssh_port: int, metadata_port: int) -> list[str]:
    relay = f"{sys.executable} -m emi_tui.engine.boot.relay {metadata_port}"
    netdev = (
        # The guestfwd address must lie inside the user network, so the guest's network is 169.254.169.0/24.
        f"user,id=net0,net=169.254.169.0/24,guestfwd=tcp:169.254.169.254:80-cmd:{relay},"
        f"hostfwd=tcp:127.0.0.1:{ssh_port}-:22"
    )
    return [
        "qemu-system-x86_64", "-accel", accel, "-smp", "2", "-m", "1024", "-nodefaults", "-no-user-config",
        "-display", "none", "-serial", "stdio", "-no-reboot",
        "-kernel", str(guest.kernel), "-initrd", str(guest.ramdisk),
        "-append", f"root=LABEL={label} ro console=ttyS0,115200 panic=-1",
        "-drive", f"file={overlay},if=virtio,format=qcow2",
        "-drive", f"file={ephemeral},if=virtio,format=raw",
        "-netdev", netdev, "-device", "virtio-net-pci,netdev=net0,romfile=",
    ]


class BootTest:
    """One boot of one artifact; `run()` returns the report and always cleans up."""

    def __init__(self, artifact: Path, *, kernel: Path | None = None, ramdisk: Path | None = None, ssh_user: str = "root",
                 timeout: float = 240.0, accel: str = "auto", on_line: Callable[[str], None] = lambda _: None,
                 on_check: Callable[[Check], None] = lambda _: None, cancel: threading.Event | None = None,
                 console_log: Path | None = None):
        self.artifact, self.kernel, self.ramdisk = artifact, kernel, ramdisk
        self.ssh_user, self.timeout, self.accel = ssh_user, timeout, accel
        self.on_line, self.on_check = on_line, on_check
        self.cancel = cancel or threading.Event()
        self.console_log = console_log or artifact.with_name(artifact_stem(artifact.name) + ".console.log")
        self.checks = {name: Check(name) for name in CHECK_NAMES}
        self.marker = f"EMI-BOOT-TEST-{secrets.token_hex(6)}"
        self.notes: list[str] = []
        self.started = 0.0
        self.last_line = ""

    def _pass(self, name: str, detail: str = "") -> None:
        check = self.checks[name]
        if not check.passed:
            check.passed, check.seconds, check.detail = True, time.monotonic() - self.started, detail
            self.on_check(check)

    def _fail(self, name: str, detail: str) -> None:
        check = self.checks[name]
        if not check.passed:
            check.detail = detail
            self.on_check(check)

    def run(self) -> BootReport:
        began = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="emi-boot-") as scratch:
            tmp = Path(scratch)
            guest = extract_guest(self.artifact, tmp, self.kernel, self.ramdisk)
            overlay, ephemeral, key = tmp / "overlay.qcow2", tmp / "ephemeral0.img", tmp / "id_ed25519"
            _quiet(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(guest.image.resolve()), str(overlay)])
            with open(ephemeral, "wb") as blank:
                blank.truncate(256 * 1024**2)
            _quiet(["mke2fs", "-q", "-F", "-t", "ext3", str(ephemeral)])
            _quiet(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "emi-boot-test", "-f", str(key)])
            user_data = f"#!/bin/sh\necho {self.marker} >/root/emi-boot-test-marker\necho {self.marker} >/dev/console\n"
            data = InstanceData(public_key=(tmp / "id_ed25519.pub").read_text(), user_data=user_data.encode(), hostname="emi-boot-test", ephemeral_device="vdb")
            with MetadataServer(data, log=lambda line: self.on_line(f"metadata: {line}")) as server:
                accel = self._boot(guest, overlay, ephemeral, key, server.port)
        checks = list(self.checks.values())
        return BootReport(checks, self.console_log, accel, time.monotonic() - began, self.notes)

    def _spawn(self, argv: list[str], log) -> pexpect.spawn:
        child = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", codec_errors="replace", timeout=None, echo=False)
        child.logfile_read = log
        return child

    def _boot(self, guest: GuestFiles, overlay: Path, ephemeral: Path, key: Path, metadata_port: int) -> str:
        ssh_port = free_port()
        accels = ["kvm", "tcg"] if self.accel == "auto" and os.access("/dev/kvm", os.R_OK | os.W_OK) else [self.accel if self.accel != "auto" else "tcg"]
        with open(self.console_log, "w", encoding="utf-8", errors="replace") as log:
            for accel in accels:
                self.started = time.monotonic()
                child = self._spawn(qemu_argv(guest, overlay, ephemeral, guest.label, accel, ssh_port, metadata_port), log)
                try:
                    limit = KVM_PROBE_SECONDS if accel == "kvm" and len(accels) > 1 else self.timeout
                    if not self._expect(child, r"Linux version", limit):
                        why = f"QEMU exited: {self.last_line}" if not child.isalive() else f"no kernel message within {limit:.0f} s"
                        if accel == "kvm" and len(accels) > 1:
                            self.notes.append(f"KVM is not usable ({why}): falling back to TCG (software emulation)")
                            self.on_line(self.notes[-1])
                            continue
                        self._fail("kernel booted", why)
                        return accel
                    self._pass("kernel booted", f"under {accel.upper()}")
                    self._watch(child, key, ssh_port)
                    return accel
                finally:
                    _stop(child)
        return accels[-1]

    def _remaining(self) -> float:
        return max(0.0, self.timeout - (time.monotonic() - self.started))

    def _expect(self, child: pexpect.spawn, pattern: str, limit: float) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.cancel.is_set():
                raise EmiError("boot test cancelled")
            try:
                child.expect([pattern, r"\r?\n"], timeout=min(1.0, max(0.05, deadline - time.monotonic())))
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                return False
            line = (child.before or "").strip()
            if line:
                self._console(line)
            if child.match and child.match.re.pattern == pattern:
                return True
        return False

    def _console(self, line: str) -> None:
        self.last_line = line
        self.on_line(line)
        if "mounted filesystem" in line and ("vda" in line or "sda" in line):
            self._pass("root filesystem mounted", line.split("]", 1)[-1].strip())
        if self.marker in line:
            self._pass("user-data ran", "marker printed on the console")

    def _watch(self, child: pexpect.spawn, key: Path, ssh_port: int) -> None:
        if not self._expect(child, r"emi-rc\.local: done", self._remaining()):
            self._fail("rc.local ran", f"no 'emi-rc.local: done' on the console within {self.timeout:.0f} s")
            return
        self._pass("rc.local ran")
        # rc.local starts the user-data in the background and says "done" first.
        if self._expect(child, r"emi-rc\.local: user-data: (ran|not|none|no )", min(60.0, self._remaining())):
            self._console((child.after or "").strip())
        self._inspect(child, key, ssh_port)
        try:
            subprocess.run(ssh_argv(key, ssh_port, self.ssh_user, "sudo -n systemctl poweroff || systemctl poweroff"), capture_output=True, timeout=20)
        except subprocess.TimeoutExpired:
            pass
        self._expect(child, r"reboot: Power down", min(30.0, self._remaining() + 30))

    def _inspect(self, child: pexpect.spawn, key: Path, ssh_port: int) -> None:
        sudo = "" if self.ssh_user == "root" else "sudo -n "
        script = (
            "echo '--authorized_keys'; cat ~/.ssh/authorized_keys; "
            f"echo '--ephemeral'; {sudo}findmnt -n -o SOURCE /{layout.EPHEMERAL_MOUNT}; "
            f"echo '--marker'; {sudo}cat /root/emi-boot-test-marker; "
            "echo '--hostkeys'; ls /etc/ssh/ | grep -c '^ssh_host_.*_key$'; "
            f"echo '--image-id'; cat /{layout.IMAGE_ID}; echo '--end'"
        )
        output = ""
        deadline = time.monotonic() + min(90.0, max(30.0, self._remaining()))
        while time.monotonic() < deadline and "--end" not in output:
            done = subprocess.run(ssh_argv(key, ssh_port, self.ssh_user, script), capture_output=True, text=True, timeout=60)
            output = done.stdout
            if "--end" not in output:
                self._expect(child, r"\n", 2.0)  # keep reading the console while sshd comes up
        if "--end" not in output:
            self._fail("SSH key installed", f"could not log in as {self.ssh_user} with the served key")
            return
        sections = _sections(output)
        public = key.with_suffix(".pub").read_text().split()[1]
        if public in sections.get("authorized_keys", ""):
            self._pass("SSH key installed", f"logged in as {self.ssh_user} with the served key")
        sections_ephemeral = sections.get("ephemeral", "").strip()
        if sections_ephemeral:
            self._pass("ephemeral0 mounted", f"{sections_ephemeral} at /{layout.EPHEMERAL_MOUNT}")
        else:
            self._fail("ephemeral0 mounted", f"nothing mounted at /{layout.EPHEMERAL_MOUNT}")
        if self.marker in sections.get("marker", ""):
            self._pass("user-data ran", "its marker file is in /root")
        else:
            self._fail("user-data ran", "no marker from the user-data script")
        count = sections.get("hostkeys", "0").strip() or "0"
        if count.isdigit() and int(count) > 0:
            self._pass("SSH host keys regenerated", f"{count} host keys")
        else:
            self._fail("SSH host keys regenerated", "no /etc/ssh/ssh_host_*_key")
        if "image_stamp=" in sections.get("image-id", ""):
            self._pass("/etc/image-id readable", sections["image-id"].strip().splitlines()[0])
        else:
            self._fail("/etc/image-id readable", "no image_stamp in /etc/image-id")
        if self.ssh_user == "ec2-user":
            root = subprocess.run(ssh_argv(key, ssh_port, "root", "true"), capture_output=True, text=True, timeout=60)
            self.notes.append(f"root login answers: {root.stdout.strip().splitlines()[0] if root.stdout.strip() else '(nothing)'}")
            if "ec2-user" not in root.stdout:
                self.checks["SSH key installed"].passed = False
                self._fail("SSH key installed", "root does not answer with the 'login as ec2-user' message")


def _sections(output: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("--"):
            current = line[2:]
            sections[current] = ""
        elif current:
            sections[current] += line + "\n"
    return sections


def _quiet(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        tool = argv[0]
        raise EmiError(f"{tool} failed: {(done.stderr or done.stdout).strip()}", hint=f"is {tool} installed? (apt-get install qemu-utils openssh-client e2fsprogs)")


def _stop(child: pexpect.spawn) -> None:
    if child.isalive():
        child.terminate(force=True)
    child.close(force=True)


def require_tools() -> None:
    for tool, package in (("qemu-system-x86_64", "qemu-system-x86"), ("qemu-img", "qemu-utils"), ("ssh", "openssh-client"), ("ssh-keygen", "openssh-client")):
        if shutil.which(tool) is None:
            raise EmiError(f"{tool} is not installed", hint=f"apt-get install {package}")
