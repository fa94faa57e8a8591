"""Issue 16, defect 9: progress weighted by step time with an ETA, the log's tools, and an honest cancel dialog."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import pytest
from fake_build import FakeBuild, ScreenApp, async_test, wait_for
from fake_build import build_screen_app as make_app
from fake_build import static_text as text_of
from textual.pilot import Pilot
from textual.widgets import Input, ProgressBar, Static

from emi_tui.engine.run.events import StepProgress
from emi_tui.tui.screens.job.confirm_cancel import ConfirmCancel
from emi_tui.tui.widgets.log_view import LogView
from emi_tui.tui.widgets.path_prompt import PathPrompt

SIZE = (80, 24)


@asynccontextmanager
async def held_build(**fake_options: Any) -> AsyncIterator[tuple[ScreenApp, Pilot]]:
    """A build screen running a FakeBuild (`fake_options`) that has got to the step it holds at."""
    fake = FakeBuild(**fake_options)
    app = make_app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: fake.holding.is_set())
        yield app, pilot


@async_test
async def test_progress_moves_through_the_bootstrap_by_its_packages_and_shows_an_eta(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # no timings yet: the defaults weigh the steps
    packages = StepProgress("bootstrap", 0.8, "150 of 158 packages fetched, 120 unpacked", 150, 158)
    fake = FakeBuild(hold_at="bootstrap", progress={"bootstrap": [packages]})
    app = make_app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: fake.holding.is_set() and app.screen_under_test.progress.detail != "")
        screen = app.screen_under_test
        screen._render_steps()
        # Counting steps said 1 of 8 (12%) here; the bootstrap is most of a build's time.
        assert screen.query_one(ProgressBar).percentage > 0.4
        assert "left" in text_of(screen, "#counts")
        assert "150 of 158 packages fetched" in text_of(screen, "#step-detail")


@pytest.mark.parametrize("cached", [False, True])
@async_test
async def test_the_cancel_dialog_promises_the_cached_base_only_when_it_is_cached(cached: bool):
    async with held_build(hold_at="chroot", cache_hit=cached) as (app, pilot):
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmCancel))
        text = str(app.screen.query_one("#confirm-text", Static).render())
        assert ("cached base" in text) is cached, text
        assert ("not in the cache yet" in text) is not cached
        await pilot.press("n")


@async_test
async def test_search_finds_next_and_previous_and_highlights_the_line():
    async with held_build(lines_per_step=4, hold_at="package") as (app, pilot):
        screen = app.screen_under_test
        log = screen.query_one(LogView)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"retrieving", "enter")
        await pilot.pause()
        found = log.matches()
        assert len(found) >= 2 and log.match_line == found[0]
        assert "retrieving" in log.lines[log.match_line].casefold()
        drawn = log.render_line(log.match_line - int(log.scroll_y))
        assert any(segment.style and segment.style.reverse for segment in drawn)  # the match is drawn reversed
        assert not any(segment.style and segment.style.reverse for segment in log.render_line(found[1] + 1 - int(log.scroll_y)))
        await pilot.press("n")
        assert log.match_line == found[1]
        await pilot.press("N")
        assert log.match_line == found[0]
        await pilot.press("shift+f3")  # wraps round to the last
        assert log.match_line == found[-1]
        await pilot.press("f3")
        assert log.match_line == found[0]
        assert f"1 of {len(found)}" in str(screen.query_one("#search-count").render())
        await pilot.press("slash", "escape")
        assert app.screen is screen and screen.status == "running"  # Escape closed the search, it did not cancel


@async_test
async def test_the_step_filter_and_wrap_change_what_the_log_shows():
    async with held_build(lines_per_step=3, hold_at="package") as (app, pilot):
        screen = app.screen_under_test
        log = screen.query_one(LogView)
        everything = log.line_count
        await pilot.press("l")  # the first step only
        assert log.step_filter == "preflight" and log.line_count == 3
        assert all(line.startswith("preflight") for line in log.lines)
        assert "preflight only" in log.border_title
        await pilot.press("l")
        assert log.step_filter == "bootstrap" and all(line.startswith("bootstrap") for line in log.lines)
        for _ in range(len(screen.log_steps()) - 1):
            await pilot.press("l")
        assert log.step_filter is None and log.line_count == everything
        longest = max(len(line) for line in log.lines)
        assert longest > log.scrollable_content_region.width  # the fake's lines are wider than the log at 80 columns
        await pilot.press("w")
        assert log.wrap and log.line_count > everything
        assert max(len(line) for line in log.lines) <= log.scrollable_content_region.width
        await pilot.press("w")
        assert not log.wrap and log.line_count == everything


@async_test
async def test_save_writes_a_new_file_and_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with held_build(lines_per_step=2, hold_at="package") as (app, pilot):
        screen = app.screen_under_test
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PathPrompt))
        field = app.screen.query_one(Input)
        field.value = str(tmp_path / "saved.log")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        saved = (tmp_path / "saved.log").read_text()
        assert saved.splitlines() == list(screen.query_one(LogView).lines)
        assert (tmp_path / "saved.log").stat().st_mode & 0o777 == 0o600
        # The same name again: refused, the first file untouched.
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PathPrompt))
        app.screen.query_one(Input).value = str(tmp_path / "saved.log")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        assert "exists already" in str(app.screen.query_one("#prompt-error", Static).render())
        assert (tmp_path / "saved.log").read_text() == saved


@async_test
async def test_the_log_path_is_shown_whole_or_cut_in_the_middle_with_the_whole_in_its_tooltip():
    async with held_build(lines_per_step=1, hold_at="chroot") as (app, pilot):
        await pilot.pause()
        screen = app.screen_under_test
        shown = str(screen.query_one("#log-path").render())
        full = str(screen.log_path)
        assert screen.query_one("#log-path").tooltip == full
        assert shown.endswith(full[-15:]) and shown.startswith("log: /var/lib")  # both ends of the path stay
        assert full in shown or "…" in shown
