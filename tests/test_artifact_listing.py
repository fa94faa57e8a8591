"""Listing a tarball: hostile member names come back exactly, a bomb of members stops with a clear error."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from emi_tui.engine.artifact.listing import MAX_MEMBERS, ListingError, Member, list_members, parse_line, unquote_c
from emi_tui.engine.artifact.survey import survey_artifact
from emi_tui.engine.errors import EmiError

HOSTILE = ["a b/c d.img", "x -> y", "-lead", "new\nline", "tab\there", 'quote"s', "back\\slash", "ütf8", "bad\udcffbyte", "q?? trigraph"]


def make_tarball(path: Path, files: dict[str, bytes], mode: str = "w:gz", links: dict[str, str] | None = None, hard: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, mode, format=tarfile.GNU_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
        for name, target in (hard or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.LNKTYPE, target
            tar.addfile(info)
    return path


@pytest.mark.parametrize(("suffix", "mode", "compress"), [(".tgz", "w:gz", "gzip"), (".tar.gz", "w:gz", None), (".tar.xz", "w:xz", "xz"), (".tar", "w", "none")])
def test_hostile_names_come_back_exactly(tmp_path, suffix, mode, compress):
    files = {name: name.encode("utf-8", "surrogateescape") for name in HOSTILE}
    artifact = make_tarball(tmp_path / f"hostile{suffix}", files, mode, links={"link -> name": "target -> x"}, hard={"hard": "-lead"})
    members = list_members(artifact, compress)
    assert [m.name for m in members] == [*HOSTILE, "link -> name", "hard"]
    by_name = {m.name: m for m in members}
    assert all(by_name[name].is_file and by_name[name].size == len(files[name]) for name in HOSTILE)
    assert (by_name["link -> name"].type, by_name["link -> name"].link) == ("l", "target -> x")
    assert (by_name["hard"].type, by_name["hard"].link) == ("h", "-lead")


def test_an_archive_whose_name_holds_a_colon_is_read_as_a_local_file(tmp_path):
    # tar takes a relative "host:file" for a remote archive: the listing names it by its absolute path, and --force-local.
    artifact = make_tarball(tmp_path / "euca:x.tgz", {"x/x.img": b"i"})
    assert [m.name for m in list_members(artifact)] == ["x/x.img"]


def test_a_bomb_of_members_stops_at_the_default_limit(tmp_path):
    bomb = make_tarball(tmp_path / "bomb.tgz", {f"d/{i}": b"" for i in range(MAX_MEMBERS + 1)})
    with pytest.raises(ListingError, match=f"holds more than {MAX_MEMBERS:,} members") as caught:
        list_members(bomb)
    assert "this is not one" in caught.value.hint
    # One member fewer is still an (odd) artifact.
    assert len(list_members(make_tarball(tmp_path / "big.tgz", {f"d/{i}": b"" for i in range(MAX_MEMBERS)}))) == MAX_MEMBERS


def test_a_listing_longer_than_its_byte_limit_stops_tar(tmp_path):
    bomb = make_tarball(tmp_path / "long.tgz", {f"d/{'n' * 200}{i}": b"" for i in range(200)})
    with pytest.raises(ListingError, match="lists more than 4,096 bytes of member names"):
        list_members(bomb, max_bytes=4096)


def test_a_broken_tarball_says_it_could_not_be_read(tmp_path):
    whole = make_tarball(tmp_path / "whole.tgz", {"x/x.img": bytes(range(256)) * 400})
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(whole.read_bytes()[:40])
    with pytest.raises(ListingError, match=r"^broken.tgz could not be read \(") as caught:
        list_members(broken)
    assert caught.value.hint == "check that it is a complete tarball"


def test_c_quoted_names_decode_every_escape():
    quoted = r'"a\nb\t\\\"\303\274\377\?"'
    assert unquote_c(quoted + " -> tail", 0) == ("a\nb\t\\\"ü\udcff?", len(quoted))
    assert unquote_c('x "y" z', 2) == ("y", 5)
    with pytest.raises(ValueError, match="never closes"):
        unquote_c('"open', 0)
    with pytest.raises(ValueError, match="unknown escape"):
        unquote_c(r'"\q"', 0)


def test_a_listing_line_is_read_by_its_quoted_name_not_its_columns():
    line = '-rw-r--r-- 0/0          1048576 2026-12-02 08:43:16.923043408 "a  b -> c.img"'
    assert parse_line(line) == Member("a  b -> c.img", "-", 1048576)
    assert parse_line('crw-r--r-- 0/0             1,3 2026-12-02 08:43:16 "dev/null"') == Member("dev/null", "c", None)
    assert parse_line("tar: Removing leading `/' from member names") is None


def test_the_survey_finds_an_image_whose_name_holds_an_arrow_and_blanks(tmp_path):
    """The old `tar -tv` column split cut this name at " -> " and found no image."""
    name = "my -> image"
    artifact = make_tarball(tmp_path / "odd.tgz", {f"{name}/{name}.img": b"\0" * 4096, f"{name}/kvm-kernel/initrd.img-1": b"r"})
    survey = survey_artifact(artifact)
    assert (survey.kind, survey.compress, survey.image_member, survey.members, survey.image_bytes) == ("tarball", "gzip", f"{name}/{name}.img", [name], 4096)


def test_the_survey_reads_a_newline_and_a_leading_dash_exactly_and_refuses_them_shown_escaped(tmp_path):
    # Read exactly (the listing loses nothing), then refused: such a name would be an option, or a second line of a message.
    name = "-x\ny"
    with pytest.raises(EmiError, match=r"unprintable.*\(-x\\x0ay/-x\\x0ay\.img\)"):
        survey_artifact(make_tarball(tmp_path / "odd.tar", {f"{name}/{name}.img": b"i"}, "w"))
    with pytest.raises(EmiError, match=r"starting with '-'.*\(-x/-x\.img\)"):
        survey_artifact(make_tarball(tmp_path / "dash.tar", {"-x/-x.img": b"i"}, "w"))


def test_the_survey_refuses_members_outside_the_folder_and_bombs(tmp_path):
    with pytest.raises(EmiError, match="outside its folder"):
        survey_artifact(make_tarball(tmp_path / "escape.tgz", {"x/x.img": b"i", "x/../../etc/passwd": b"p"}))
    with pytest.raises(EmiError, match="members"):
        survey_artifact(make_tarball(tmp_path / "bomb.tgz", {f"x/{i}": b"" for i in range(MAX_MEMBERS + 1)}))
