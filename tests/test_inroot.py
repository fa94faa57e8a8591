"""image.inroot: reading a file out of an image's root as a chroot would, bounded, regular files only."""

from __future__ import annotations

import os

import pytest

from emi_tui.engine.image.inroot import InRootError, copy_from_root, read_in_root, regular_matches


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "boot").mkdir()
    (root / "usr" / "lib" / "os-release").write_text("ID=debian\n")
    (root / "etc" / "os-release").symlink_to("../usr/lib/os-release")  # as Debian ships it
    return root


def test_a_debian_style_link_is_read_inside_the_root(root):
    assert read_in_root(root, "etc/os-release", 100) == b"ID=debian\n"
    assert read_in_root(root, "/etc/missing", 100) is None
    assert read_in_root(root, "etc/os-release/x", 100) is None


def test_a_link_loop_a_fifo_a_folder_and_a_big_file_are_refused(root):
    (root / "etc" / "a").symlink_to("b")
    (root / "etc" / "b").symlink_to("a")
    os.mkfifo(root / "etc" / "fifo")
    with open(root / "etc" / "big", "wb") as handle:
        handle.truncate(101)
    for inner, said in (("etc/a", "more than 40 links"), ("etc/fifo", "not a regular file"), ("usr", "not a regular file"), ("etc/big", "claims 101 bytes")):
        with pytest.raises(InRootError, match=said):
            read_in_root(root, inner, 100)
    assert read_in_root(root, "etc/big", 101) == b"\0" * 101


def test_a_copy_is_bounded_and_leaves_nothing_behind(root, tmp_path):
    (root / "boot" / "vmlinuz-1").write_bytes(b"k" * 1000)
    dest = tmp_path / "out"
    with pytest.raises(InRootError, match="claims 1,000 bytes"):
        copy_from_root(root, "boot/vmlinuz-1", dest, limit=999)
    assert not dest.exists()
    dest.symlink_to(tmp_path / "elsewhere")  # a link planted where the copy goes is replaced, not written through
    assert copy_from_root(root, "boot/vmlinuz-1", dest, limit=1000) == 1000
    assert not dest.is_symlink() and dest.read_bytes() == b"k" * 1000 and not (tmp_path / "elsewhere").exists()


def test_only_regular_files_in_a_real_folder_match(root, tmp_path):
    (root / "boot" / "vmlinuz-1").write_bytes(b"k")
    (root / "boot" / "vmlinuz-2").symlink_to("vmlinuz-1")
    os.mkfifo(root / "boot" / "vmlinuz-3")
    assert regular_matches(root, "boot/vmlinuz-*") == ["boot/vmlinuz-1"]
    (root / "boot2").symlink_to("boot")
    assert regular_matches(root, "boot2/vmlinuz-*") == []
