"""ModifyState: pre-filling from the image, turning the screens' edits into the core's ModifyRequest, and problems."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest import TODAY
from modify_fakes import STORED, fake_reader

from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.tui.state.modify_state import ModifyState, artifact_problem


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "euca-debian-2026.01.02-x86_64.tgz"
    path.write_bytes(b"stand-in")
    return path


def loaded(artifact: Path, **reader) -> ModifyState:
    state = ModifyState(RecipeBook(), TODAY)
    state.set_artifact(str(artifact))
    assert state.load(fake_reader(**reader)(str(artifact)))
    return state


def test_artifact_problems_name_the_path_and_the_kind(tmp_path: Path) -> None:
    assert "give the path" in artifact_problem("  ")
    assert "not a .tgz" in artifact_problem(str(tmp_path / "x.zip"))
    assert "no file at" in artifact_problem(str(tmp_path / "x.tgz"))


def test_next_waits_until_the_artifact_is_read(artifact: Path) -> None:
    state = ModifyState(RecipeBook(), TODAY)
    state.set_artifact(str(artifact))
    assert [p.message for p in state.problems_for("artifact")] == ["reading the artifact…"]
    # An answer for a path the operator has since changed is not taken.
    assert not state.load(fake_reader()(str(artifact) + ".old"))
    assert state.load(fake_reader()(str(artifact)))
    assert state.problems_for("artifact") == []


def test_an_unreadable_artifact_says_why(artifact: Path) -> None:
    state = loaded(artifact, error="euca.tgz holds no image (*.img): an artifact carries exactly one NAME/NAME.img")
    assert "holds no image" in state.problems_for("artifact")[0].message
    assert state.problems_for("changes")  # Start is held back too


def test_prefilled_from_the_stored_answers_and_nothing_changes_by_itself(artifact: Path) -> None:
    state = loaded(artifact)
    assert "stored answers" in state.prefilled_from
    assert state.answers.packages.add == ["htop"] and state.answers.packages.remove == ["sudo"]
    request = state.request()
    assert request.artifact == artifact and request.add == [] and request.remove == [] and request.metadata is None
    assert "keep the image's rc.local and udev rules" in state.plan()


def test_without_stored_answers_the_recipe_named_in_the_image_id_is_used(artifact: Path) -> None:
    state = loaded(artifact, stored=None)
    assert state.answers.recipe == "debian-based" and "has no stored answers" in state.prefilled_from


def test_package_edits_become_add_and_remove(artifact: Path) -> None:
    state = loaded(artifact)
    state.set("packages.add", ["htop", "mc"])  # mc added on the Packages step
    state.set("packages.remove", ["sudo", "less"])  # less unchecked among the defaults
    assert state.package_changes() == (["mc"], ["less"])
    state.set("packages.add", [])  # htop unchecked from the added ones
    assert state.package_changes() == ([], ["less", "htop"])
    state.set("packages.remove", [])  # sudo (trimmed in the image) checked again
    assert state.package_changes()[0] == ["sudo"]


def test_metadata_is_applied_only_when_changed(artifact: Path) -> None:
    state = loaded(artifact)
    state.set("metadata.hostname", True)
    assert state.metadata_applied() is not None and state.metadata_applied().hostname is True
    assert state.changed_metadata_keys() == ["hostname"]
    assert any("regenerate rc.local" in line and "hostname" in line for line in state.plan())
    state.set("metadata.hostname", False)
    assert state.metadata_applied() is None


def test_an_answer_files_metadata_is_applied_even_when_equal(artifact: Path, tmp_path: Path) -> None:
    state = loaded(artifact)
    answers = tmp_path / "answers.yaml"
    answers.write_text(STORED.replace("ssh_key: root", "ssh_key: ec2-user"))
    state.use_answer_file(answers)
    assert state.answers.metadata.ssh_key == "ec2-user" and state.original.metadata.ssh_key == "root"
    request = state.request()
    assert request.metadata.ssh_key == "ec2-user" and request.answers_file == answers


def test_a_bad_answer_file_is_a_problem_at_its_field(artifact: Path, tmp_path: Path) -> None:
    state = loaded(artifact)
    answers = tmp_path / "answers.yaml"
    answers.write_text("version: 1\nrecipe: debian-based\nmetadata:\n  ssh_kee: root\n")
    state.use_answer_file(answers)
    found = [p for p in state.problems_for("artifact") if p.key == "artifact.answers"]
    assert found and "ssh_kee" in found[0].message and "answers.yaml:4" in found[0].message


def test_changes_are_checked_by_the_core(artifact: Path, tmp_path: Path) -> None:
    state = loaded(artifact)
    state.set_change("grow", "1G")
    state.set_change("version", "not a version!")
    state.set_change("script", str(tmp_path / "missing.sh"))
    keys = {p.key: p.message for p in state.problems_for("changes")}
    assert "would shrink the image: it is 1.3 GB" in keys["changes.grow"]
    assert "not a valid image version" in keys["changes.version"]
    assert "no script at" in keys["changes.script"]
    state.set_change("grow", "4.5G")
    state.set_change("version", "2026.11.28.1")
    script = tmp_path / "fix.sh"
    script.write_text("#!/bin/sh\n")
    state.set_change("script", str(script))
    assert state.problems() == []
    request = state.request()
    assert (request.grow, request.version, request.script) == ("4.5G", "2026.11.28.1", script)
    assert "grow the filesystem to 4.5 GB" in state.plan()


def test_a_package_problem_holds_back_start_but_shows_on_its_own_step(artifact: Path) -> None:
    state = loaded(artifact)
    state.set("packages.add", ["htop", "Not A Package"])
    assert state.problems_for("packages") and state.problems_for("changes")
    assert state.problems_for("metadata") == []
