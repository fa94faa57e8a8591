"""Home, the mouse, help and the command palette."""

from __future__ import annotations

from conftest import SIZE, VALID_ANSWERS
from textual.widgets import OptionList, Static

from emi_tui.tui.screens.review.review import ReviewScreen
from emi_tui.tui.screens.wizard.distro import DistroScreen
from emi_tui.tui.screens.wizard.help import HelpScreen
from emi_tui.tui.screens.wizard.home import HomeScreen
from emi_tui.tui.screens.wizard.packages import PackagesScreen
from emi_tui.tui.screens.wizard.size import SizeScreen
from emi_tui.tui.screens.wizard.summary import SummaryScreen


async def test_a_build_by_mouse(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#new")
        await pilot.pause()
        assert isinstance(app.screen, DistroScreen)
        await pilot.click("#release-trixie")
        await pilot.click("#arch-aarch64")
        await pilot.click("#mirror")
        await pilot.press(*"file:///m")  # the one thing a mouse cannot do
        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, SizeScreen)
        await pilot.click("#size-large")
        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, PackagesScreen)
        answers = app.state.answers
        assert (answers.release, answers.arch, answers.size, answers.mirror) == ("trixie", "aarch64", "4.5G", "file:///m")
        # Back to the first step by clicking it in the step list: the choices are still there.
        await pilot.click("#steps", offset=(4, 1))
        await pilot.pause()
        assert isinstance(app.screen, DistroScreen)
        assert app.screen.query_one("#release").pressed_button.name == "trixie"
        # A step not reached yet cannot be clicked open.
        await pilot.click("#steps", offset=(4, 5))
        await pilot.pause()
        assert isinstance(app.screen, DistroScreen)


async def test_home_lists_recent_builds_newest_first_and_opens_one(make_app, history):
    history("20261101-080000-old.yaml", mtime=1_790_000_000)
    history("20261120-080000-new.yaml", VALID_ANSWERS.replace("size: 1.3G", "size: 4.5G"), mtime=1_795_000_000)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        listing = app.screen.query_one("#recent", OptionList)
        ids = [listing.get_option_at_index(i).id for i in range(listing.option_count)]
        assert [i.rsplit("/", 1)[1] for i in ids] == ["20261120-080000-new.yaml", "20261101-080000-old.yaml"]
        await pilot.press("ctrl+l", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert app.state.answers.size == "4.5G"


async def test_home_without_history_says_where_builds_will_appear(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        empty = str(app.screen.query_one("#recent-empty", Static).render())
        assert "No builds yet" in empty and "~/.local/share/emi-tui/history" in empty


async def test_home_opens_a_typed_answer_file(make_app, answers_file, tmp_path, monkeypatch):
    answers_file()
    monkeypatch.chdir(tmp_path)  # a short relative path: typing is slow in Pilot
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        assert app.focused.id == "answers-path"
        await pilot.press(*"answers.yaml", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("f2", "home", "enter")  # the step list: Distro
        await pilot.pause()
        assert isinstance(app.screen, DistroScreen)
        await pilot.press("ctrl+b")  # Back from the first step: Home
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert app.screen.query_one("#continue").display  # the build in progress can be taken up again


async def test_review_opens_the_review_screen(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)


async def test_help_lists_the_keys_on_f1_and_question_mark(make_app):
    from emi_tui.tui.screens.wizard.help import key_table

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        for key in ("f1", "question_mark"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, DistroScreen)
        rows = [cell for column in key_table(app).columns for cell in column._cells]
        for needed in ("Next", "Back", "Build", "Save answers…", "Dry run", "New build", "Help", "Theme", "^n", "f2"):
            assert needed in rows


async def test_the_command_palette_offers_the_wizard_commands_and_its_themes(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title in ("Theme", "New build", "Open answers…", "Review image-ids", "Help"):
            assert title in titles
        assert {"emi-dark", "emi-light", "emi-contrast", "textual-dark"} <= set(app.available_themes)
        await pilot.press("ctrl+n")
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Go to Size" not in titles  # not reached yet
