"""The boot test boots only an artifact's own regular image, kernel and ramdisk, never a member that is a link.

The attacker's artifact carries `kvm-kernel/vmlinuz-*` (named newest) and an
image member that are links to host files (a secret, the host's own kernel).
Whether the unpacking refuses such members or restores them, the boot test
must not pick a link: QEMU would read the host file it points at as root.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emi_tui.engine.boot.guest import extract_guest
from emi_tui.engine.errors import EmiError
from tests.security.artifacts import add_kernel_stand_ins

CHECKS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@CHECKS
@given(
    linked=st.sampled_from(["kernel", "ramdisk", "image"]),
    target=st.sampled_from(["absolute", "escaping"]),
    version=st.sampled_from(["9.9.9", "6.1.0-99-amd64", "10"]),
)
def test_the_boot_test_picks_no_linked_member(tmp_path_factory, linked, target, version):
    work = tmp_path_factory.mktemp("boot")
    secret = work / "host" / "secret"
    secret.parent.mkdir()
    secret.write_bytes(b"root:SECRET:19000:0:99999:7:::\n")
    image = work / "x.img"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", "-L", "cloudimg-rootfs", str(image), "8M"], check=True, capture_output=True, timeout=60)
    artifact = work / "x-1.tar.gz"
    hostile = {"kernel": f"x-1/kvm-kernel/vmlinuz-{version}", "ramdisk": f"x-1/kvm-kernel/initrd.img-{version}", "image": "x-1/zz-newest.img"}[linked]
    with tarfile.open(artifact, "w:gz") as tar:
        tar.add(image, "x-1/x-1.img")
        add_kernel_stand_ins(tar, "x-1/kvm-kernel")
        link = tarfile.TarInfo(hostile)
        link.type = tarfile.SYMTYPE
        link.linkname = str(secret) if target == "absolute" else "../" * 12 + str(secret).lstrip("/")
        tar.addfile(link)
    into = work / "into"
    into.mkdir()
    try:
        guest = extract_guest(artifact, into, None, None)
    except EmiError as exc:  # the unpacking may refuse the artifact outright: that is fine too
        assert "SECRET" not in str(exc)
        return
    for path in (guest.image, guest.kernel, guest.ramdisk):
        assert not path.is_symlink() and Path(path).resolve().is_relative_to(into.resolve()), path
    assert (guest.image.name, guest.kernel.name, guest.ramdisk.name) == ("x-1.img", "vmlinuz-6.1.0-9-amd64", "initrd.img-6.1.0-9-amd64")

