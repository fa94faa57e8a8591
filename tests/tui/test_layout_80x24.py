"""80x24 is a first-class size: the step list folds into a bar, the footer keeps every key, help scrolls, labels show."""

from __future__ import annotations

from pathlib import Path

from conftest import SIZE
from fake_build import wait_for
from layout_checks import first_label_hidden, footer_missing_keys, narrow_panes
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from emi_tui.tui.screens.review.review import ReviewScreen
from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.screens.wizard.distro import DistroScreen
from emi_tui.tui.screens.wizard.help import HelpScreen
from emi_tui.tui.screens.wizard.home import HomeScreen
from emi_tui.tui.screens.wizard.summary import SummaryScreen
from emi_tui.tui.widgets.sidebar import StepSidebar

SMALL = (80, 24)
STEPS = ["distro", "size", "packages", "metadata", "image", "summary"]


async def test_the_sidebar_folds_into_a_one_line_step_bar_under_100_columns(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SummaryScreen)
        sidebar, bar = screen.query_one(StepSidebar), screen.query_one("#step-bar")
        assert not sidebar.display and bar.display
        assert bar.region.height == 1 and bar.region.width > 60
        shown = str(bar.render())
        assert all(title in shown for title in ("Distro", "Size", "Packages", "Metadata", "Image", "Summary"))
        # Still reached by F2: left to Image, Enter opens it.
        await pilot.press("f2")
        assert app.focused is bar
        await pilot.press("left", "enter")
        await pilot.pause()
        assert app.screen.STEP == "image"
        # Re-evaluated on resize: wide again, the sidebar is back and F2 reaches it.
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.screen.query_one(StepSidebar).display and not app.screen.query_one("#step-bar").display
        await pilot.press("f2")
        assert isinstance(app.focused, StepSidebar)
        await pilot.resize_terminal(99, 30)
        await pilot.pause()
        assert not app.screen.query_one(StepSidebar).display and app.screen.query_one("#step-bar").display


async def _open_by_list(pilot, step: str) -> None:
    await pilot.press("f2", "home", *["down"] * STEPS.index(step), "enter")
    await pilot.pause()
    assert step == pilot.app.screen.STEP


async def test_f2_then_down_stops_at_the_last_step_and_up_at_the_first(make_app, answers_file):
    for size in (SIZE, SMALL):  # the sidebar, then the bar
        app = make_app(answers_path=answers_file())
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            assert app.screen.STEP == "summary"
            await pilot.press("f2", "down", "down", "enter")
            await pilot.pause()
            assert app.screen.STEP == "summary", f"{size}: Down past the last step wrapped to {app.screen.STEP}"
            await _open_by_list(pilot, "distro")
            await pilot.press("f2", "up", "up", "enter")
            await pilot.pause()
            assert app.screen.STEP == "distro", f"{size}: Up past the first step wrapped to {app.screen.STEP}"
            await pilot.press("f2", "down", "enter")
            await pilot.pause()
            assert app.screen.STEP == "size"


async def _each_step(app, pilot):
    """Yield each build step's screen in turn, from a new build (Next on each but the Summary)."""
    await pilot.press("ctrl+n")
    for step in STEPS:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StepScreen) and step == screen.STEP
        yield screen
        if step != "summary":  # there ctrl+n would start the build
            await pilot.press("ctrl+n")


async def test_every_step_at_80x24_opens_with_its_first_label_in_view(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        problems = [problem async for screen in _each_step(app, pilot) for problem in first_label_hidden(screen)]
        assert problems == []


async def test_every_screen_at_80x24_shows_every_key_in_the_footer(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        problems = footer_missing_keys(app.screen)
        problems += [problem async for screen in _each_step(app, pilot) for problem in footer_missing_keys(screen)]
        assert problems == []


async def test_the_home_footer_keeps_continue_at_80_columns(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("escape")  # back to Home, with a build in progress: Continue joins the footer
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert footer_missing_keys(app.screen) == []


async def test_help_at_80x24_is_not_clipped_and_scrolls_to_its_last_line(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        dialog = help_screen.query_one("#help-dialog")
        assert help_screen.region.contains_region(dialog.region), dialog.region
        hint = help_screen.query_one(".dialog-hint", Static)
        assert dialog.region.contains_region(hint.region) and hint.region.height >= 1
        scroll = help_screen.query_one("#help-scroll")
        keys = help_screen.query_one("#help-keys", Static)
        assert keys.region.height > scroll.region.height  # more keys than rows: it must scroll, not cut
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y > 0


async def test_review_at_80x24_keeps_its_keys_and_its_table_columns(tmp_path: Path):
    from fake_build import ScreenApp, wait_for
    from test_review_screen import fake_entry
    from textual.widgets._footer import FooterKey

    entries = [fake_entry(f"/srv/images/catalog-{n}", image_name=f"euca-{n}") for n in range(3)]
    app = ScreenApp(lambda: ReviewScreen([Path("x")], reviewer=lambda paths: entries))
    async with app.run_test(size=SMALL) as pilot:
        screen = app.screen_under_test
        await wait_for(pilot, lambda: len(screen.entries) == 3)
        # The footer redraws itself after the load (recomposed after a refresh): wait for its new keys.
        await wait_for(pilot, lambda: any(key.action == "mark" and not key.has_class("-disabled") for key in screen.query(FooterKey)))
        assert screen.query_one(DataTable).row_count == 3
        assert narrow_panes(screen) == []
        assert footer_missing_keys(screen) == []


async def test_the_layout_checks_catch_what_they_are_for(make_app):
    """The checks themselves: each reports a fault it is shown."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DistroScreen)
        screen.query_one("#distro-form").scroll_to(y=3, animate=False, immediate=True)
        await pilot.pause()
        assert first_label_hidden(screen) != []
        footer = screen.query_one("Footer")
        footer.styles.width = 20
        await pilot.pause()
        assert footer_missing_keys(screen) != []
        pane = screen.query_one("#distro-form")
        pane.styles.width = 4
        await pilot.pause()
        assert narrow_panes(screen, ("#distro-form",)) != []


async def test_the_modify_steps_at_80x24_show_their_first_label_every_key_and_whole_columns(make_app, tmp_path: Path):
    from modify_fakes import fake_reader
    from test_modify_wizard import artifact_in
    from textual.widgets import Input

    app = make_app(artifact_reader=fake_reader(), remember=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#artifact", Input).value = str(artifact_in(tmp_path))
        await wait_for(pilot, lambda: app.state.look is not None and not app.state.problems_for("artifact"))
        problems = []
        for step in ("artifact", "packages", "metadata", "changes"):
            screen = app.screen
            assert step == screen.STEP and screen.has_class("-narrow")
            await app.workers.wait_for_complete()
            await pilot.pause()
            problems += first_label_hidden(screen) + footer_missing_keys(screen) + narrow_panes(screen)
            if step != "changes":  # there ctrl+n asks to start the modify
                await pilot.press("ctrl+n")
                await pilot.pause()
        assert problems == []


async def test_the_summary_at_80x24_shows_the_answer_files_first_column_and_every_check(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.checks_done)
        screen = app.screen
        assert narrow_panes(screen, ("#answers-yaml",)) == []
        offline = screen.query_one("#offline-row Label")
        assert offline.region.right <= screen.query_one("#summary-side").region.right  # "Offline (no mirror checks)" in full
        assert str(offline.render()) == "Offline (no mirror checks)" and offline.content_size.width == len("Offline (no mirror checks)")
        assert first_label_hidden(screen) + footer_missing_keys(screen) == []


#: The text panes of each step whose lines must never be cut narrower than their first column
#: (the rc.local preview is shell code, with no columns: it scrolls sideways, checked below).
PANES = {"summary": ("#answers-yaml",)}


async def test_no_table_or_pane_of_a_step_at_80x24_is_narrower_than_its_first_column(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.checks_done)
        problems = []
        for step in STEPS:
            app.goto_step(step)
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            problems += narrow_panes(app.screen, PANES.get(step, ()))
            if step == "metadata":  # code is never wrapped: one row a line, and the pane scrolls sideways
                preview, code = app.screen.query_one("#rc-preview"), app.screen.query_one("#rc-local", Static)
                assert code.region.height == len(str(code.render()).splitlines()) and preview.max_scroll_x > 0
        assert problems == []


async def test_the_dialogs_at_80x24_show_every_key_and_fit_the_screen(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.checks_done)
        problems = []
        for key, dialog in (("ctrl+n", "ConfirmRoot"), ("f1", "HelpScreen")):
            await pilot.press(key)
            await wait_for(pilot, lambda name=dialog: type(app.screen).__name__ == name)
            screen = app.screen
            for child in screen.children:
                if child.display and child.region.area:
                    assert screen.region.contains_region(child.region), f"{dialog}: {child} at {child.region}"
            if dialog == "ConfirmRoot":  # a modal dialog: its own keys (the app's stay out of a modal's footer)
                footer = screen.query_one("Footer")
                shown = {key.action: key.region for key in footer.query(FooterKey)}
                for binding in type(screen).BINDINGS:
                    region = shown.get(binding.action)
                    if binding.show and (region is None or not footer.region.contains_region(region) or region.width == 0):
                        problems.append(f"{dialog}: {binding.key} {binding.description!r} is not wholly in the footer")
                start = screen.query_one("#confirm-dialog").query("Button").last()
                assert screen.region.contains_region(start.region) and start.region.height > 0
            await pilot.press("escape")
            await pilot.pause()
        assert problems == []


async def test_the_build_done_and_boot_test_screens_at_80x24_keep_every_key(tmp_path: Path, monkeypatch):
    from fake_build import FakeBuild, FakeResult, ScreenApp, sample_answers
    from test_boottest_screen import FakeBoot

    from emi_tui.tui.screens.job import boottest
    from emi_tui.tui.screens.job.boottest import BootTestScreen
    from emi_tui.tui.screens.job.build import BuildScreen
    from emi_tui.tui.screens.job.done import DoneScreen

    monkeypatch.setattr(boottest, "default_boot_runner", FakeBoot(lines_per_check=2))
    answers, recipe = sample_answers()
    fake = FakeBuild(lines_per_step=3, hold_at="zerofree")
    app = ScreenApp(lambda: BuildScreen(answers, recipe, Path("answers.yaml"), runner=fake))
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: fake.holding.is_set())
        await pilot.pause()
        problems = footer_missing_keys(app.screen) + narrow_panes(app.screen)
    tarball = tmp_path / "euca-debian-2026.11.28-x86_64.tgz"
    tarball.write_bytes(b"stand-in")
    app = ScreenApp(lambda: DoneScreen(FakeResult(True, [tarball], "", seconds=60.0), answers))
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        problems += footer_missing_keys(app.screen)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BootTestScreen) and app.screen.finished)
        await pilot.pause()
        problems += footer_missing_keys(app.screen) + narrow_panes(app.screen)
    assert problems == []


async def test_home_at_80x24_shows_every_button_whole_even_with_a_build_in_progress(make_app, history):
    from textual.widgets import Button

    history("20261120-081500-euca-debian-2026.11.20-x86_64.yaml")
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        for in_progress in (False, True):
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, HomeScreen)
            buttons = [button for button in screen.query(Button) if button.display]
            assert len(buttons) == 5 + in_progress  # New, Open, Review, Modify, Release a catalog (and Continue)
            for button in buttons:  # each wholly on the screen, or brought wholly into view when it has the focus
                button.focus()
                await pilot.pause()
                seen = button.region.intersection(button.parent.region)
                assert seen == button.region and screen.region.contains_region(button.region), f"{button.label}: {button.region}"
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press("escape")  # a build in progress: Continue joins the buttons


async def test_the_summary_checks_list_at_80x24_keeps_room_for_its_checks(make_app):
    from textual.widgets import OptionList

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+n")
        app.goto_step("summary")  # a new build, not saved yet: the longest saved-note
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.checks_done)
        listing = app.screen.query_one("#problem-list", OptionList)
        assert listing.option_count >= 4
        assert listing.scrollable_content_region.height >= 4, listing.scrollable_content_region
