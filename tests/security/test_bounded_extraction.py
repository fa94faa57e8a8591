"""What holds after the survey: an artifact that changes once listed, a kvm-kernel/ that is a link, a name that is an option.

The survey (test_hostile_artifacts) refuses hostile members before anything
is unpacked. These tests hold the layers behind it: the unpacking checks what
tar left (the file may have been swapped since it was listed), a modify's
kernel refresh writes only into a real folder of its own unpacked copy and
never through a link, and an artifact whose own file name looks like an option
reaches every command of a dry-run plan as an absolute path or after `--`.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emi_tui.cli import main
from emi_tui.engine.artifact.extract import extract_surveyed
from emi_tui.engine.artifact.listing import UnsafeArtifact
from emi_tui.engine.artifact.survey import survey_artifact
from emi_tui.engine.modify.beside import private_folder, replace_files
from emi_tui.engine.modify.identity import ArtifactError
from tests.security.artifacts import TOP, Entry, craft, image_bytes, layout, link_targets
from tests.security.hostile import SECURITY

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="unpacks as root, as emi-tui runs")


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return image_bytes(tmp_path_factory.mktemp("image"))


@given(target=link_targets, compress=st.sampled_from(["gzip", "zstd"]))
@SECURITY.__class__(SECURITY, max_examples=15)
def test_an_artifact_swapped_after_its_survey_is_refused_once_unpacked(tmp_path_factory, image, target, compress):
    """The file is read twice (listed, then unpacked): a link that arrives in between is found in what tar left."""
    folder = tmp_path_factory.mktemp("swap")
    safe = craft(folder / "artifact", layout(image), compress)
    survey = survey_artifact(safe)
    kernel = f"{TOP}/kvm-kernel/vmlinuz-6.1"
    swapped = [e for e in layout(image) if e.name != kernel] + [Entry(kernel, type=tarfile.SYMTYPE, link=target)]
    craft(folder / "artifact", swapped, compress)  # the same path, now with a link where the survey saw a file
    into = folder / "into"
    into.mkdir()
    with pytest.raises(UnsafeArtifact, match="link or special file"):
        extract_surveyed(survey, into)


def test_an_artifact_that_grew_after_its_survey_is_refused_once_unpacked(tmp_path, image):
    safe = craft(tmp_path / "artifact", layout(image))
    survey = survey_artifact(safe)
    grown = [e if not e.name.endswith("vmlinuz-6.1") else Entry(e.name, b"k" * 1024**2) for e in layout(image)]
    craft(tmp_path / "artifact", grown)
    into = tmp_path / "into"
    into.mkdir()
    with pytest.raises(UnsafeArtifact, match="where its listing declared"):
        extract_surveyed(survey, into)


@given(target=st.sampled_from(["victim", "../victim", "/VICTIM"]))
@SECURITY.__class__(SECURITY, max_examples=5)
def test_the_kernel_refresh_never_deletes_or_writes_through_a_linked_folder(tmp_path_factory, target):
    folder = tmp_path_factory.mktemp("beside")
    unpacked, victim = folder / "unpacked", folder / "victim"
    (unpacked / TOP).mkdir(parents=True)
    victim.mkdir()
    (victim / "vmlinuz-host").write_bytes(b"host kernel")
    beside = unpacked / TOP / "kvm-kernel"
    beside.symlink_to(victim if target == "/VICTIM" else Path("..", "..", "victim") if target == "../victim" else victim)
    with pytest.raises(ArtifactError, match="link"):
        private_folder(beside, unpacked)
    fresh = folder / "fresh"
    fresh.mkdir()
    (fresh / "vmlinuz-new").write_bytes(b"new kernel")
    with pytest.raises(OSError):  # O_NOFOLLOW on the folder itself: even without the check above nothing goes through
        replace_files(beside, [victim / "vmlinuz-host"], [fresh / "vmlinuz-new"])
    assert sorted(p.name for p in victim.iterdir()) == ["vmlinuz-host"]


def test_the_kernel_refresh_replaces_files_in_its_own_folder_without_following_a_planted_link(tmp_path):
    unpacked = tmp_path / "unpacked"
    beside = unpacked / TOP / "kvm-kernel"
    beside.mkdir(parents=True)
    (beside / "vmlinuz-old").write_bytes(b"old")
    outside = tmp_path / "outside"
    outside.write_bytes(b"host file")
    (beside / "vmlinuz-new").symlink_to(outside)  # planted where the fresh kernel goes
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "vmlinuz-new").write_bytes(b"new kernel")
    private_folder(beside, unpacked)
    replace_files(beside, [beside / "vmlinuz-old"], [fresh / "vmlinuz-new"])
    assert sorted(p.name for p in beside.iterdir()) == ["vmlinuz-new"]
    assert not (beside / "vmlinuz-new").is_symlink() and (beside / "vmlinuz-new").read_bytes() == b"new kernel"
    assert outside.read_bytes() == b"host file"


@pytest.mark.parametrize("name", ["-rf --to-command=touch PWNED", "--checkpoint-action=exec=touch PWNED", "-x"])
def test_an_artifact_whose_file_name_is_an_option_reaches_every_command_as_a_path(tmp_path, monkeypatch, capsys, name):
    """The artifact's own name (not a member's): every command of the dry-run plan gets it absolute, never as an option."""
    from tests.test_modify_plan import make_image, make_tarball

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMI_TUI_WORK_DIR", str(tmp_path / "work"))
    artifact = make_tarball(tmp_path, {f"{TOP}/{TOP}.img": make_image(tmp_path / "src")}, f"{name}.tgz")
    code = main(["modify", "--dry-run", str(artifact), "--output", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0, out
    commands = [line.strip().removeprefix("$ ") for line in out.splitlines() if line.strip().startswith("$ ")]
    assert commands and not (tmp_path / "PWNED").exists()
    for command in commands:
        assert f" {name}" not in command.replace(str(tmp_path), ""), command  # never a bare word of its own
    unpack = next(c for c in commands if c.startswith("tar ") and "--extract" in c)
    assert " -- " in unpack or unpack.endswith(" --"), unpack
