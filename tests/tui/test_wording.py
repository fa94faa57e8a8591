"""The wizard state's words and its memory of mirrors, without a screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MIRROR, TODAY

from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.tui.state.wizard_state import WizardState
from emi_tui.tui.state.wording import a_distro, distro_name, flags_in_words, option_title, sizes_in_words

BOOK = RecipeBook()


@pytest.mark.parametrize(
    "distro, said", [("ubuntu", "an Ubuntu"), ("debian", "a Debian"), ("centos", "a CentOS"), ("opensuse", "an openSUSE")]
)
def test_a_distro_is_named_with_its_article(distro, said):
    assert a_distro(distro) == said
    assert distro_name(distro) == said.split(" ", 1)[1]


def test_sizes_are_said_in_one_unit_style():
    assert sizes_in_words("500M is too small: at least 1.3G.") == "500.0 MB is too small: at least 1.3 GB."
    assert sizes_in_words("euca-debian-1.3G.img and v2M3") == "euca-debian-1.3G.img and v2M3"  # only sizes standing alone


@pytest.mark.parametrize(
    "engine, wizard",
    [
        ("--grow abc: 'abc' is not a size", "'abc' is not a size"),
        ("--grow 1G would shrink the image (or leave out --grow)", "growing to 1G would shrink the image (or leave the field empty)"),
        ("--run /x.sh: no such script", "no script at /x.sh"),
        ("--output /f is not a folder", "/f is not a folder"),
        ("htop is both added and removed (keep each package in --add or in --remove)", "htop is both added and removed (keep each package in one list)"),
    ],
)
def test_modify_flags_become_the_fields_words(engine, wizard):
    assert flags_in_words(engine) == wizard


def test_metadata_options_have_titles_even_new_ones():
    assert option_title("udev_xvd") == "sd* names for xvd* disks"
    assert option_title("some_new_option") == "Some new option"


def test_a_mirror_belongs_to_the_distro_it_was_given_for():
    state = WizardState(BOOK, TODAY)
    state.set("mirror", MIRROR)
    state.choose_recipe("ubuntu-based")
    assert state.answers.mirror is None
    [problem] = state.problems_for("distro")
    assert problem.key == "mirror" and "an Ubuntu mirror" in problem.message and "`" not in problem.message
    state.set("mirror", "http://u.example/ubuntu")
    state.choose_recipe("debian-based")
    assert state.answers.mirror == MIRROR  # the one given for Debian comes back
    state.choose_recipe("ubuntu-based")
    assert state.answers.mirror == "http://u.example/ubuntu"


def test_recipes_of_one_distro_share_its_mirror(tmp_path: Path):
    text = Path(BOOK.sources["debian-based"]).read_text().replace("name: debian-based", "name: debian-slim")
    (tmp_path / "debian-slim.yaml").write_text(text)
    book = RecipeBook([tmp_path])
    state = WizardState(book, TODAY)
    state.set("mirror", MIRROR)
    state.choose_recipe("debian-slim")
    assert state.answers.mirror == MIRROR


def test_an_output_folder_that_cannot_be_made_is_a_problem_of_the_image_step(tmp_path: Path):
    state = WizardState(BOOK, TODAY)
    state.set("mirror", MIRROR)
    state.set("output.dir", "/proc/nope")
    [problem] = state.problems()
    assert (problem.key, state.first_problem_step()) == ("output.dir", "image")
    assert state.resolved() is None
    state.set("output.dir", str(tmp_path / "made" / "later"))
    assert state.problems() == [] and not (tmp_path / "made").exists()


def test_the_subtitle_says_the_size_in_one_unit_style():
    state = WizardState(BOOK, TODAY)
    assert state.subtitle().endswith("1.3 GB")
