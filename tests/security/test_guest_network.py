"""The boot test's guest network: QEMU's user network with restrict=on and only the two forwards the test needs.

Without restrict=on the user network routes the guest to the outside and maps
the host's address in the guest's network to the host's 127.0.0.1, so a
hostile guest reached every service that listens only there. QEMU keeps
explicit forwards under restrict=on (qemu-system docs: "This option does not
affect any explicitly set forwarding rules"), and the real boot in
tests/e2e/test_boot_e2e.py shows both still work and the host's loopback does not.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from emi_tui.engine.boot.boottest import qemu_argv
from emi_tui.engine.boot.guest import GuestFiles

from .hostile import SECURITY

GUEST = GuestFiles(Path("/w/image.img"), Path("/w/vmlinuz"), Path("/w/initrd.img"), "emi-root")


def _netdev_options(argv: list[str]) -> list[tuple[str, str]]:
    """The -netdev's options as (key, value) pairs, in order; its type comes first as ("type", "user")."""
    values = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-netdev"]
    assert len(values) == 1, values
    kind, *options = values[0].split(",")
    return [("type", kind)] + [tuple(option.split("=", 1)) for option in options]  # type: ignore[misc]


@SECURITY
@given(ssh_port=st.integers(1024, 65535), metadata_port=st.integers(1024, 65535), accel=st.sampled_from(["kvm", "tcg"]))
def test_the_guest_network_is_restricted_with_exactly_the_needed_forwards(ssh_port: int, metadata_port: int, accel: str) -> None:
    argv = qemu_argv(GUEST, Path("/w/overlay.qcow2"), Path("/w/ephemeral0.img"), "emi-root", accel, ssh_port, metadata_port)
    options = _netdev_options(argv)
    keys = [key for key, _ in options]
    assert ("type", "user") in options and ("restrict", "on") in options and ("ipv6", "off") in options
    assert keys.count("restrict") == 1 and keys.count("ipv6") == 1
    # The forwards: ssh from the host's loopback only, and the metadata address to our relay; nothing else.
    assert [value for key, value in options if key == "hostfwd"] == [f"tcp:127.0.0.1:{ssh_port}-:22"]
    guestfwds = [value for key, value in options if key == "guestfwd"]
    assert len(guestfwds) == 1 and re.fullmatch(rf"tcp:169\.254\.169\.254:80-cmd:\S+ -B -m emi_tui\.engine\.boot\.relay {metadata_port}", guestfwds[0])
    assert not set(keys) & {"smb", "tftp", "bootfile", "ipv6-net", "ipv6-host"}, keys
    # No second way onto a network.
    assert not {"-net", "-nic"} & set(argv) and argv.count("-netdev") == 1
