"""The wizard state without a screen: problems by step, edits, replay, history."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from conftest import MIRROR, TODAY, VALID_ANSWERS

from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.tui.state.wizard_state import (
    WizardState,
    history_path,
    open_answers,
    recent_builds,
    step_for_key,
    tilde,
)

BOOK = RecipeBook()


@pytest.mark.parametrize(
    "key, step",
    [
        ("recipe", "distro"), ("release", "distro"), ("arch", "distro"), ("mirror", "distro"),
        ("size", "size"), ("packages.add[2]", "packages"), ("repositories[0].line", "packages"),
        ("metadata.ssh_key", "metadata"), ("image.name", "image"), ("output.compress", "image"),
        ("kernel", "image"), ("", "summary"),
    ],
)
def test_problem_keys_map_to_the_step_that_edits_them(key, step):
    assert step_for_key(key) == step


def test_edits_are_validated_by_the_core_with_key_paths():
    state = WizardState(BOOK, TODAY)
    state.set("mirror", MIRROR)
    assert state.problems() == []
    state.set("metadata.ssh_key", "admin")
    state.set("image.version", "2026 11")
    assert [(p.key, step_for_key(p.key)) for p in state.problems()] == [
        ("metadata.ssh_key", "metadata"), ("image.version", "image")
    ]
    assert state.first_problem_step() == "metadata"
    assert state.resolved() is None


def test_setting_the_same_value_is_not_an_edit():
    state = WizardState(BOOK, TODAY)
    state.mark_saved(Path("/x.yaml"))
    state.set("size", "1.3G")
    assert state.saved and state.revision == 0
    state.set("size", "4.5G")
    assert not state.saved and state.revision == 1


def test_a_root_smaller_than_the_recipe_estimate_is_refused(tmp_path):
    text = (Path(BOOK.sources["debian-based"]).read_text()
            .replace("min_size: 600M", "min_size: 500M").replace("estimated_size: 520M", "estimated_size: 900M"))
    (tmp_path / "debian-based.yaml").write_text(text)
    state = WizardState(RecipeBook([tmp_path]), TODAY)
    state.set("mirror", MIRROR)
    state.set("size", "700M")
    [problem] = state.problems_for("size")
    assert "recipe estimate" in problem.message and "900.0 MB" in problem.message  # one unit style: never 900M
    state.set("size", "1G")
    assert state.problems_for("size") == []


def test_switching_recipe_keeps_what_still_fits():
    state = WizardState(BOOK, TODAY)
    state.set("arch", "aarch64")
    state.set("packages.remove", ["less", "vim-tiny"])
    state.choose_recipe("centos-based")
    answers = state.answers
    assert (answers.release, answers.arch, answers.packages.remove) == ("9-stream", "aarch64", ["less"])


def test_the_next_step_is_the_following_one_until_all_are_done_then_the_next_problem():
    state = WizardState(BOOK, TODAY)
    state.set("mirror", MIRROR)
    assert state.next_after("distro") == "size"
    state.finished = {"distro", "size", "packages", "metadata", "image"}
    assert state.next_after("distro") == "summary"
    state.set("image.name", "bad name")
    assert state.next_after("distro") == "image"


def test_a_replayed_file_keeps_its_own_values_and_defaults(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(VALID_ANSWERS.replace("size: 1.3G", "size: 12"))
    opened = open_answers(path, BOOK, TODAY)
    state = opened.state
    assert state.answers.size == 12  # kept as written, so the Size step shows it with its problem
    assert state.answers.image.name is None  # still a default
    assert [p.key for p in state.problems()] == ["size"]
    path.write_text("just words\n")
    assert not open_answers(path, BOOK, TODAY).ok


def test_history_files_are_named_by_time_and_image_and_listed_newest_first(home):
    state = WizardState(BOOK, TODAY)
    state.set("mirror", MIRROR)
    path = history_path(datetime(2026, 11, 28, 9, 30), state.resolved())
    assert path == home / ".local/share/emi-tui/history/20261128-093000-euca-debian-2026.11.28-x86_64.yaml"
    assert tilde(path) == "~/.local/share/emi-tui/history/20261128-093000-euca-debian-2026.11.28-x86_64.yaml"
    path.parent.mkdir(parents=True)
    for name, mtime in (("a.yaml", 100), ("b.yaml", 300), ("c.yaml", 200)):
        (path.parent / name).write_text(VALID_ANSWERS)
        os.utime(path.parent / name, (mtime, mtime))
    builds = recent_builds()
    assert [b.path.name for b in builds] == ["b.yaml", "c.yaml", "a.yaml"]
    assert builds[0].summary == "debian-based bookworm x86_64 1.3G"


def test_a_new_build_is_packed_with_zstd_the_wizards_suggestion_while_answer_files_keep_gzip():
    from emi_tui.engine.answers.model import Output
    from emi_tui.tui.screens.wizard.image import COMPRESSION, compression_label
    from emi_tui.tui.state.wizard_state import new_answers

    assert new_answers(BOOK).output.compress == "zstd"
    assert Output().compress == "gzip"  # an answer file without compress: still the starter images' .tgz
    assert COMPRESSION[0] == "zstd" and "suggested" in compression_label("zstd")
