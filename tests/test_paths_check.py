"""An output folder is judged usable or not without creating anything (engine.paths_check)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emi_tui.engine.paths_check import nearest_existing, output_folder_problem


def test_an_existing_writable_folder_is_usable(tmp_path: Path) -> None:
    assert output_folder_problem(tmp_path) is None


def test_a_missing_folder_under_a_writable_one_is_usable_and_is_not_made(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c"
    assert output_folder_problem(target) is None
    assert not (tmp_path / "a").exists()  # looked at, never made


def test_a_folder_under_proc_cannot_be_made() -> None:
    problem = output_folder_problem("/proc/nope")
    assert problem is not None
    assert problem.startswith("/proc/nope cannot be made: /proc")
    assert "holds no files" in problem


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    afile = tmp_path / "f"
    afile.write_text("x")
    assert output_folder_problem(afile) == f"{afile} is a file, not a folder: choose a folder"
    assert output_folder_problem(afile / "sub") == f"{afile / 'sub'} cannot be made: {afile} is a file, not a folder"


def test_a_relative_folder_is_taken_from_the_base(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert output_folder_problem("images", base=tmp_path) is None
    assert "is a file" in (output_folder_problem("f/images", base=tmp_path) or "")


def test_empty_and_nul_are_refused() -> None:
    assert output_folder_problem("  ") == "give a folder for the artifacts"
    assert "NUL" in (output_folder_problem("a\0b") or "")


def test_a_folder_without_write_permission_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite runs as root, which writes through permission bits: the kernel's answer is stood in for.
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    assert output_folder_problem(tmp_path / "out") == f"{tmp_path / 'out'} cannot be made: {tmp_path} is not writable by this user: choose another folder, or fix its permissions"


def test_nearest_existing_walks_up(tmp_path: Path) -> None:
    assert nearest_existing(tmp_path / "x" / "y") == tmp_path
    assert nearest_existing(Path("/")) == Path("/")
