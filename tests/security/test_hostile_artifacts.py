"""Artifacts are hostile until surveyed: every unsafe member is refused before anything is unpacked or run.

Each artifact is crafted at test time (tests/security/artifacts.py): member
names that would be tar options running a command, "..", absolute names,
control characters, symbolic and hard links (a symlinked kvm-kernel/), devices
and fifos, several images, huge declared sizes. Each is refused as bad input:
exit code 2, one line naming the member escaped, no marker created, nothing
written outside. The CLI (`modify`, `modify --dry-run`, `review`), the survey,
the boot test's unpacking and the wizard's artifact picker are all tried.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emi_tui.cli import main
from emi_tui.engine.artifact.survey import survey_artifact
from emi_tui.engine.boot.guest import extract_guest
from emi_tui.engine.errors import EmiError
from tests.security.artifacts import (
    COMMAND_OPTIONS,
    TOP,
    Entry,
    compressions,
    craft,
    image_bytes,
    layout,
    link_places,
    link_targets,
    special_types,
    unsafe_names,
)
from tests.security.hostile import SECURITY, unsafe_characters

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="crafts and unpacks as root, as emi-tui runs")

FEW = SECURITY.__class__(SECURITY, max_examples=25)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return image_bytes(tmp_path_factory.mktemp("image"))


def one_line_refusal(text: str) -> str:
    """The error line of what the CLI printed; it must be one line, with nothing a terminal would act on."""
    assert not unsafe_characters(text), repr(text)
    errors = [line for line in text.splitlines() if line.startswith("emi-tui: error:")]
    assert len(errors) == 1, text
    assert "Traceback" not in text
    return errors[0]


def cli(printed, *argv: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    return code, printed()


def folder_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under `folder` with its type bits and size: what a modify must not have changed."""
    return {str(p.relative_to(folder)): (p.lstat().st_mode, p.lstat().st_size) for p in sorted(folder.rglob("*"))}


# --- names that would be options, escape the folder, or break a message


@given(data=st.data(), compress=compressions)
@FEW
def test_the_survey_refuses_every_unsafe_name_with_one_escaped_line(tmp_path_factory, image, data, compress):
    folder = tmp_path_factory.mktemp("names")
    marker = folder / "PWNED"
    name = data.draw(unsafe_names(str(marker)))
    artifact = craft(folder / "artifact", [*layout(image), Entry(name, b"x")], compress)
    with pytest.raises(EmiError) as refused:
        survey_artifact(artifact)
    message = refused.value.message
    assert "\n" not in message and not unsafe_characters(message), repr(message)
    assert refused.value.exit_code == 2 and refused.value.hint
    assert not marker.exists()


@pytest.mark.parametrize("option", COMMAND_OPTIONS)
def test_no_member_name_becomes_a_tar_option_in_a_dry_run_a_modify_or_a_review(tmp_path, image, printed, monkeypatch, option):
    """The names that ran a command as root at e53a9da: refused, exit 2, the marker never created, nothing written."""
    monkeypatch.setenv("EMI_TUI_WORK_DIR", str(tmp_path / "work"))
    marker = tmp_path / "PWNED"
    name = option.format(marker=marker)
    artifact = craft(tmp_path / "starter", [*layout(image), Entry(name, b"x"), Entry(f"{TOP}/{name}", b"x")])
    output = tmp_path / "out"
    output.mkdir()
    for argv in (["modify", "--dry-run", str(artifact)], ["modify", str(artifact), "--output", str(output)], ["review", str(artifact)]):
        code, text = cli(printed, *argv)
        line = one_line_refusal(text)
        assert code == 2, (argv, text)
        assert "starting with '-'" in line, (argv, line)
        assert not marker.exists(), argv
    assert list(output.iterdir()) == []
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").rglob("*.img"))


# --- links, devices and fifos


@given(data=st.data(), compress=compressions)
@FEW
def test_links_devices_and_fifos_are_refused_wherever_they_sit(tmp_path_factory, image, data, compress):
    folder = tmp_path_factory.mktemp("links")
    kind, place, target = data.draw(special_types), data.draw(link_places), data.draw(link_targets)
    entries = [entry for entry in layout(image) if entry.name.rstrip("/") != place]
    link = target if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
    artifact = craft(folder / "artifact", [*entries, Entry(place, type=kind, link=link)], compress)
    with pytest.raises(EmiError) as refused:
        survey_artifact(artifact)
    word = {tarfile.SYMTYPE: "symbolic link", tarfile.LNKTYPE: "hard link", tarfile.CHRTYPE: "character device",
            tarfile.BLKTYPE: "block device", tarfile.FIFOTYPE: "fifo"}[kind]
    assert word in refused.value.message and "\n" not in refused.value.message


def test_a_symlinked_kvm_kernel_folder_never_lets_a_modify_or_a_boot_test_reach_the_host(tmp_path, image, printed, monkeypatch):
    """Class 3: kvm-kernel/ -> a host folder; the modify would have deleted and planted kernels there."""
    monkeypatch.setenv("EMI_TUI_WORK_DIR", str(tmp_path / "work"))
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "vmlinuz-host").write_bytes(b"host kernel")
    (victim / "initrd.img-host").write_bytes(b"host ramdisk")
    before = folder_state(victim)
    entries = [e for e in layout(image) if not e.name.startswith(f"{TOP}/kvm-kernel")]
    artifact = craft(tmp_path / "starter", [*entries, Entry(f"{TOP}/kvm-kernel", type=tarfile.SYMTYPE, link=str(victim))])
    output = tmp_path / "out"
    output.mkdir()
    for argv in (["modify", str(artifact), "--output", str(output)], ["modify", "--dry-run", str(artifact)], ["review", str(artifact)]):
        code, text = cli(printed, *argv)
        assert code == 2 and "symbolic link" in one_line_refusal(text), (argv, text)
    into = tmp_path / "boot"
    into.mkdir()
    with pytest.raises(EmiError, match="symbolic link"):
        extract_guest(artifact, into, None, None)
    assert list(into.iterdir()) == [] and list(output.iterdir()) == []
    assert folder_state(victim) == before


def test_a_hard_link_to_a_host_secret_is_refused_by_the_boot_test_and_the_wizard(tmp_path, image):
    from emi_tui.tui.screens.modify.artifact import read_artifact

    artifact = craft(tmp_path / "starter", [*layout(image), Entry(f"{TOP}/kvm-kernel/initrd.img-7", type=tarfile.LNKTYPE, link="/etc/shadow")], "zstd")
    into = tmp_path / "boot"
    into.mkdir()
    with pytest.raises(EmiError, match="hard link"):
        extract_guest(artifact, into, None, None)
    assert list(into.iterdir()) == []
    look = read_artifact(str(artifact))
    assert look.error and "hard link" in look.error and look.survey is None


# --- bounds: images, declared sizes, free space


@given(count=st.integers(2, 40), depth=st.integers(0, 3), compress=compressions)
@FEW
def test_an_artifact_of_many_images_is_refused_before_any_debugfs_runs(tmp_path_factory, monkeypatch, printed, count, depth, compress):
    """Class 4: 300 images made 900 debugfs runs. One image per artifact; the rest is refused first."""
    import emi_tui.engine.artifact.read as read

    folder = tmp_path_factory.mktemp("images")
    runs: list[list[str]] = []
    real = read.run_captured

    def counted(argv, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(list(argv))
        return real(argv, **kwargs)

    monkeypatch.setattr(read, "run_captured", counted)
    nest = "/".join(["d"] * depth)
    entries = [Entry(f"{TOP}/{nest}/{i}/{TOP}-{i}.img".replace("//", "/"), b"\0" * 1024) for i in range(count)]
    artifact = craft(folder / "many", entries, compress)
    code, text = cli(printed, "review", str(artifact))
    assert code == 2 and f"holds {count} images" in one_line_refusal(text), text
    assert [argv for argv in runs if argv[0] in ("debugfs", "dumpe2fs")] == []


def test_three_hundred_images_are_refused_by_the_cli(tmp_path, printed, monkeypatch):
    monkeypatch.setenv("EMI_TUI_WORK_DIR", str(tmp_path / "work"))
    artifact = craft(tmp_path / "many", [Entry(f"{TOP}/{i}.img", b"\0") for i in range(300)])
    for argv in (["review", str(artifact)], ["modify", "--dry-run", str(artifact)]):
        code, text = cli(printed, *argv)
        assert code == 2 and "holds 300 images" in one_line_refusal(text), text


def _sparse_artifact(folder: Path, apparent: int, compress: str) -> Path:
    """A GNU tar --sparse artifact whose image declares `apparent` bytes and holds one block: a few KB on disk."""
    staging = folder / "staging" / TOP
    staging.mkdir(parents=True)
    image = staging / f"{TOP}.img"
    with image.open("wb") as handle:
        handle.write(b"data")
        handle.truncate(apparent)
    artifact = folder / f"bomb{'.tgz' if compress == 'gzip' else '.tar.zst'}"
    flag = "-z" if compress == "gzip" else "--zstd"
    subprocess.run(["tar", "--sparse", flag, "-cf", str(artifact), "-C", str(staging.parent), TOP], check=True, timeout=120)
    image.unlink()
    return artifact


@given(gib=st.integers(65, 4096), compress=compressions)
@SECURITY.__class__(SECURITY, max_examples=8)
def test_a_member_declaring_more_than_any_image_is_refused_before_unpacking(tmp_path_factory, printed, gib, compress):
    folder = tmp_path_factory.mktemp("bomb")
    artifact = _sparse_artifact(folder, gib * 1024**3, compress)
    assert artifact.stat().st_size < 1024**2
    for argv in (["review", str(artifact)], ["modify", "--dry-run", str(artifact)]):
        code, text = cli(printed, *argv)
        line = one_line_refusal(text)
        assert code == 2 and "declares" in line and "more than the" in line, text


@pytest.fixture
def small_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A 32 MiB tmpfs as the temporary folder of a review: what a full /tmp looks like."""
    import tempfile

    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", str(mount)], check=True, timeout=30)
    monkeypatch.setattr(tempfile, "tempdir", str(mount))
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True, timeout=30)


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_a_review_unpacks_nothing_when_the_image_does_not_fit_its_temporary_folder(tmp_path, small_tmp, printed, compress):
    """Class 4: a 66 KB artifact made review write 2 GiB to /tmp. Here a 256 MiB image of zeros, compressed to a few KB."""
    artifact = tmp_path / f"zeros{'.tgz' if compress == 'gzip' else '.tar.zst'}"
    staging = tmp_path / "staging" / TOP
    staging.mkdir(parents=True)
    with (staging / f"{TOP}.img").open("wb") as handle:
        for _ in range(256):
            handle.write(b"\0" * 1024**2)
    subprocess.run(["tar", "-z" if compress == "gzip" else "--zstd", "-cf", str(artifact), "-C", str(staging.parent), TOP], check=True, timeout=120)
    (staging / f"{TOP}.img").unlink()
    assert artifact.stat().st_size < 1024**2
    code, text = cli(printed, "review", str(artifact))
    assert code == 1 and "needs" in text and "free" in text and str(small_tmp) in text, text
    used = os.statvfs(small_tmp)
    assert (used.f_blocks - used.f_bfree) * used.f_frsize < 1024**2, "the review wrote into the temporary folder"
    assert list(small_tmp.iterdir()) == []
