"""How the boot test starts QEMU: each architecture's machine, and the argv of one boot.

The guest may be hostile: its network is QEMU's restricted user network, with
only SSH forwarded from the host's loopback and the metadata address forwarded
to the relay (emi_tui.engine.boot.relay); it writes only to a copy-on-write
overlay and a scratch ephemeral disk.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.boot.guest import GuestFiles


@dataclass(frozen=True)
class QemuMachine:
    """How QEMU boots one architecture's guest: the program, its machine options, the serial console's name, the package."""

    program: str
    options: tuple[str, ...]
    console: str
    package: str


#: image_arch -> its QEMU. aarch64 runs on the generic `virt` board: the kernel is given outside the image, so no
#: UEFI firmware is needed; cortex-a57 rather than `max`, whose pointer authentication TCG emulates slowly.
QEMU_MACHINES = {
    "x86_64": QemuMachine("qemu-system-x86_64", (), "ttyS0", "qemu-system-x86"),
    "i386": QemuMachine("qemu-system-i386", (), "ttyS0", "qemu-system-x86"),
    "aarch64": QemuMachine("qemu-system-aarch64", ("-M", "virt", "-cpu", "cortex-a57"), "ttyAMA0", "qemu-system-arm"),
}


def qemu_argv(guest: GuestFiles, overlay: Path, ephemeral: Path, label: str, accel: str, ssh_port: int, metadata_port: int,
              relay_slots: Path | None = None) -> list[str]:
    # -B: QEMU starts it as root for every request; it must write no bytecode into the installed package. QEMU splits
    # the command line as a shell would (hence the quoting), and it sits in a -netdev option, where a comma is doubled.
    slots = f" {shlex.quote(str(relay_slots))}" if relay_slots is not None else ""
    relay = f"{shlex.quote(sys.executable)} -B -m emi_tui.engine.boot.relay {metadata_port}{slots}".replace(",", ",,")
    netdev = (
        # restrict=on: the guest may be hostile, and without it the user network lets it reach every service
        # listening on the host's loopback (the host's address in the guest's network maps to 127.0.0.1) and
        # the outside. Only the two forwards below stay open, which QEMU keeps under restrict=on. The test
        # needs no IPv6 (ipv6=off): one address family less for the guest to try the host's loopback through.
        # The guestfwd address must lie inside the user network, so the guest's network is 169.254.169.0/24.
        f"user,id=net0,restrict=on,ipv6=off,net=169.254.169.0/24,guestfwd=tcp:169.254.169.254:80-cmd:{relay},"
        f"hostfwd=tcp:127.0.0.1:{ssh_port}-:22"
    )
    machine = QEMU_MACHINES.get(guest.arch, QEMU_MACHINES["x86_64"])
    return [
        machine.program, *machine.options, "-accel", accel, "-smp", "2", "-m", "1024", "-nodefaults", "-no-user-config",
        "-display", "none", "-serial", "stdio", "-no-reboot",
        "-kernel", str(guest.kernel), "-initrd", str(guest.ramdisk),
        "-append", f"root=LABEL={label} ro console={machine.console},115200 panic=-1",
        "-drive", f"file={overlay},if=virtio,format=qcow2",
        "-drive", f"file={ephemeral},if=virtio,format=raw",
        "-netdev", netdev, "-device", "virtio-net-pci,netdev=net0,romfile=",
    ]
