"""Booting an image under QEMU with a metadata service, and proving that rc.local did its job.

The kernel and ramdisk are given outside the image (-kernel, -initrd,
root=LABEL=…) as a Eucalyptus node does with an EKI and ERI. The image is
never written: QEMU works on a copy-on-write overlay, which may be given a
larger virtual size (`root_size`) as a cloud gives a larger root disk; the
guest then checks that / grew to fill it. A second blank disk is
ephemeral0; when the image maps vd* disks to sd* names, the guest checks
that it also answers as /dev/sdb. The guest's 169.254.169.254:80 reaches
our service through guestfwd's per-connection relay; its SSH port is
forwarded to the loopback, and the checks that need a look inside log in
with the key the service served.

Every command goes through the runner: QEMU through `start_process` (it runs
until the checks are done, then is stopped), the tools and ssh through
`run_captured` with a timeout. A command that runs past its timeout fails
the boot test with a message naming it (exit 1), never a traceback.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, cast

from emi_tui.engine import paths
from emi_tui.engine.artifact.kinds import stem as artifact_stem
from emi_tui.engine.artifact.read import ImageReadError, read_from_image
from emi_tui.engine.boot.guest import GuestFiles, extract_guest, free_port, ssh_argv
from emi_tui.engine.boot.metadata_service import InstanceData, MetadataServer
from emi_tui.engine.boot.qemu import QEMU_MACHINES, qemu_argv
from emi_tui.engine.boot.relay import make_slots
from emi_tui.engine.build.emulation import is_foreign
from emi_tui.engine.errors import EmiError, ExitCode
from emi_tui.engine.image import layout
from emi_tui.engine.run.runner import ENDED, TIMED_OUT, CommandTimedOut, Process, run_captured, start_process, which
from emi_tui.engine.safefs import create_new, private_folder
from emi_tui.engine.sizes import human
from emi_tui.engine.text import PrintableWriter, printable

#: A working KVM prints the kernel banner in well under a second; a broken one prints nothing.
KVM_PROBE_SECONDS = 6
#: qemu-img, mke2fs on the 256 MiB ephemeral disk, ssh-keygen: each takes a second or two.
TOOL_SECONDS = 120.0
#: One ssh into the guest (connecting is bounded apart by ConnectTimeout=10).
SSH_SECONDS = 60.0
#: The poweroff over ssh often never answers: the guest drops the connection as it goes down.
POWEROFF_SECONDS = 20.0
#: Where the emi_tui package being run lives, so the relay QEMU starts runs the same code.
_PACKAGE_ROOT = Path(__file__).resolve().parents[3]


#: rc.local's line that names how it reached the metadata service: "IMDSv2 (with a session token)", say.
IMDS_LINE = re.compile(r"emi-rc\.local: metadata: the service at \S+ answers, (IMDSv[12] \([^)]*\))")


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
#: Checked only with a larger root disk (`root_size`): df inside the guest says / fills it.
GROWN_CHECK = "root filesystem grown"
#: Checked only when the image's udev rule maps vd* disks: /dev/sdb leads to the ephemeral disk /dev/vdb.
VD_CHECK = "vd* disks answer as sd*"
#: How much smaller than its disk a grown / may look to df: the journal, inode tables and bitmaps are not counted.
GROWN_TOLERANCE = 0.08


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


class BootTest:
    """One boot of one artifact; `run()` returns the report and always cleans up."""

    def __init__(self, artifact: Path, *, kernel: Path | None = None, ramdisk: Path | None = None, ssh_user: str = "root",
                 timeout: float = 240.0, accel: str = "auto", on_line: Callable[[str], None] = lambda _: None,
                 on_check: Callable[[Check], None] = lambda _: None, cancel: threading.Event | None = None,
                 console_log: Path | None = None, imds: str = "v2",
                 root_size: int | None = None):
        self.artifact, self.kernel, self.ramdisk = artifact, kernel, ramdisk
        #: The metadata service's mode (metadata_service.IMDS_MODES), and what rc.local said it used.
        self.imds, self.imds_used = imds, ""
        self.root_size = root_size
        self.ssh_user, self.timeout, self.accel = ssh_user, timeout, accel
        self.on_line, self.on_check = on_line, on_check
        self.cancel = cancel or threading.Event()
        # In the private log folder, never beside the artifact: the output folder may be anyone's to plant links in.
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        self.console_log = console_log or paths.logs_dir() / f"{stamp}-{os.getpid()}-{artifact_stem(artifact.name)}.console.log"
        self.checks = {name: Check(name) for name in CHECK_NAMES + ((GROWN_CHECK,) if root_size else ())}
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
        """Boot, check, stop QEMU and remove the scratch files; a command past its timeout raises EmiError (exit 1)."""
        try:
            return self._run()
        except CommandTimedOut as exc:
            raise EmiError(f"boot test failed: {exc.message}", hint=exc.hint, exit_code=ExitCode.FAILED) from None

    def _run(self) -> BootReport:
        began = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="emi-boot-") as scratch:
            tmp = Path(scratch)
            guest = extract_guest(self.artifact, tmp, self.kernel, self.ramdisk)
            require_tools(guest.arch)  # the artifact says which QEMU it needs
            overlay, ephemeral, key = tmp / "overlay.qcow2", tmp / "ephemeral0.img", tmp / "id_ed25519"
            if _maps_vd_disks(guest.image):
                self.checks[VD_CHECK] = Check(VD_CHECK)
            self._quiet(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(guest.image.resolve()), "--", str(overlay),
                         *self._overlay_size(guest.image)])
            with open(ephemeral, "wb") as blank:
                blank.truncate(256 * 1024**2)
            self._quiet(["mke2fs", "-q", "-F", "-t", "ext3", "--", str(ephemeral)])
            self._quiet(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "emi-boot-test", "-f", str(key)])
            user_data = f"#!/bin/sh\necho {self.marker} >/root/emi-boot-test-marker\necho {self.marker} >/dev/console\n"
            data = InstanceData(public_key=(tmp / "id_ed25519.pub").read_text(), user_data=user_data.encode(), hostname="emi-boot-test", ephemeral_device="vdb")
            slots = make_slots(tmp / "relay-slots")
            with MetadataServer(data, log=lambda line: self.on_line(f"metadata: {line}"), imds=self.imds) as server:
                accel = self._boot(guest, overlay, ephemeral, key, server.port, slots)
        self.notes.append(f"the metadata service ran as {self.imds}; rc.local "
                          + (f"used {self.imds_used}" if self.imds_used else "did not say how it reached it"))
        checks = list(self.checks.values())
        return BootReport(checks, self.console_log, accel, time.monotonic() - began, self.notes)

    def _overlay_size(self, image: Path) -> list[str]:
        """The overlay's virtual size in bytes, as qemu-img's last argument: none keeps the image's own."""
        if self.root_size is None:
            return []
        image_size = image.stat().st_size
        if self.root_size <= image_size:
            raise EmiError(f"a root disk of {human(self.root_size)} is not larger than the image ({human(image_size)})",
                           hint=f"give a root size larger than {human(image_size)}, such as 4G")
        return [str(self.root_size)]

    def _quiet(self, argv: list[str]) -> None:
        """Run a preparation tool; its failure (not its timeout) means the host lacks something."""
        done = run_captured(argv, timeout=TOOL_SECONDS, cancel=self.cancel)
        if not done.ok:
            tool = argv[0]
            raise EmiError(f"{tool} failed: {(done.stderr or done.stdout).strip()}", hint=f"is {tool} installed? (apt-get install qemu-utils openssh-client e2fsprogs)")

    def _ssh(self, user: str, command: str, key: Path, ssh_port: int, timeout: float | None = None) -> str:
        """What `command` printed when run in the guest as `user` (stdout only); `timeout` defaults to SSH_SECONDS."""
        argv = ssh_argv(key, ssh_port, user, command)
        return run_captured(argv, timeout=SSH_SECONDS if timeout is None else timeout, cancel=self.cancel).stdout

    def _boot(self, guest: GuestFiles, overlay: Path, ephemeral: Path, key: Path, metadata_port: int, relay_slots: Path) -> str:
        ssh_port = free_port()
        # KVM runs only this machine's own arches (an i386 guest on x86_64 too); any other guest is emulated (TCG).
        kvm = self.accel == "auto" and not is_foreign(guest.arch) and os.access("/dev/kvm", os.R_OK | os.W_OK)
        accels = ["kvm", "tcg"] if kvm else [self.accel if self.accel != "auto" else "tcg"]
        if self.console_log.parent == paths.logs_dir():
            private_folder(self.console_log.parent)
        # Always a new file, never through a symlink, wherever the caller put it.
        with os.fdopen(create_new(self.console_log, 0o600), "w", encoding="utf-8", errors="replace") as log_file:
            # pexpect's log needs only write and flush; the guest's bytes reach the file escaped.
            log = cast(TextIO, PrintableWriter(log_file))
            for accel in accels:
                self.started = time.monotonic()
                argv = qemu_argv(guest, overlay, ephemeral, guest.label, accel, ssh_port, metadata_port, relay_slots)
                child = start_process(argv, env={"PYTHONPATH": str(_PACKAGE_ROOT)}, log=log)
                try:
                    limit = KVM_PROBE_SECONDS if accel == "kvm" and len(accels) > 1 else self.timeout
                    if not self._expect(child, r"Linux version", limit):
                        why = f"QEMU exited: {self.last_line}" if not child.is_alive() else f"no kernel message within {limit:.0f} s"
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
                    child.stop()
                    log.close()
        return accels[-1]

    def _remaining(self) -> float:
        return max(0.0, self.timeout - (time.monotonic() - self.started))

    def _expect(self, child: Process, pattern: str, limit: float) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.cancel.is_set():
                raise EmiError("boot test cancelled")
            found = child.expect([pattern, r"\r?\n"], timeout=min(1.0, max(0.05, deadline - time.monotonic())))
            if found == TIMED_OUT:
                continue
            if found == ENDED:
                return False
            line = child.before.strip()
            if line:
                self._console(line)
            if found == 0:
                return True
        return False

    def _console(self, line: str) -> None:
        # The guest writes what it likes to its console: colours are dropped, and any other escape sequence
        # or control character is made visible here, once, so no renderer (CLI, TUI, a message naming the
        # last line) passes it on.
        line = printable(line, drop_colours=True)
        self.last_line = line
        self.on_line(line)
        if "mounted filesystem" in line and ("vda" in line or "sda" in line):
            self._pass("root filesystem mounted", line.split("]", 1)[-1].strip())
        if self.marker in line:
            self._pass("user-data ran", "marker printed on the console")
        if (found := IMDS_LINE.search(line)) is not None:
            self.imds_used = found[1]

    def _watch(self, child: Process, key: Path, ssh_port: int) -> None:
        if not self._expect(child, r"emi-rc\.local: done", self._remaining()):
            self._fail("rc.local ran", f"no 'emi-rc.local: done' on the console within {self.timeout:.0f} s")
            return
        self._pass("rc.local ran")
        # rc.local starts the user-data in the background and says "done" first.
        if self._expect(child, r"emi-rc\.local: user-data: (ran|not|none|no )", min(60.0, self._remaining())):
            self._console(child.after.strip())
        self._inspect(child, key, ssh_port)
        try:
            self._ssh(self.ssh_user, "sudo -n systemctl poweroff || systemctl poweroff", key, ssh_port, POWEROFF_SECONDS)
        except CommandTimedOut:
            pass
        self._expect(child, r"reboot: Power down", min(30.0, self._remaining() + 30))

    def _inspect(self, child: Process, key: Path, ssh_port: int) -> None:
        sudo = "" if self.ssh_user == "root" else "sudo -n "
        script = (
            "echo '--authorized_keys'; cat ~/.ssh/authorized_keys; "
            f"echo '--ephemeral'; {sudo}findmnt -n -o SOURCE /{layout.EPHEMERAL_MOUNT}; "
            f"echo '--marker'; {sudo}cat /root/emi-boot-test-marker; "
            "echo '--hostkeys'; ls /etc/ssh/ | grep -c '^ssh_host_.*_key$'; "
            f"echo '--image-id'; cat /{layout.IMAGE_ID}; "
            "echo '--root-size'; df -B1 --output=size / | tail -n 1; "
            "echo '--sdb'; [ -e /dev/sdb ] && readlink -f /dev/sdb; echo '--end'"
        )
        output = ""
        deadline = time.monotonic() + min(90.0, max(30.0, self._remaining()))
        while time.monotonic() < deadline and "--end" not in output:
            output = self._ssh(self.ssh_user, script, key, ssh_port)
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
        count = _number(sections.get("hostkeys", ""))
        if count:
            self._pass("SSH host keys regenerated", f"{count} host keys")
        else:
            self._fail("SSH host keys regenerated", "no /etc/ssh/ssh_host_*_key")
        if "image_stamp=" in sections.get("image-id", ""):
            self._pass("/etc/image-id readable", printable(sections["image-id"].strip().splitlines()[0]))
        else:
            self._fail("/etc/image-id readable", "no image_stamp in /etc/image-id")
        self._check_disks(sections)
        if self.ssh_user == "ec2-user":
            root = self._ssh("root", "true", key, ssh_port)
            self.notes.append(f"root login answers: {printable(root.strip().splitlines()[0]) if root.strip() else '(nothing)'}")
            if "ec2-user" not in root:
                self.checks["SSH key installed"].passed = False
                self._fail("SSH key installed", "root does not answer with the 'login as ec2-user' message")

    def _check_disks(self, sections: dict[str, str]) -> None:
        """The checks of the disks as the guest sees them: / grown to its larger disk, /dev/sdb leading to /dev/vdb."""
        if self.root_size:
            size = _number(sections.get("root-size", ""))
            if size is not None and (1 - GROWN_TOLERANCE) * self.root_size <= size <= self.root_size:
                self._pass(GROWN_CHECK, f"/ is {human(size)} on a {human(self.root_size)} disk")
            else:
                seen = human(size) if size is not None else "not known"
                self._fail(GROWN_CHECK, f"/ is {seen}, not about {human(self.root_size)}")
        if VD_CHECK in self.checks:
            target = printable(sections.get("sdb", "").strip())
            if target == "/dev/vdb":
                self._pass(VD_CHECK, "/dev/sdb -> /dev/vdb")
            else:
                self._fail(VD_CHECK, f"/dev/sdb leads to {target or 'nothing'}, not to /dev/vdb")


def _number(text: str) -> int | None:
    """The whole number a guest's program printed (df, grep -c), or None for anything else.

    The guest owns those programs: `str.isdigit` also takes "²" or thousands of digits, which `int` refuses.
    """
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 20 else None


def _maps_vd_disks(image: Path) -> bool:
    """Whether the image's udev rule gives vd* disks their sd* names (emi-tui writes it with the udev_vd option)."""
    try:
        rule = read_from_image(image, layout.UDEV_RULE)
    except ImageReadError:
        return False
    return rule is not None and any(line.startswith(b'KERNEL=="vd') for line in rule.splitlines())


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


def require_tools(arch: str | None = "x86_64") -> None:
    """EmiError naming the package, unless QEMU for `arch` and the other tools the boot test runs are installed.

    `arch` None checks only the tools every boot needs: what the CLI can check before it has read the artifact.
    """
    tools = [("qemu-img", "qemu-utils"), ("ssh", "openssh-client"), ("ssh-keygen", "openssh-client")]
    if arch is not None:
        machine = QEMU_MACHINES.get(arch)
        if machine is None:
            raise EmiError(f"the boot test cannot boot a {arch} image", hint=f"it boots {', '.join(QEMU_MACHINES)} images")
        tools.insert(0, (machine.program, machine.package))
    for tool, package in tools:
        if which(tool) is None:
            raise EmiError(f"{tool} is not installed", hint=f"apt-get install {package}")
