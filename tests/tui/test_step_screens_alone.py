"""Step screens run in a bare App: they use the state and services they are given, and ask for moves by message.

Nothing here is an EmiApp, so a screen that reached into the App for its
state, apt, the clock or the next step would fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import NOW, SIZE, TODAY, fake_package_catalog, fake_readiness
from fake_build import ScreenApp, wait_for
from textual import on

from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build.package_catalog import CatalogSource, PackageCatalog
from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.screens.wizard.packages import PackagesScreen
from emi_tui.tui.screens.wizard.summary import SummaryScreen
from emi_tui.tui.state.wizard_state import open_answers


class RecordingApp(ScreenApp):
    """Shows one screen and records what it asks of the App."""

    def __init__(self, make_screen) -> None:
        super().__init__(make_screen)
        self.asked: list[tuple[str, object]] = []

    @on(StepScreen.Next)
    def _next(self, message: StepScreen.Next) -> None:
        self.asked.append(("next", message.step))

    @on(SummaryScreen.Build)
    def _build(self, message: SummaryScreen.Build) -> None:
        self.asked.append(("build", (message.answers_path, message.dry_run)))


async def test_packages_asks_the_loader_it_was_given_and_fills_the_catalogs_it_was_given(answers_file):
    state = open_answers(answers_file(), RecipeBook(), TODAY).state
    asked: list[CatalogSource] = []
    catalogs: dict[CatalogSource, PackageCatalog] = {}

    def loader(source: CatalogSource) -> PackageCatalog:
        asked.append(source)
        return fake_package_catalog(source)

    app = RecordingApp(lambda: PackagesScreen(state, loader=loader, catalogs=catalogs))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: catalogs)
        assert [(s.release, s.arch) for s in asked] == [("bookworm", "amd64")] and list(catalogs) == asked
        assert state.current_catalog() is catalogs[asked[0]]
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: app.asked)
        assert app.asked == [("next", "packages")]


async def test_summary_dates_the_history_copy_with_the_clock_it_was_given_and_asks_for_the_build(answers_file, home):
    state = open_answers(answers_file(), RecipeBook(), TODAY).state
    state.set("metadata.swap", False)  # changed since the file was saved: Build keeps a copy in the history
    app = RecordingApp(lambda: SummaryScreen(state, now=lambda: NOW, readiness=fake_readiness))
    async with app.run_test(size=SIZE) as pilot:
        summary = app.screen
        await wait_for(pilot, lambda: summary.readiness is not None)  # the checks it was given ran
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: app.screen is not summary)
        await pilot.press("y")  # the root confirmation
        await wait_for(pilot, lambda: app.asked)
    path = home / ".local/share/emi-tui/history/20261128-093000-euca-debian-2026.11.28-x86_64.yaml"
    assert app.asked == [("build", (path, False))] and path.is_file()
