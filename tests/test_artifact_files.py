"""What goes beside an artifact and what is done with it: the checksum, the manifest, the registration commands, extraction."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from emi_tui.engine.artifact import checksum
from emi_tui.engine.artifact.checksum import ChecksumCancelled, read_sha256_file, sha256_file, sha256_line, sidecar_path
from emi_tui.engine.artifact.extract import extract
from emi_tui.engine.artifact.manifest import parse_manifest, read_manifest, render_manifest
from emi_tui.engine.artifact.register import register_commands, registration
from tests.security.artifacts import add_kernel_stand_ins

ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#: sha256 of a million "a" (FIPS 180-2's third vector).
MILLION_A = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
#: If quoting ever broke, bash would run the `touch`es in the test's own folder, where the test looks for them.
HOSTILE = "x'; touch pwned; #$(touch pwned-too) `touch pwned-3` \"q\" * \\ ${HOME}"


# --- checksum


def test_sha256_file_matches_the_known_vectors(tmp_path, monkeypatch):
    for data, want in ((b"abc", ABC), (b"", EMPTY)):
        path = tmp_path / "f"
        path.write_bytes(data)
        assert sha256_file(path) == want
    monkeypatch.setattr(checksum, "BLOCK", 4096)  # many blocks, so the block loop is what is tested
    monkeypatch.setattr(checksum, "PROGRESS_EVERY_S", 0.0)
    path.write_bytes(b"a" * 1_000_000)
    seen: list[tuple[int, int]] = []
    assert sha256_file(path, lambda done, total: seen.append((done, total))) == MILLION_A
    assert seen[0] == (4096, 1_000_000) and seen[-1] == (1_000_000, 1_000_000)


def test_sha256_file_stops_when_cancelled(tmp_path, monkeypatch):
    monkeypatch.setattr(checksum, "BLOCK", 4096)
    path = tmp_path / "f"
    path.write_bytes(b"a" * 100_000)
    asked: list[int] = []
    with pytest.raises(ChecksumCancelled):
        sha256_file(path, cancelled=lambda: asked.append(1) or len(asked) > 3)
    assert len(asked) == 4


def test_the_sidecar_is_what_sha256sum_checks_and_what_emi_tui_reads_back(tmp_path):
    artifact = tmp_path / "euca-x-1-x86_64.tgz"
    artifact.write_bytes(b"abc")
    sidecar = sidecar_path(artifact)
    assert sidecar.name == "euca-x-1-x86_64.tgz.sha256"
    sidecar.write_text(sha256_line(sha256_file(artifact), artifact.name))
    assert sidecar.read_text() == f"{ABC}  euca-x-1-x86_64.tgz\n"
    assert read_sha256_file(artifact) == ABC
    if shutil.which("sha256sum"):
        done = subprocess.run(["sha256sum", "-c", sidecar.name], cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr
    sidecar.write_text(f"{ABC}  other.tgz\n")
    assert read_sha256_file(artifact) is None


# --- manifest


def test_the_manifest_is_sorted_name_tab_version_and_reads_back(tmp_path):
    packages = {"zlib1g": "1:1.2.13", "bash": "5.2.15-2+b2", "a b": "1"}
    assert render_manifest(packages) == "a b\t1\nbash\t5.2.15-2+b2\nzlib1g\t1:1.2.13\n"
    path = tmp_path / "x.manifest"
    path.write_text(render_manifest(packages), encoding="utf-8")
    assert read_manifest(path) == packages
    assert parse_manifest("junk line\n\tno-name\nok\t1\n") == {"ok": "1"}
    assert render_manifest({}) == "" and parse_manifest("") == {}


# --- registration


def _argvs_as_bash_reads_them(text: str, cwd: Path) -> list[list[str]]:
    """Each command line of `text`, as bash splits it into words: handed to printf in `cwd`, with HOME there too."""
    words = []
    for line in (text_line for text_line in text.splitlines() if text_line and not text_line.startswith("#")):
        done = subprocess.run(["bash", "-c", f"printf '%s\\0' {line}"], cwd=cwd, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
                              capture_output=True, timeout=30, check=True)
        words.append(done.stdout.decode().split("\0")[:-1])
    return words


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("name", [HOSTILE, "new\nline", "-dash", "tab\there"])
def test_a_hostile_name_stays_one_quoted_word(tmp_path, name):
    groups = registration([Path(f"/out/{name}.tgz")], f"{name}.img", [f"vmlinuz-{name}", f"initrd.img-{name}"], True, name)
    text = register_commands([Path(f"/out/{name}.tgz")], f"{name}.img", [f"vmlinuz-{name}", f"initrd.img-{name}"], True, name)
    argvs = [argv for group in groups for argv in group.commands]
    # A comment a group, a blank line between groups, one line a command: no value split its line.
    assert len(text.splitlines()) == 2 * len(groups) - 1 + len(argvs)
    bash = _argvs_as_bash_reads_them(text, tmp_path)
    assert bash == argvs
    assert list(tmp_path.iterdir()) == []  # nothing ran
    assert ["cd", f"./{name}" if name.startswith("-") else name] in bash
    assert ["euca-upload-bundle", "-b", name, "-m", f"/tmp/{name}.img.manifest.xml"] in bash


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_unpack_line_unpacks_a_tarball_whose_name_holds_a_colon(tmp_path):
    """`tar -xzf a:b.tgz` asks host "a" for the archive; the line says --force-local."""
    artifact = tmp_path / "euca:1.tgz"
    with tarfile.open(artifact, "w:gz") as tar:
        info = tarfile.TarInfo("euca:1/euca:1.img")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"i"))
    text = register_commands([artifact], "euca:1.img", [], False, "b")
    unpack, cd = [line for line in text.splitlines() if line.startswith(("tar ", "cd "))]
    assert unpack == "tar --force-local -xzf euca:1.tgz" and cd == "cd euca:1"
    subprocess.run(["bash", "-c", f"{unpack} && {cd} && test -f euca:1.img"], cwd=tmp_path, check=True, timeout=30)


# --- extraction


def test_extract_takes_member_names_as_names_never_as_options_or_patterns(tmp_path):
    artifact = tmp_path / "a.tar"
    with tarfile.open(artifact, "w") as tar:
        for name in ("--to-command=touch pwned", "-x\ny", "star*", "starry"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"i"))
    into = tmp_path / "into"
    into.mkdir()
    done = extract(artifact, into, ["--to-command=touch pwned", "-x\ny", "star*"])
    assert done.ok, done.stderr
    assert sorted(p.name for p in into.iterdir()) == ["--to-command=touch pwned", "-x\ny", "star*"]
    assert not (tmp_path / "pwned").exists() and not (into / "pwned").exists()
    assert not extract(artifact, into, ["missing"]).ok


# --- the boot test's unpacking


def _ext_image(path: Path, label: str | None) -> Path:
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", *(["-L", label] if label else []), str(path), "8M"], check=True, capture_output=True, timeout=60)
    return path


@pytest.mark.skipif(shutil.which("mke2fs") is None, reason="needs mke2fs (e2fsprogs)")
def test_the_boot_test_unpacks_a_starter_layout_and_reads_the_label(tmp_path):
    from emi_tui.engine.boot.guest import extract_guest
    from emi_tui.engine.errors import EmiError

    image = _ext_image(tmp_path / "x.img", "cloudimg-rootfs")
    artifact = tmp_path / "euca x-1.TAR.GZ"  # any spelling of the table's suffixes, in any case
    with tarfile.open(artifact, "w:gz") as tar:
        tar.add(image, "euca x-1/euca x-1.img")
        add_kernel_stand_ins(tar, "euca x-1/kvm-kernel")
    into = tmp_path / "into"
    into.mkdir()
    guest = extract_guest(artifact, into, None, None)
    assert (guest.image.name, guest.kernel.name, guest.ramdisk.name, guest.label) == (
        "euca x-1.img", "vmlinuz-6.1.0-9-amd64", "initrd.img-6.1.0-9-amd64", "cloudimg-rootfs")
    bare = _ext_image(tmp_path / "bare.img", None)
    with pytest.raises(EmiError, match="has no filesystem label"):
        extract_guest(bare, into, guest.kernel, guest.ramdisk)
    with pytest.raises(EmiError, match="not an artifact emi-tui can boot") as caught:
        extract_guest(_touch(tmp_path / "x.zip"), into, None, None)
    assert caught.value.hint == "give a .tgz, .tar.gz, .tar.zst, .tar.xz, .tar or .img"


def _touch(path: Path) -> Path:
    path.write_bytes(b"")
    return path
