"""Kernels and ramdisks are copied out of an image's /boot only as the regular files they are, from inside the image.

The attacker writes the image a modify mounts (and whose programs it runs, so
/boot may change up to the kernel step). A /boot/vmlinuz-* named newest may be
a link to a host secret (absolute, `../../..`, a chain), /boot itself may be a
link to a host folder, a kernel may lead onto another filesystem mounted in
the root (the host's /proc is bound into a modify's chroot), or be a sparse
file claiming gigabytes. The build's and the modify's kernel steps must copy
nothing but the image's own regular files, at most 512 MiB each, and say
clearly when there is none.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emi_tui.engine.answers.recipes import KernelFiles
from emi_tui.engine.build import filesystem
from emi_tui.engine.errors import EmiError
from emi_tui.engine.modify import steps as modify_steps
from tests.security.planted import plant_escape

CHECKS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
REAL = {"vmlinuz-6.1.0-9-amd64": b"REAL-KERNEL\n", "initrd.img-6.1.0-9-amd64": b"REAL-RAMDISK\n"}
LIMIT = 512 << 20


def host_secret(where: Path) -> tuple[Path, bytes]:
    marker = f"SECRET-{uuid.uuid4().hex}".encode()
    secret = where / "host" / "secret"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"root:" + marker + b":19000:0:99999:7:::\n")
    return secret, marker


def job(root: Path, work: Path) -> SimpleNamespace:
    """What the kernel steps use of a build's or a modify's context."""
    artifact = work / "unpacked" / "artifact"  # where a modify unpacks it
    (artifact / "kvm-kernel").mkdir(parents=True)
    (artifact / "kvm-kernel" / "vmlinuz-old").write_bytes(b"OLD\n")
    notes: list[str] = []
    return SimpleNamespace(
        answers=SimpleNamespace(kernel=True), recipe=SimpleNamespace(kernel_files=KernelFiles()), dry_run=False,
        paths=SimpleNamespace(root=root, work=work, kernel_dir=work / "kernel"), facts={}, note=notes.append, notes=notes,
        survey=SimpleNamespace(kind="tarball"), image=artifact / "x.img",
    )


def everything_written(ctx: SimpleNamespace) -> list[Path]:
    folders = [ctx.paths.kernel_dir, ctx.image.parent / "kvm-kernel"]
    return [p for folder in folders if folder.is_dir() for p in folder.rglob("*") if p.is_file()]


def hostile_boot(root: Path, secret: Path, kind: str, which: str, depth: int, size: int) -> None:
    boot = root / "boot"
    name = "vmlinuz-9.9.9" if which == "kernel" else "initrd.img-9.9.9"
    up = "../" * (depth + 1)
    if kind == "boot is a link":
        host_boot = secret.parent / "boot"
        host_boot.mkdir()
        for real in REAL:
            (host_boot / real.replace("6.1.0-9", "9.9.9")).write_bytes(secret.read_bytes())
        boot.rename(root / "boot-real")
        boot.symlink_to(host_boot)
        return
    assert plant_escape(boot / name, kind, secret, up, size), kind


@CHECKS
@given(
    kind=st.sampled_from(["absolute link", "escaping link", "link chain", "boot is a link", "sparse"]),
    which=st.sampled_from(["kernel", "ramdisk"]),
    depth=st.integers(min_value=1, max_value=10),
    size=st.integers(min_value=LIMIT + 1, max_value=LIMIT + (64 << 20)),
)
def test_the_kernel_steps_copy_only_the_images_own_regular_files(tmp_path_factory, kind, which, depth, size):
    work = tmp_path_factory.mktemp("kernel")
    secret, marker = host_secret(work)
    root = work / "root"
    (root / "boot").mkdir(parents=True)
    for name, content in REAL.items():
        (root / "boot" / name).write_bytes(content)
    hostile_boot(root, secret, kind, which, depth, size)

    for step in (filesystem.kernel, modify_steps.kernel):  # the build's step, and the modify's around it
        ctx = job(root, work / step.__module__)
        try:
            said = str(step(ctx))
        except EmiError as exc:
            said = str(exc)
            assert kind in ("boot is a link", "sparse"), said
            assert ("not a real folder" in said or "no kernel matching" in said) if kind == "boot is a link" else "claims" in said, said
        written = everything_written(ctx)
        for path in written:
            assert marker not in path.read_bytes(), f"{path} holds the host secret"
            assert path.stat().st_blocks * 512 <= 1 << 20, f"{path} filled the disk"
        if kind not in ("boot is a link", "sparse"):
            assert {p.name: p.read_bytes() for p in written if p.parent == ctx.paths.kernel_dir} == REAL, said
        assert marker.decode() not in said + "".join(ctx.notes)


def test_a_kernel_on_another_filesystem_in_the_root_is_not_copied(tmp_path):
    """A modify's root has the host's /proc, /sys and /dev mounted in it: a /boot link into a mount there is refused."""
    root = tmp_path / "root"
    (root / "boot").mkdir(parents=True)
    (root / "mnt").mkdir()
    for name, content in REAL.items():
        (root / "boot" / name).write_bytes(content)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "emi-test", str(root / "mnt")], check=True)
    try:
        marker = f"SECRET-{uuid.uuid4().hex}".encode()
        (root / "mnt" / "host-file").write_bytes(marker)
        (root / "boot" / "vmlinuz-9.9.9").symlink_to("/mnt/host-file")
        (root / "boot" / "initrd.img-9.9.9").symlink_to("../mnt/host-file")
        ctx = job(root, tmp_path)
        said = filesystem.kernel(ctx)
    finally:
        subprocess.run(["umount", str(root / "mnt")], check=True)
    assert said == "vmlinuz-6.1.0-9-amd64, initrd.img-6.1.0-9-amd64"
    assert {p.name: p.read_bytes() for p in everything_written(ctx) if p.parent == ctx.paths.kernel_dir} == REAL


@pytest.mark.parametrize("inner", ["boot/vmlinuz-x", "etc/../../../boot/vmlinuz-x", "/boot/../../vmlinuz-y"])
def test_a_link_resolves_inside_the_root_as_after_a_chroot(tmp_path, inner):
    """Decided: a link is followed inside the root (an absolute target starts at the root, `..` stops there), never out of it."""
    from emi_tui.engine.image.inroot import read_in_root

    secret, marker = host_secret(tmp_path)
    root = tmp_path / "root"
    (root / "boot").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "boot" / "real").write_bytes(b"in the image\n")
    (root / "boot" / "vmlinuz-x").symlink_to("/boot/real")
    (root / "vmlinuz-y").symlink_to("../../../boot/vmlinuz-x")
    (root / "boot" / "escape").symlink_to(secret)  # resolves to ROOT/<secret path>, which is not there
    assert read_in_root(root, inner, 1024) == b"in the image\n"
    assert read_in_root(root, "boot/escape", 1024) is None
