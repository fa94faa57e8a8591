"""A real debian-based 1.3G build, cold and then from the cache, checked from the outside."""

from __future__ import annotations

import hashlib
import stat
import subprocess

import pytest

from emi_tui.engine.artifact.read import hygiene_checks
from emi_tui.engine.image import layout
from emi_tui.engine.review.review import check_stamp, review_paths
from emi_tui.engine.sizes import parse_size

from .checks import text_in

pytestmark = [pytest.mark.root, pytest.mark.e2e]




def test_cold_build_misses_the_cache_and_bootstraps(cold_build):
    assert "cache: miss" in cold_build.stdout
    assert "<== bootstrap: done" in cold_build.stdout


def test_cached_rebuild_skips_the_bootstrap(cached_build):
    assert "cache: hit" in cached_build.stdout
    assert "<== bootstrap: skipped" in cached_build.stdout


def test_artifacts_are_complete_and_nothing_partial_remains(cold_build):
    names = sorted(p.name for p in cold_build.output.iterdir())
    stem = cold_build.stem
    assert names == sorted([f"{stem}.tgz", f"{stem}.tgz.sha256", f"{stem}.manifest", f"{stem}.answers.yaml", f"{stem}.build.log"])
    digest = hashlib.sha256(cold_build.tarball.read_bytes()).hexdigest()
    assert (cold_build.output / f"{stem}.tgz.sha256").read_text() == f"{digest}  {stem}.tgz\n"
    manifest = dict(line.split("\t") for line in (cold_build.output / f"{stem}.manifest").read_text().splitlines())
    assert "openssh-server" in manifest and "linux-image-cloud-amd64" in manifest
    assert "man-db" not in manifest  # trimmed by the recipe
    assert "==> package" in (cold_build.output / f"{stem}.build.log").read_text()


def test_tarball_layout_is_the_starter_image_layout(unpacked, cold_build):
    image = unpacked / f"{cold_build.stem}.img"
    assert image.is_file()
    kernels = sorted(p.name for p in (unpacked / "kvm-kernel").iterdir())
    assert [k.split("-")[0] for k in kernels] == ["initrd.img", "vmlinuz"]
    assert kernels[0].removeprefix("initrd.img-") == kernels[1].removeprefix("vmlinuz-")


def test_image_is_a_clean_ext3_filesystem_of_the_chosen_size(unpacked, cold_build):
    image = unpacked / f"{cold_build.stem}.img"
    assert image.stat().st_size == parse_size("1.3G") // 1024 * 1024
    check = subprocess.run(["e2fsck", "-fn", str(image)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    info = subprocess.run(["dumpe2fs", "-h", str(image)], capture_output=True, text=True).stdout
    assert "has_journal" in info and "extent" not in info  # ext3, not ext4
    assert f"Filesystem volume name:   {layout.ROOT_LABEL}" in info


def test_image_id_is_stamped_at_utc_with_no_skew(unpacked, cold_build):
    text = text_in(unpacked / f"{cold_build.stem}.img", layout.IMAGE_ID)
    fields = dict(line.split("=", 1) for line in text.splitlines())
    values = {k: v.strip('"') for k, v in fields.items()}
    assert values["image_name"] == "euca-debian-emi" and values["recipe_name"] == "debian-based"
    assert values["image_file"] == f"{cold_build.stem}.img" and values["image_version"] == "2026.01.01"
    stamp = check_stamp(values["image_stamp"], values["image_date"])
    assert stamp.verified and stamp.utc_offset == "+00:00" and stamp.skew_s == 0


def test_review_reads_the_artifact_without_problems(cold_build):
    entries = review_paths([cold_build.tarball])
    assert len(entries) == 1
    entry = entries[0]
    assert entry.stamp_check.verified
    assert [p.message for p in entry.problems if p.severity == "error"] == []
    assert entry.answers and "recipe: debian-based" in entry.answers


def test_rc_local_is_executable_and_carries_the_chosen_options(unpacked, cold_build):
    image = unpacked / f"{cold_build.stem}.img"
    mode = subprocess.run(["debugfs", "-R", f"stat /{layout.RC_LOCAL}", str(image)], capture_output=True, text=True).stdout
    octal = int(mode.split("Mode:")[1].split()[0], 8)
    assert octal & stat.S_IXUSR
    rc_local = text_in(image, layout.RC_LOCAL)
    assert "public-keys/0/openssh-key" in rc_local and "/media/ephemeral0" in rc_local
    assert "local-hostname" in rc_local and "user-data" in rc_local
    assert "euca-udev" in text_in(image, layout.UDEV_RULE)
    assert "sd" in text_in(image, layout.EUCA_UDEV)
    assert f"LABEL={layout.ROOT_LABEL}" in text_in(image, layout.FSTAB)


def test_hygiene_checklist_passes(unpacked, cold_build):
    checks = hygiene_checks(unpacked / f"{cold_build.stem}.img")
    assert checks and all(check.ok for check in checks), [(c.name, c.detail) for c in checks if not c.ok]


def test_cached_rebuild_applies_its_own_answers(cached_build, tmp_path):
    subprocess.run(["tar", "-xf", str(cached_build.tarball), "-C", str(tmp_path)], check=True)
    image = tmp_path / cached_build.stem / f"{cached_build.stem}.img"
    assert "ec2-user" in text_in(image, layout.RC_LOCAL)
    manifest = (cached_build.output / f"{cached_build.stem}.manifest").read_text()
    assert "\nhtop\t" in "\n" + manifest
