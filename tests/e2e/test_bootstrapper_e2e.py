"""mmdebstrap makes the image debootstrap makes, and the package index is downloaded once.

The session's cold build bootstraps with mmdebstrap (the default when it is
installed); here the same answers are built again with `--bootstrapper
debootstrap` from an empty cache of their own, and the two finished images
are compared: the same `dpkg-query -W`, and every file the same except those
benchmarks/image_content.IMAGE_DIFFERENCES names with a reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import Built, build

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from image_content import compare, ramdisk_listing

pytestmark = [pytest.mark.root, pytest.mark.e2e]


@contextmanager
def mounted(built: Built, tmp: Path) -> Iterator[Path]:
    """The built image, unpacked and mounted read-only."""
    folder = tmp / built.stem
    folder.mkdir(parents=True)
    subprocess.run(["tar", "-xf", str(built.tarball), "-C", str(folder)], check=True)
    image = folder / built.stem / f"{built.stem}.img"
    mount = folder / "mnt"
    mount.mkdir()
    subprocess.run(["mount", "-o", "loop,ro,nosuid,nodev,noexec", "--", str(image), str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--", str(mount)], check=True)


@pytest.fixture(scope="session")
def debootstrap_build(build_env, tmp_path_factory, cold_build) -> Built:
    env = dict(build_env, EMI_TUI_CACHE_DIR=str(tmp_path_factory.mktemp("debootstrap-cache")))
    return build(env, tmp_path_factory.mktemp("debootstrap"), version="2026.01.01", options=("--bootstrapper", "debootstrap"))


def test_preflight_says_which_bootstrapper_and_why(cold_build, debootstrap_build):
    assert "bootstrapper: mmdebstrap: mmdebstrap resolves with apt" in cold_build.stdout
    assert "bootstrapper: debootstrap: asked for with --bootstrapper" in debootstrap_build.stdout


def test_mmdebstrap_and_debootstrap_make_the_same_image(cold_build, debootstrap_build, tmp_path):
    with mounted(cold_build, tmp_path / "mm") as mm, mounted(debootstrap_build, tmp_path / "deb") as deb:
        same_packages, explained, unexplained = compare(deb, mm)
    assert same_packages, "dpkg-query -W differs between the debootstrap and the mmdebstrap image"
    assert unexplained == [], "differences with no reason in IMAGE_DIFFERENCES:\n" + "\n".join(unexplained)
    assert explained, "two builds always differ at least in /etc/image-id: the comparison read nothing"


def test_the_ramdisk_made_once_holds_what_the_ramdisk_made_twice_held(cold_build, debootstrap_build, tmp_path):
    """mmdebstrap's bootstrap makes the ramdisk once (INITRD=No, then update-initramfs); debootstrap's makes it twice."""
    ramdisks = []
    for built in (cold_build, debootstrap_build):
        folder = tmp_path / built.output.parent.name
        folder.mkdir()
        subprocess.run(["tar", "-xf", str(built.tarball), "-C", str(folder), "--wildcards", "*/kvm-kernel/initrd.img-*"], check=True)
        ramdisks.append(ramdisk_listing(next(folder.glob("*/kvm-kernel/initrd.img-*"))))
    assert len(ramdisks[0]) > 100, "the ramdisk was not read"
    assert ramdisks[0] == ramdisks[1]


def test_the_package_index_is_downloaded_once_by_preflight_and_never_by_apt(cold_build):
    log = (cold_build.output / f"{cold_build.stem}.build.log").read_text()
    assert "apt lists: preflight's checked index laid out for mmdebstrap's apt" in log
    assert "apt lists: preflight's checked index laid out in the root" in log
    index_downloads = [line for line in log.splitlines() if re.search(r"Get:\d+ \S+ \S+ (\S+ )?(Packages|Translation)", line)]
    assert index_downloads == [], index_downloads
    assert re.search(r"Get:\d+ \S+ bookworm InRelease", log), "apt fetched no InRelease: the check above proves nothing"


def test_the_cold_build_stores_its_base_in_the_background_and_the_rebuild_uses_it(cold_build, cached_build):
    assert re.search(r"cache: stored \w+ \(written in the background\)", cold_build.stdout)
    assert "cache: hit" in cached_build.stdout
