"""The Summary as a preflight, at 80×24: readiness checks, Dry run and Build apart, a root confirmation, safe saving.

The checks are stand-ins for check_readiness (given to the App, as apt is),
and the build screen is the real one, running FakeBuild: `starts` counts the
builds that really began.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest
from conftest import fake_readiness
from fake_build import FakeBuild, wait_for
from textual.widgets import Button, Checkbox, Input, OptionList, Static, Switch

from emi_tui.engine.build.readiness import Check, CheckStatus, Readiness
from emi_tui.tui.screens.job import build as build_module
from emi_tui.tui.screens.wizard.confirm_build import ConfirmRoot
from emi_tui.tui.screens.wizard.summary import SummaryScreen
from emi_tui.tui.widgets.path_prompt import PathPrompt

SMALL = (80, 24)


@pytest.fixture
def fake_build(monkeypatch) -> FakeBuild:
    """The real build screen, running FakeBuild instead of run_build."""
    fake = FakeBuild(lines_per_step=1)

    class FakeRunnerBuild(build_module.BuildScreen):
        def __init__(self, answers, recipe, answers_path, dry_run=False, **options):
            super().__init__(answers, recipe, answers_path, dry_run, runner=fake, **options)

    monkeypatch.setattr(build_module, "BuildScreen", FakeRunnerBuild)
    return fake


def real_starts(app, fake: FakeBuild) -> int:
    """Real (not dry-run) builds begun: a build screen for one, or the runner called for one."""
    screens = [s for s in app.screen_stack if isinstance(s, build_module.BuildScreen) and not s.dry_run]
    return max(len(screens), len([c for c in fake.calls if not c.dry_run]))


def readiness_with(*extra: Check, calls: list | None = None):
    """The conftest stand-in plus `extra` checks; records (offline, answers) of each call in `calls`."""

    def check(answers, recipe, *, offline, work_parent=None):
        if calls is not None:
            calls.append((offline, answers))
        base = fake_readiness(answers, recipe, offline=offline)
        return Readiness(base.checks + extra)

    return check


WARNING = Check("space", "Work folder space", CheckStatus.WARNING, "2.1 GB free, about 2 GB needed", "free some space")
ERROR = Check("output", "Output folder", CheckStatus.ERROR, "/proc/nope: 0 B free, needs about 1.3 GB", "choose a folder on a disk",
              key="output.dir")


async def open_summary(app, pilot) -> SummaryScreen:
    """The replayed file opens on the Summary; wait until its checks have run."""
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, SummaryScreen)
    await wait_for(pilot, lambda: screen.checks_done)
    return screen


def listed(screen) -> str:
    listing = screen.query_one("#problem-list", OptionList)
    return "\n".join(str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count))


async def test_arriving_on_the_summary_focuses_the_list_not_build(make_app, answers_file, fake_build):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_summary(app, pilot)
        assert app.focused is not None and app.focused.id != "build"
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert real_starts(app, fake_build) == 0 and app.screen is screen


async def test_dry_run_and_build_are_two_buttons_and_build_asks_naming_what_runs_as_root(make_app, answers_file, fake_build):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_summary(app, pilot)
        assert not screen.query(Checkbox)  # no dry-run checkbox whose X showed either way
        assert str(screen.query_one("#dry-run", Button).label) == "Dry run"
        assert str(screen.query_one("#build", Button).label) == "Build…"
        await pilot.press("ctrl+n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmRoot) and app.focused.id == "confirm-cancel"
        said = str(dialog.query_one("#confirm-lines", Static).render())
        for needed in ("mmdebstrap", "work folder", "chroot", "mount", "loop", "mke2fs", "zerofree", str(Path.cwd() / "images")):
            assert needed in said, needed
        assert dialog.query_one("#confirm-start").region.bottom <= SMALL[1]  # the start button fits at 80×24
        await pilot.press("enter")  # Enter lands on Cancel
        await pilot.pause()
        assert app.screen is screen and real_starts(app, fake_build) == 0
        await pilot.press("ctrl+n", "y")
        await wait_for(pilot, lambda: fake_build.calls)
        assert [c.dry_run for c in fake_build.calls] == [False]


async def test_dry_run_starts_at_once_and_is_a_dry_run(make_app, answers_file, fake_build):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await open_summary(app, pilot)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: fake_build.calls)
        assert [c.dry_run for c in fake_build.calls] == [True] and real_starts(app, fake_build) == 0


async def test_an_error_blocks_build_but_a_dry_run_still_shows_the_plan(make_app, answers_file, fake_build):
    app = make_app(answers_path=answers_file(), readiness=readiness_with(ERROR))
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_summary(app, pilot)
        assert "✗ Output folder: /proc/nope: 0 B free" in listed(screen) and "✓ Mirror" in listed(screen)
        assert screen.query_one("#build", Button).disabled
        assert "1 error blocking" in str(screen.query_one("#check-verdict", Static).render())
        await pilot.press("ctrl+n", "y")
        await pilot.pause()
        assert app.screen is screen and real_starts(app, fake_build) == 0
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: fake_build.calls)
        assert [c.dry_run for c in fake_build.calls] == [True]


async def test_a_warning_takes_a_second_press_of_build(make_app, answers_file, fake_build):
    app = make_app(answers_path=answers_file(), readiness=readiness_with(WARNING))
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_summary(app, pilot)
        assert "⚠ Work folder space" in listed(screen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen
        assert "Press Build again to build despite 1 warning" in str(screen.query_one("#check-verdict", Static).render())
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmRoot)


async def test_a_checker_that_fails_is_a_failed_check_not_a_pass(make_app, answers_file, fake_build):
    def broken(answers, recipe, *, offline, work_parent=None):
        raise OSError("network unreachable")

    app = make_app(answers_path=answers_file(), readiness=broken)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_summary(app, pilot)
        assert "✗ Readiness checks: could not run: OSError: network unreachable" in listed(screen)
        assert screen.query_one("#build", Button).disabled and "Ready" not in str(screen.query_one("#check-verdict").render())


async def test_the_checks_run_in_a_thread_and_build_waits_for_them(make_app, answers_file, fake_build):
    release = threading.Event()

    def slow(answers, recipe, *, offline, work_parent=None):
        release.wait(60)  # a hang guard: the test releases it
        return fake_readiness(answers, recipe, offline=offline)

    app = make_app(answers_path=answers_file(), readiness=slow)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        screen = app.screen
        assert "checking…" in str(screen.query_one("#check-verdict", Static).render())  # drawn while the checks run
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen and screen.query_one("#build", Button).disabled
        release.set()
        await wait_for(pilot, lambda: screen.checks_done)
        assert not screen.query_one("#build", Button).disabled


async def test_the_offline_switch_skips_the_mirror_checks_and_is_remembered(make_app, answers_file, fake_build):
    calls: list = []
    app = make_app(answers_path=answers_file(), readiness=readiness_with(calls=calls))
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_summary(app, pilot)
        assert [offline for offline, _ in calls] == [False]
        screen.query_one("#offline", Switch).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(calls) == 2 and screen.checks_done)
        assert calls[-1][0] is True
        assert "Mirror" in listed(screen) and "not checked" in listed(screen)
        app.goto_step("image")
        await pilot.pause()
        app.goto_step("summary")
        await pilot.pause()
        assert app.screen.query_one("#offline", Switch).value is True


async def test_the_checks_run_again_when_the_answers_change(make_app, answers_file, fake_build):
    calls: list = []
    app = make_app(answers_path=answers_file(), readiness=readiness_with(calls=calls))
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_summary(app, pilot)
        app.state.set("metadata.swap", False)
        screen.refresh_state()
        await wait_for(pilot, lambda: len(calls) == 2 and screen.checks_done)
        assert calls[-1][1].metadata.swap is False


async def test_saving_to_a_missing_folder_asks_first_and_focus_then_avoids_build(make_app, answers_file, fake_build, tmp_path,
                                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_summary(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        app.screen.query_one("#prompt-path", Input).value = "new/a.yaml"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt) and not (tmp_path / "new").exists()
        assert "new does not exist" in str(app.screen.query_one("#prompt-error").render())
        await pilot.press("enter")  # the same path again: yes, create it
        await pilot.pause()
        assert app.screen is screen and (tmp_path / "new" / "a.yaml").is_file()
        assert app.focused is not None and app.focused.id != "build"
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert real_starts(app, fake_build) == 0


async def test_after_saving_focus_is_not_on_build(make_app, answers_file, fake_build, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_summary(app, pilot)
        screen.query_one("#build").focus()  # even from Build itself
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#prompt-path", Input).value = "b.yaml"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and (tmp_path / "b.yaml").is_file()
        assert app.focused is not None and app.focused.id != "build"
        await pilot.press("enter")
        await pilot.pause()
        assert real_starts(app, fake_build) == 0
