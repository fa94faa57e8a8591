"""The one table of artifact kinds: every suffix names one kind, and tar really unpacks each kind as the table says."""

from __future__ import annotations

import shutil
import subprocess
import typing
from pathlib import Path

import pytest

from emi_tui.engine.answers.model import Output
from emi_tui.engine.artifact import kinds
from emi_tui.engine.artifact.compress import program_for, tar_argv
from emi_tui.engine.artifact.kinds import KINDS, TARBALL_SUFFIXES, is_artifact, is_image, is_tarball, stem, tarball_kind


def test_every_tarball_suffix_maps_to_exactly_one_kind():
    assert len(TARBALL_SUFFIXES) == len(set(TARBALL_SUFFIXES))
    for suffix in TARBALL_SUFFIXES:
        owners = [kind.name for kind in KINDS.values() if suffix in kind.suffixes]
        assert len(owners) == 1, (suffix, owners)
        for name in (f"euca-x-1-x86_64{suffix}", f"EUCA{suffix.upper()}", f"/some/folder/a{suffix}"):
            assert tarball_kind(name) is KINDS[owners[0]], name
            assert kinds.TARBALLS[suffix] == owners[0]


def test_the_old_gzip_spellings_both_work():
    assert tarball_kind("a.tgz") is tarball_kind("a.tar.gz") is KINDS["gzip"]
    assert KINDS["gzip"].suffix == ".tgz"  # what a build writes
    assert stem("euca-debian-1-x86_64.tar.gz") == stem("euca-debian-1-x86_64.tgz") == "euca-debian-1-x86_64"


def test_the_table_holds_exactly_the_compress_choices_of_the_answers():
    assert tuple(KINDS) == typing.get_args(Output.model_fields["compress"].annotation)


@pytest.mark.parametrize(("name", "tarball", "image"), [
    ("x.img", False, True), ("X.IMG", False, True), ("x.tar", True, False), ("x.tar.zst", True, False),
    ("x.tar.bz2", False, False), ("x.zip", False, False), ("tgz", False, False), ("x.img.tgz", True, False),
])
def test_what_counts_as_an_artifact(name, tarball, image):
    assert (is_tarball(name), is_image(name), is_artifact(name)) == (tarball, image, tarball or image)


def test_stem_strips_one_artifact_suffix_in_any_case():
    assert stem("a.b-1.TAR.XZ") == "a.b-1"
    assert stem("dir/x.img") == "x"
    assert stem("notes.txt") == "notes.txt"
    assert stem("x.tar.tar") == "x.tar"


def test_the_hint_and_the_list_name_every_suffix():
    for suffix in kinds.ARTIFACT_SUFFIXES:
        assert suffix in kinds.SUFFIX_LIST
    assert kinds.KINDS_HINT.startswith("give a .tgz/.tar.zst/.tar.xz built by emi-tui")


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_a_tarball_the_build_writes_unpacks_with_the_tables_flags(kind, tmp_path):
    """compress writes each kind; the registration's `tar <unpack_flags>` reads it back."""
    if kind.programs and program_for(kind.name) is None:
        pytest.skip(f"no {kind.name} compressor is installed")
    source = tmp_path / "src"
    (source / "-odd name").mkdir(parents=True)
    (source / "-odd name" / "x.img").write_bytes(b"image")
    artifact = tmp_path / f"a{kind.suffix}"
    subprocess.run(tar_argv(str(source), "-odd name", str(artifact), program_for(kind.name)), check=True, timeout=60)
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["tar", *kind.unpack_flags, str(artifact)], check=True, cwd=out, timeout=60)
    assert (out / "-odd name" / "x.img").read_bytes() == b"image"


def test_tar_read_args_use_pigz_only_for_gzip_and_only_when_installed(monkeypatch):
    monkeypatch.setattr(kinds, "installed", lambda program: True)
    assert kinds.tar_read_args("gzip") == ["--use-compress-program=pigz"]
    assert kinds.tar_read_args("zstd") == kinds.tar_read_args("none") == []
    monkeypatch.setattr(kinds, "installed", lambda program: False)
    assert kinds.tar_read_args("gzip") == []


def test_installed_looks_on_the_runners_path_not_the_operators(monkeypatch, tmp_path):
    tool = tmp_path / "emi-only-here"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{Path(shutil.which('sh') or '/bin/sh').parent}")
    assert shutil.which("emi-only-here") and not kinds.installed("emi-only-here")
    assert kinds.installed("sh")
