"""The wizard's "Release a catalog": Home → the grid → the plan → the builds' table → the catalog reviewed, at 80×24.

The catalog build is faked at the engine boundary (`run_catalog`, see
catalog_fakes.py): the screens get the engine's real events, and the end
screen reviews a real EMI-IDs written by the engine's own writer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from catalog_fakes import FakeCatalogRun
from conftest import TODAY
from textual.widgets import Button, DataTable, Input, Static

from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.catalog import build as catalog_build
from emi_tui.engine.catalog.resolve import resolve_file
from emi_tui.tui.screens.catalog.end import CatalogEndScreen
from emi_tui.tui.screens.catalog.image_log import CatalogImageLogScreen
from emi_tui.tui.screens.catalog.matrix import CatalogMatrixScreen
from emi_tui.tui.screens.catalog.plan import CatalogPlanScreen
from emi_tui.tui.screens.catalog.running import CatalogRunScreen
from emi_tui.tui.screens.job.confirm_cancel import ConfirmCancel
from emi_tui.tui.screens.wizard.confirm_build import ConfirmRoot
from emi_tui.tui.screens.wizard.home import HomeScreen

SMALL = (80, 24)
FOUR = ["debian x86_64 12", "debian large x86_64 12", "debian i386 12", "debian large i386 12"]


async def until(pilot, condition, tries: int = 300) -> None:
    """Let the app work until `condition()` holds (a bounded number of turns, no clock)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause()
    assert condition(), "the app never got there"


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pytest.fixture
def fake_run(monkeypatch):
    def install(**options) -> FakeCatalogRun:
        fake = FakeCatalogRun(**options)
        monkeypatch.setattr(catalog_build, "run_catalog", fake)
        return fake

    return install


async def open_picker(pilot, folder: Path) -> CatalogMatrixScreen:
    await pilot.press("ctrl+k")
    await until(pilot, lambda: isinstance(pilot.app.screen, CatalogMatrixScreen))
    screen = pilot.app.screen
    screen.query_one("#folder", Input).value = str(folder)
    await pilot.pause()
    screen.query_one("#grid", DataTable).focus()
    await pilot.pause()
    return screen


async def to_running(pilot, folder: Path) -> CatalogRunScreen:
    await open_picker(pilot, folder)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, CatalogPlanScreen))
    await pilot.press("b")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmRoot))
    await pilot.press("y")
    # A fake that is not held ends at once, and the end screen may already be over the table.
    await until(pilot, lambda: any(isinstance(s, CatalogRunScreen) for s in pilot.app.screen_stack))
    return next(s for s in pilot.app.screen_stack if isinstance(s, CatalogRunScreen))


async def test_home_offers_release_a_catalog_by_button_and_by_key(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        assert "ctrl+k" in {b.key for b in HomeScreen.BINDINGS}
        assert len({b.key for b in HomeScreen.BINDINGS}) == len(HomeScreen.BINDINGS)  # no key bound twice
        app.screen.query_one("#catalog", Button).press()
        await until(pilot, lambda: isinstance(app.screen, CatalogMatrixScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, CatalogMatrixScreen))


async def test_the_grid_is_toggled_with_the_keyboard_and_problems_disable_next(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_picker(pilot, tmp_path / "release")
        pick = screen.pick
        # It starts on the seed's family: debian, x86_64 and i386, standard and large; the cursor on its first cell.
        assert {c[1:] for c in pick.chosen} == {("x86_64", "1.3G"), ("x86_64", "4.5G"), ("i386", "1.3G"), ("i386", "4.5G")}
        assert [i.heading for i in screen.resolved.images] == FOUR
        assert not screen.query_one("#next", Button).disabled
        await pilot.press("space")  # unpick debian x86_64 1.3G
        assert ("debian-based", "x86_64", "1.3G") not in pick.chosen
        assert [i.heading for i in screen.resolved.images] == FOUR[1:]
        await pilot.press("space")
        assert ("debian-based", "x86_64", "1.3G") in pick.chosen
        # ubuntu has no default mirror: picking it is a problem in words, and Next is disabled.
        await pilot.press("down", "space")
        assert ("ubuntu-based", "x86_64", "1.3G") in pick.chosen
        assert screen.query_one("#next", Button).disabled
        assert "no default mirror" in text_of(screen, "#catalog-problems")
        await pilot.press("enter")
        assert isinstance(app.screen, CatalogMatrixScreen)  # Enter does not go past a problem
        await pilot.press("space")
        assert not screen.query_one("#next", Button).disabled and text_of(screen, "#catalog-problems") == ""
        # ubuntu builds no i386: that cell cannot be picked.
        await pilot.press("right", "right", "space")
        assert ("ubuntu-based", "i386", "1.3G") not in pick.chosen
        # r changes the release of the recipe under the cursor.
        await pilot.press("up", "r")
        assert pick.releases["debian-based"] != "bookworm"
        assert {e["release"] for e in pick.mapping()["entries"]} == {pick.releases["debian-based"]}


async def test_ctrl_s_saves_a_catalog_file_that_resolves_to_the_same_images(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_picker(pilot, tmp_path / "release")
        await pilot.press("ctrl+s")
        await pilot.pause()
        path = tmp_path / "release.yaml"
        prompt = app.screen
        field = prompt.query_one(Input)
        field.value = str(path)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CatalogMatrixScreen))
    saved = resolve_file(path, RecipeBook.named(None), TODAY)
    assert saved.ok, saved.problems
    assert [i.heading for i in saved.images] == FOUR
    assert saved.folder == (tmp_path / "release").resolve()
    assert {i.answers.output.compress for i in saved.images} == {"zstd"}


async def test_the_plan_shows_bases_and_jobs_and_nothing_runs_without_a_clear_yes(make_app, tmp_path, fake_run):
    fake = fake_run()
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_picker(pilot, tmp_path / "release")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CatalogPlanScreen))
        plan_screen = app.screen
        table = plan_screen.query_one("#plan-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        # The first image of each base bootstraps it; the large ones take it from the cache.
        assert [(r[0], r[1]) for r in rows] == [
            ("debian x86_64 12", "bootstraps it"), ("debian i386 12", "bootstraps it"),
            ("debian large x86_64 12", "from the cache"), ("debian large i386 12", "from the cache"),
        ]
        assert [r[2] for r in rows] == ["1.3 GB", "1.3 GB", "4.5 GB", "4.5 GB"]
        bases = text_of(plan_screen, "#plan-bases")
        assert "2 shared bases" in bases and "debian-based bookworm i386: 2 image(s)" in bases
        assert plan_screen.choice.reason in text_of(plan_screen, "#plan-jobs")
        jobs = plan_screen.jobs
        await pilot.press("minus" if jobs > 1 else "plus")
        assert plan_screen.jobs != jobs and "as chosen" in text_of(plan_screen, "#plan-jobs")
        # Build… asks; Cancel has the focus, so Enter starts nothing.
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRoot))
        assert "EMI-IDs" in text_of(app.screen, "#confirm-lines")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is plan_screen)
        assert fake.calls == []
        # Enter on the plan goes forward too, to the same question: a second Enter still cancels.
        plan_screen.query_one("#plan-table", DataTable).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRoot))
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is plan_screen)
        assert fake.calls == []
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, CatalogMatrixScreen))


async def test_every_image_has_a_row_and_the_end_reviews_the_catalog_with_every_stamp_verified(make_app, tmp_path, fake_run):
    fake = fake_run()
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        running = await to_running(pilot, tmp_path / "release")
        await until(pilot, lambda: isinstance(app.screen, CatalogEndScreen) and app.screen.entries)
        assert fake.calls[0].jobs == running.jobs
        table = running.query_one("#run-table", DataTable)
        rows = {str(table.get_row_at(i)[0]): [str(c) for c in table.get_row_at(i)] for i in range(table.row_count)}
        assert sorted(rows) == sorted(FOUR)
        assert all(r[4] == "built" and r[1] == "bootstrap" and "100%" in r[2] for r in rows.values())
        end = app.screen
        await until(pilot, lambda: "verified" in text_of(end, "#catalog-summary"))
        assert "4 images" in text_of(end, "#catalog-summary") and "every stamp verified" in text_of(end, "#catalog-summary")
        assert "EMI-IDs, SHA256SUMS, RELEASE-NOTES.md" in text_of(end, "#catalog-summary")
        assert sorted(e.entry for e in end.entries) == sorted(FOUR)
        assert all(e.stamp_check.verified for e in end.entries)
        review = end.query_one("#entries", DataTable)
        assert review.row_count == 4 and all(str(review.get_row_at(i)[2]) == "verified" for i in range(4))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is running)
        assert running.status == "built"


async def test_enter_on_a_row_opens_that_images_live_log(make_app, tmp_path, fake_run):
    fake = fake_run(hold=True)
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        running = await to_running(pilot, tmp_path / "release")
        await until(pilot, lambda: fake.holding.is_set() and running.rows[FOUR[0]].lines)
        await until(pilot, lambda: str(running.query_one("#run-table", DataTable).get_row_at(0)[4]) == "building")
        running.query_one("#run-table", DataTable).move_cursor(row=0)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CatalogImageLogScreen))
        log = app.screen
        assert log.heading == FOUR[0]
        assert f"I: Retrieving Packages for {FOUR[0]}" in log.text
        fake.release.set()  # a line printed while the log is open arrives in it
        await until(pilot, lambda: f"I: Extracting base-files for {FOUR[0]}" in log.text)
        assert "debian i386 12" not in log.text  # only this image's lines
        # The catalog was finished while the log was open: the review waits for the operator, behind v.
        await until(pilot, lambda: running.status == "built")
        assert app.screen is log
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is running)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, CatalogEndScreen))


async def test_escape_cancels_every_build_after_asking(make_app, tmp_path, fake_run):
    fake = fake_run(hold=True)
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        running = await to_running(pilot, tmp_path / "release")
        await until(pilot, lambda: fake.holding.is_set())
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmCancel))
        await pilot.press("n")  # keep building
        await until(pilot, lambda: app.screen is running)
        assert not running._cancel.is_set()
        await pilot.press("ctrl+c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmCancel))
        await pilot.press("y")
        await until(pilot, lambda: running.status == "cancelled")
        table = running.query_one("#run-table", DataTable)
        assert {str(table.get_row_at(i)[4]) for i in range(table.row_count)} == {"cancelled"}
        assert "cancelled" in text_of(running, "#run-status")
        assert not (tmp_path / "release" / "EMI-IDs").exists()
        await pilot.press("escape")  # stopped: Esc is back to the plan
        await until(pilot, lambda: isinstance(app.screen, CatalogPlanScreen))


async def test_a_failed_image_is_said_and_the_others_are_kept(make_app, tmp_path, fake_run):
    fake_run(fail={"debian large i386 12"})
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        running = await to_running(pilot, tmp_path / "release")
        await until(pilot, lambda: running.status == "failed")
        table = running.query_one("#run-table", DataTable)
        results = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[4]) for i in range(table.row_count)}
        assert results == {**dict.fromkeys(FOUR, "built"), "debian large i386 12": "failed"}
        status = text_of(running, "#run-status")
        assert "1 image(s) failed: debian large i386 12" in status and "--retry-failed" in status
        assert not isinstance(app.screen, CatalogEndScreen)
        assert not running.query_one("#run-review", Button).display


async def test_retry_builds_only_what_failed_then_the_catalog_is_reviewed(make_app, tmp_path, fake_run):
    fake = fake_run(fail={"debian large i386 12"})
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        running = await to_running(pilot, tmp_path / "release")
        await until(pilot, lambda: running.status == "failed")
        assert running.query_one("#run-retry", Button).display
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, CatalogEndScreen) and app.screen.entries)
        assert [options.retry_failed for options in fake.calls] == [False, True]
        table = running.query_one("#run-table", DataTable)
        results = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[4]) for i in range(table.row_count)}
        assert results == {**dict.fromkeys(FOUR, "kept"), "debian large i386 12": "built"}
        assert sorted(e.entry for e in app.screen.entries) == sorted(FOUR)
        assert all(e.stamp_check.verified for e in app.screen.entries)


async def test_closing_an_images_log_while_it_still_builds_keeps_the_app_running(make_app, tmp_path, fake_run):
    # The running screen kept feeding the closed log screen, whose widgets were gone: the next batch ended the app.
    fake = fake_run(hold=True)
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        running = await to_running(pilot, tmp_path / "release")
        await until(pilot, lambda: fake.holding.is_set() and running.rows[FOUR[0]].lines)
        running.query_one("#run-table", DataTable).move_cursor(row=0)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CatalogImageLogScreen))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is running)
        fake.release.set()  # more lines of that image arrive after its log was closed
        await until(pilot, lambda: running.status == "built")
        await until(pilot, lambda: isinstance(app.screen, CatalogEndScreen))  # the release ends on its catalog, as always
        assert app.return_code is None
        assert f"I: Extracting base-files for {FOUR[0]}" in [text for _, text in running.rows[FOUR[0]].lines]
