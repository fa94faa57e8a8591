"""What the wizard's step screens hold, at 80×24: the output folder, the mirror, the Image preview,
what opens in view, recipe descriptions, the words used, and the rc.local preview (issue 16).
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import VALID_ANSWERS
from fake_build import wait_for
from modify_fakes import FakeModify, fake_reader
from textual.containers import ScrollableContainer
from textual.widgets import Button, Checkbox, Input, Label, Static

from emi_tui.engine.answers.model import Metadata
from emi_tui.tui.screens.modify.artifact import ArtifactScreen
from emi_tui.tui.screens.modify.changes import ChangesScreen
from emi_tui.tui.screens.wizard.distro import DistroScreen
from emi_tui.tui.screens.wizard.metadata import PREVIEW_DELAY, MetadataScreen
from emi_tui.tui.screens.wizard.packages import PackagesScreen

SMALL = (80, 24)
STEPS = ["distro", "size", "packages", "metadata", "image", "summary"]


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def screen_lines(app) -> list[str]:
    """The screen as the terminal shows it, one string per row."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def shown_in(app, widget) -> str:
    """The text the terminal shows inside `widget`'s region, rows joined, spaces collapsed."""
    region = widget.region
    rows = screen_lines(app)[region.y : region.bottom]
    return " ".join(" ".join(row[region.x : region.right].split()) for row in rows)


async def open_step(pilot, step: str) -> None:
    """From a replayed file, open `step` by the step list: F2, arrows, Enter."""
    await pilot.press("f2", "home", *["down"] * STEPS.index(step), "enter")
    await pilot.pause()
    assert step == pilot.app.screen.STEP


async def retype(pilot, text: str) -> None:
    await pilot.press("ctrl+u", *text)
    await pilot.pause()


# -- defect 1: an unusable output folder ---------------------------------------------------------------


async def test_an_output_folder_that_cannot_be_made_is_the_fields_problem(make_app, answers_file, tmp_path):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await open_step(pilot, "image")
        app.screen.query_one("#out-dir", Input).focus()
        await retype(pilot, "/proc/nope")
        screen = app.screen
        assert app.state.answers.output.dir == "/proc/nope"
        assert screen.query_one("#out-dir-problem", Static).has_class("-shown")
        assert "/proc/nope cannot be made" in text_of(screen, "#out-dir-problem")
        assert screen.query_one("#next", Button).disabled
        assert [p.key for p in app.state.problems_for("summary")] == ["output.dir"]  # the Summary sees it too
        # A folder that can be made is fine, and looking at it makes nothing.
        await retype(pilot, str(tmp_path / "new" / "deep"))
        assert not screen.query_one("#out-dir-problem", Static).has_class("-shown")
        assert not screen.query_one("#next", Button).disabled
        assert not (tmp_path / "new").exists()


async def test_modify_refuses_an_output_folder_that_cannot_be_made(make_app, tmp_path):
    fake = FakeModify()
    artifact = tmp_path / "euca-debian-2026.01.02-x86_64.tgz"
    artifact.write_bytes(b"stand-in")
    app = make_app(artifact_reader=fake_reader(), modify_runner=fake, remember=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#artifact", Input).value = str(artifact)
        await wait_for(pilot, lambda: app.state.look is not None and not app.state.problems_for("artifact"))
        for _ in range(3):
            await pilot.press("ctrl+n")
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangesScreen)
        screen.query_one("#output", Input).focus()
        await pilot.press(*"/proc/nope")
        await pilot.pause()
        assert "/proc/nope cannot be made" in text_of(screen, "#output-problem")
        await pilot.press("ctrl+n")  # Start modify…: refused before its confirmation is even asked
        await pilot.pause()
        assert app.screen is screen and fake.requests == []


# -- defect 3: a recipe change leaves no stale mirror ------------------------------------------------------


async def test_a_recipe_of_another_distro_puts_back_its_own_mirror(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DistroScreen) and app.focused.id == "recipe"
        await pilot.press("down", "enter")  # debian-based -> ubuntu-based, which has no mirror of its own
        await pilot.pause()
        # The missing mirror is the Mirror field's problem, and the cursor is there to type it.
        assert "mirror" not in text_of(screen, "#recipe-problem")
        assert "an Ubuntu mirror" in text_of(screen, "#mirror-problem")
        assert app.focused.id == "mirror"
        await pilot.pause(0.1)
        line = screen.query_one("#mirror-problem", Static)
        assert app.screen.get_widget_at(line.region.x + 2, line.region.bottom - 1)[0] is line  # all of it in view
        await pilot.press(*"http://u.example/ubuntu")
        await pilot.pause()
        assert app.state.answers.mirror == "http://u.example/ubuntu"
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "up", "enter")  # back to debian-based
        await pilot.pause()
        assert app.state.answers.recipe == "debian-based"
        assert app.state.answers.mirror is None  # Debian's own default, not Ubuntu's mirror
        assert screen.query_one("#mirror", Input).value == ""
        await pilot.press("down", "enter")  # and Ubuntu again: the mirror typed for it comes back
        await pilot.pause()
        assert app.state.answers.mirror == "http://u.example/ubuntu"
        assert screen.query_one("#mirror", Input).value == "http://u.example/ubuntu"
        assert not screen.query_one("#mirror-problem", Static).has_class("-shown")


# -- defect 4: no raw values in the Image preview -------------------------------------------------------


async def test_the_image_preview_says_what_is_written_only_when_it_is_known(make_app, answers_file):
    app = make_app(answers_path=answers_file(VALID_ANSWERS + "output:\n  dir: /proc/nope\n"))
    async with app.run_test(size=SMALL) as pilot:
        await open_step(pilot, "image")
        app.screen.query_one("#img-name", Input).focus()
        await retype(pilot, "bad name")
        preview = text_of(app.screen, "#image-preview")
        assert "None" not in preview and "/proc/nope" not in preview
        assert "known once the fields above have no problems" in preview
        await retype(pilot, "web")
        app.screen.query_one("#out-dir", Input).focus()
        await retype(pilot, "out")  # relative: a folder any user can make
        assert "Writes  out/euca-debian-2026.11.28-x86_64.img" in text_of(app.screen, "#image-preview")


# -- defect 5: what opens in view -----------------------------------------------------------------------


async def test_the_image_step_opens_with_its_first_label_in_view(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await open_step(pilot, "image")
        await pilot.pause(0.2)
        form = app.screen.query_one("#image-form", ScrollableContainer)
        first = form.query(Label).first()
        assert form.scroll_y == 0
        widget, _ = app.screen.get_widget_at(first.region.x, first.region.y)
        assert widget is first


async def test_recipe_descriptions_are_shown_in_full(make_app):
    for size in (SMALL, (120, 40)):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause(0.2)
            screen = app.screen
            for name, recipe in app.state.book.recipes.items():
                button = screen.query_one(f"#recipe-{name}")
                shown = shown_in(app, button)
                assert " ".join(recipe.description.split()) in shown, (size, shown)


# -- defect 8: words --------------------------------------------------------------------------------------


async def test_step_labels_speak_words_with_the_key_only_as_a_hint(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await open_step(pilot, "metadata")
        screen = app.screen
        for name in Metadata.model_fields:
            field = screen.query_one(f"#md-{name}")
            if isinstance(field, Checkbox):
                label = str(field.label)
            else:  # an Input or a Select, under its Label
                siblings = list(field.parent.children)
                label = str(siblings[siblings.index(field) - 1].render())
            assert not label.startswith(name), label  # "url", "ssh_key", "udev_xvd" are not labels
        await open_step(pilot, "image")
        labels = [str(label.render()) for label in app.screen.query(".option-label")]
        assert not any(re.match(r"image_(name|version|file)\b", label) for label in labels), labels
        assert not any(label.startswith(("kernel ", "output folder", "compression")) for label in labels), labels


async def test_problems_speak_of_fields_not_keys_with_todays_example(make_app, answers_file):
    app = make_app(answers_path=answers_file(), today=date(2027, 1, 5))
    async with app.run_test(size=SMALL) as pilot:
        await open_step(pilot, "image")
        app.screen.query_one("#img-version", Input).focus()
        await retype(pilot, "")
        app.screen.query_one("#img-file", Input).focus()
        await retype(pilot, "a/b.img")
        problem = text_of(app.screen, "#img-file-problem")
        assert "plain file name" in problem and "output.dir" not in problem
        await retype(pilot, "b.tgz")
        problem = text_of(app.screen, "#img-file-problem")
        assert "like euca-debian-2027.01.05-x86_64.img" in problem  # the example is today's name, not a stale date


async def test_sizes_are_said_in_one_unit_style(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await open_step(pilot, "size")
        await pilot.press("down", "down", "enter")  # Custom
        await pilot.press(*"500M")
        await pilot.pause()
        screen = app.screen
        said = " ".join([text_of(screen, "#fit-text"), text_of(screen, "#size-problem"), screen.sub_title])
        assert "600.0 MB" in said and "500.0 MB" in said
        assert not re.search(r"\d[KMGT]\b", said), said


async def test_modify_speaks_of_fields_and_of_where_its_metadata_comes_from(make_app, tmp_path):
    artifact = tmp_path / "euca-debian-2026.01.02-x86_64.tgz"
    artifact.write_bytes(b"stand-in")
    app = make_app(artifact_reader=fake_reader(stored=None), modify_runner=FakeModify(), remember=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, ArtifactScreen)
        labels = " ".join(str(label.render()) for label in app.screen.query(Label))
        assert "answer file" in labels and "--answers" not in labels  # a field, not the command line's flag
        app.screen.query_one("#artifact", Input).value = str(artifact)
        await wait_for(pilot, lambda: app.state.look is not None and not app.state.problems_for("artifact"))
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PackagesScreen)
        assert "no stored answers" in text_of(app.screen, "#step-intro")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, MetadataScreen)
        intro = text_of(app.screen, "#step-intro")
        assert "the image's answers" not in intro and "no stored answers" in intro  # as the Packages step says
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangesScreen)
        screen.query_one("#grow", Input).focus()
        await pilot.press(*"abc")
        await pilot.pause()
        problem = text_of(screen, "#grow-problem")
        assert "'abc' is not a size" in problem and "--grow" not in problem


# -- defect 11: the rc.local preview ---------------------------------------------------------------------


async def test_the_rc_local_preview_scrolls_sideways_marks_changes_and_stays_through_a_problem(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await open_step(pilot, "metadata")
        await pilot.pause(PREVIEW_DELAY + 0.1)
        screen = app.screen
        pane = screen.query_one("#rc-preview", ScrollableContainer)
        script = screen.preview_text
        assert script
        # Shell lines are never wrapped: the code is as wide as its longest line, and the pane scrolls sideways.
        code = screen.query_one("#rc-local", Static)
        assert code.size.width >= max(len(line) for line in script.splitlines())
        assert code.size.height == len(script.splitlines())
        assert pane.max_scroll_x > 0
        # An edit marks the lines it changed.
        screen.query_one("#md-hostname").focus()
        await pilot.press("space")  # hostname off
        await pilot.pause(PREVIEW_DELAY + 0.2)
        rows = str(code.render()).splitlines()
        marked_rows = [row for row in rows if row.startswith("▌")]
        assert any("hostname:   off" in row for row in marked_rows), marked_rows
        assert not any("ssh_key:" in row for row in marked_rows)  # unchanged lines are not marked
        assert "changed" in str(pane.border_subtitle)
        # A problem keeps the last good preview, marked stale.
        good = screen.preview_text
        screen.query_one("#md-url", Input).focus()
        await pilot.press("end", "!")
        await pilot.pause(PREVIEW_DELAY + 0.2)
        assert screen.query_one("#md-url-problem", Static).has_class("-shown")
        assert screen.preview_text == good and screen.preview_stale
        assert "hostname:   off" in str(code.render())
        stale = screen.query_one("#rc-stale", Static)
        assert stale.display and "stale" in str(stale.render())
        assert "stale" in str(pane.border_title)
