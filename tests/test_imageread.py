"""Reading real ext3 images and starter-layout tarballs without mounting them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from emi_tui.engine.artifact.read import ImageReadError, hygiene_checks, inspect_image, read_from_image
from emi_tui.engine.artifact.tarball_read import read_from_artifact
from emi_tui.engine.image import layout
from emi_tui.engine.image.imageid import ImageId
from emi_tui.engine.review.review import review_paths

pytestmark = pytest.mark.skipif(
    not (shutil.which("mke2fs") and shutil.which("debugfs")), reason="needs mke2fs and debugfs (apt package e2fsprogs)"
)

NAME = "euca-debian-2026.11.28-x86_64"
IMAGE_ID = ImageId.stamped(
    name="euca-debian-emi", version="2026.11.28", arch="x86_64", file=f"{NAME}.img", recipe="debian-based", epoch_seconds=1795866735
).render()
ANSWERS = "version: 1\nrecipe: debian-based\n"
CHECKS = ["no SSH host keys", "host keys regenerated at boot", "no root shell history", "empty machine-id", "no package caches"]


def put(root: Path, inner: str, text: str = "") -> Path:
    path = root / inner
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def sealed_root(root: Path) -> Path:
    """The files of a clean image, as emi-tui leaves it."""
    put(root, layout.IMAGE_ID, IMAGE_ID)
    put(root, layout.ANSWERS, ANSWERS)
    put(root, layout.MACHINE_ID)
    put(root, "etc/ssh/sshd_config", "PermitRootLogin prohibit-password\n")
    put(root, layout.HOSTKEY_UNIT, "[Service]\nExecStart=/usr/bin/ssh-keygen -A\n")
    link = root / layout.HOSTKEY_UNIT_LINK
    link.parent.mkdir(parents=True)
    link.symlink_to(f"/{layout.HOSTKEY_UNIT}")
    (root / "root").mkdir()
    put(root, "var/cache/apt/archives/lock")
    (root / "var/cache/apt/archives/partial").mkdir()
    return root


def dirty_root(root: Path) -> Path:
    """A clean image after someone worked in it by hand."""
    sealed_root(root)
    put(root, "etc/ssh/ssh_host_ed25519_key", "secret\n")
    put(root, "etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA\n")
    put(root, "root/.bash_history", "apt-get install vim\n")
    put(root, layout.MACHINE_ID, "0123456789abcdef0123456789abcdef\n")
    put(root, "var/cache/apt/archives/vim_9.0_amd64.deb", "!<arch>\n")
    put(root, "var/cache/dnf/metadata_lock.pid", "1\n")
    (root / layout.HOSTKEY_UNIT_LINK).unlink()
    return root


def make_image(root: Path, img: Path) -> Path:
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", "-d", str(root), str(img), "16M"], check=True, capture_output=True)
    return img


@pytest.fixture
def clean_img(tmp_path) -> Path:
    return make_image(sealed_root(tmp_path / "clean"), tmp_path / f"{NAME}.img")


@pytest.fixture
def dirty_img(tmp_path) -> Path:
    return make_image(dirty_root(tmp_path / "dirty"), tmp_path / "dirty.img")


def starter_tarball(img: Path, folder: Path, suffix: str, compress: list[str]) -> Path:
    """The Eucalyptus starter layout: NAME/NAME.img and NAME/kvm-kernel/{vmlinuz,initrd.img}-*."""
    inner = folder / NAME
    (inner / "kvm-kernel").mkdir(parents=True)
    shutil.copy(img, inner / f"{NAME}.img")
    (inner / "kvm-kernel" / "vmlinuz-6.1.0-28-amd64").write_bytes(b"kernel")
    (inner / "kvm-kernel" / "initrd.img-6.1.0-28-amd64").write_bytes(b"initrd")
    artifact = folder / f"{NAME}{suffix}"
    subprocess.run(["tar", "--sparse", *compress, "-cf", str(artifact), "-C", str(folder), NAME], check=True, capture_output=True)
    return artifact


def test_read_a_file_an_absent_file_and_an_empty_file(clean_img):
    assert read_from_image(clean_img, layout.IMAGE_ID) == IMAGE_ID.encode()
    assert read_from_image(clean_img, "/" + layout.ANSWERS) == ANSWERS.encode()
    assert read_from_image(clean_img, "etc/nope") is None
    assert read_from_image(clean_img, layout.MACHINE_ID) == b""


def test_something_that_is_not_an_ext_image_raises_a_clear_error(tmp_path):
    junk = tmp_path / "junk.img"
    junk.write_bytes(os.urandom(70000))
    with pytest.raises(ImageReadError, match="not a readable ext2/3/4 image"):
        read_from_image(junk, layout.IMAGE_ID)
    with pytest.raises(ImageReadError):
        hygiene_checks(junk)


def test_a_sealed_image_passes_every_hygiene_check(clean_img):
    checks = hygiene_checks(clean_img)
    assert [c.name for c in checks] == CHECKS
    assert all(c.ok for c in checks), checks


def test_a_hand_worked_image_fails_every_hygiene_check(dirty_img):
    checks = {c.name: c for c in hygiene_checks(dirty_img)}
    assert not any(c.ok for c in checks.values())
    assert "/etc/ssh/ssh_host_ed25519_key, /etc/ssh/ssh_host_ed25519_key.pub" in checks["no SSH host keys"].detail
    # The unit is there, only its enabling link is missing.
    assert checks["host keys regenerated at boot"].detail.startswith(f"missing /{layout.HOSTKEY_UNIT_LINK}: ")
    assert "/root/.bash_history" in checks["no root shell history"].detail
    assert "33 bytes" in checks["empty machine-id"].detail
    detail = checks["no package caches"].detail
    assert "vim_9.0_amd64.deb" in detail and "/var/cache/dnf/" in detail and "lock" not in detail


def test_an_absent_machine_id_fails(tmp_path):
    root = sealed_root(tmp_path / "root")
    (root / layout.MACHINE_ID).unlink()
    checks = {c.name: c for c in hygiene_checks(make_image(root, tmp_path / "x.img"))}
    assert not checks["empty machine-id"].ok and "absent" in checks["empty machine-id"].detail


@pytest.mark.parametrize(
    "suffix, compress, tool", [(".tgz", ["-z"], "gzip"), (".tar.zst", ["--zstd"], "zstd"), (".tar.xz", ["-J"], "xz"), (".tar", [], "tar")]
)
def test_read_from_a_starter_layout_tarball(clean_img, tmp_path, monkeypatch, suffix, compress, tool):
    if not shutil.which(tool):
        pytest.skip(f"{tool} is not installed")
    artifact = starter_tarball(clean_img, tmp_path / "out", suffix, compress)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)  # so that tempfile reads TMPDIR again
    [facts] = read_from_artifact(artifact)
    assert facts.label == f"{NAME}/{NAME}.img"
    assert facts.image_id == IMAGE_ID.encode() and facts.answers == ANSWERS.encode()
    assert all(c.ok for c in facts.hygiene)
    assert list(scratch.iterdir()) == []  # the extracted image is gone


def test_an_artifact_without_an_image_or_broken_is_an_error(tmp_path):
    (tmp_path / "kvm-kernel").mkdir()
    (tmp_path / "kvm-kernel" / "initrd.img-6.1").write_bytes(b"x")
    empty = tmp_path / "no-image.tgz"
    subprocess.run(["tar", "-czf", str(empty), "-C", str(tmp_path), "kvm-kernel"], check=True)
    with pytest.raises(ImageReadError, match=r"holds no image \(\*\.img\)"):
        read_from_artifact(empty)
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(empty.read_bytes()[:20])
    with pytest.raises(ImageReadError, match="could not be read"):
        read_from_artifact(broken)


def test_review_of_an_image_and_its_tarball(clean_img, dirty_img, tmp_path):
    artifact = starter_tarball(clean_img, tmp_path / "out", ".tgz", ["-z"])
    bare, packed, dirty = review_paths([clean_img, artifact, dirty_img])
    assert bare.entry is None and packed.entry == f"{NAME}/{NAME}.img"
    for entry in (bare, packed):
        assert entry.fields["image_file"] == f"{NAME}.img" and entry.problems == [] and entry.ok
        assert (entry.stamp_check.utc_offset, entry.stamp_check.skew_s) == ("+00:00", 0)
        data = entry.to_json()
        assert list(data) == ["source", "entry", "fields", "stamp_check", "problems", "hygiene", "answers"]
        assert data["answers"] == ANSWERS and [h["name"] for h in data["hygiene"]] == CHECKS
    assert not dirty.ok and not any(h.ok for h in dirty.hygiene)
    # dirty.img is not the name its image-id gives.
    assert [(p.field, p.severity) for p in dirty.problems] == [("image_file", "warning")]


def test_a_folder_review_finds_the_image_and_the_tarball_but_not_the_initrd(clean_img, tmp_path):
    out = tmp_path / "out"
    starter_tarball(clean_img, out, ".tgz", ["-z"])
    entries = review_paths([out])
    assert sorted(Path(e.source).relative_to(out).as_posix() for e in entries) == [f"{NAME}.tgz", f"{NAME}/{NAME}.img"]
    assert all(e.ok for e in entries)


def test_review_of_images_that_cannot_be_read(tmp_path):
    junk = tmp_path / "junk.img"
    junk.write_bytes(os.urandom(5000))
    no_id = make_image(put(tmp_path / "root", "etc/hostname", "x\n").parent.parent, tmp_path / "no-id.img")
    bad, empty = review_paths([junk, no_id])
    assert bad.hygiene is None and "not a readable ext2/3/4 image" in bad.problems[0].message
    assert "has no /etc/image-id" in empty.problems[0].message and empty.hygiene is not None
    assert empty.answers is None and "answers" in empty.to_json()


def test_inspect_image_reads_everything_at_once(dirty_img):
    facts = inspect_image(dirty_img, label="x/dirty.img")
    assert facts.label == "x/dirty.img" and facts.image_id == IMAGE_ID.encode()
    assert [c.name for c in facts.hygiene] == CHECKS
