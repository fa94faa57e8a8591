"""No key starts a real build or modify by accident: only the root confirmation does.

Enter and ctrl+s are pressed on every focusable widget of the Summary and of
a modify's Changes step (each followed by a second Enter, as a hurried
operator would), and the real starts are counted: none. Then the
confirmation is given on purpose, and the count moves, so the counting works.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import fake_readiness
from fake_build import FakeBuild, wait_for
from modify_fakes import FakeModify, fake_reader
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from emi_tui.engine.build.readiness import Check, CheckStatus, Readiness
from emi_tui.tui.screens.job import build as build_module
from emi_tui.tui.screens.modify.artifact import ArtifactScreen
from emi_tui.tui.screens.modify.changes import ChangesScreen
from emi_tui.tui.screens.wizard.summary import SummaryScreen
from emi_tui.tui.widgets.path_prompt import PathPrompt

SMALL = (80, 24)


def with_a_warning(answers, recipe, *, offline, work_parent=None) -> Readiness:
    """The stand-in checks plus a warning that opens a step when chosen: Build then takes two presses."""
    base = fake_readiness(answers, recipe, offline=offline)
    return Readiness(base.checks + (Check("space", "Work folder space", CheckStatus.WARNING, "tight", key="size"),))


def use_fake_build(monkeypatch, fake: FakeBuild) -> None:
    class FakeRunnerBuild(build_module.BuildScreen):
        def __init__(self, answers, recipe, answers_path, dry_run=False, **options):
            super().__init__(answers, recipe, answers_path, dry_run, runner=fake, **options)

    monkeypatch.setattr(build_module, "BuildScreen", FakeRunnerBuild)


def build_screens(app, *, dry_run: bool | None = None) -> list:
    return [s for s in app.screen_stack if isinstance(s, build_module.BuildScreen) and (dry_run is None or s.dry_run == dry_run)]


async def press_on_every_widget(app, pilot, back_to, starts) -> int:
    """Enter, then ctrl+s, on each focusable widget of the screen `back_to()` shows; returns how many widgets."""
    screen = await back_to()
    count = len(screen.focus_chain)
    assert count >= 5, screen.focus_chain  # the buttons, lists and fields are all there
    for index in range(count):
        for key in ("enter", "ctrl+s"):
            screen = await back_to()
            chain = screen.focus_chain
            if index >= len(chain):
                continue
            widget = chain[index]
            widget.focus()
            await pilot.pause()
            await pilot.press(key, "enter")  # and Enter again, on whatever that opened
            await pilot.pause()
            assert starts() == 0, f"{key} then enter on {widget} started a real run"
            while isinstance(app.screen, ModalScreen):
                await pilot.press("escape")
                await pilot.pause()
            assert starts() == 0, f"{key} then enter on {widget} started a real run"
    return count


async def test_no_key_on_the_summary_starts_a_real_build(make_app, answers_file, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # ctrl+s, Enter saves the answers here
    fake = FakeBuild(lines_per_step=1)
    use_fake_build(monkeypatch, fake)
    app = make_app(answers_path=answers_file(), readiness=with_a_warning)

    def starts() -> int:
        return max(len(build_screens(app, dry_run=False)), len([c for c in fake.calls if not c.dry_run]))

    async with app.run_test(size=SMALL) as pilot:
        async def summary() -> SummaryScreen:
            while isinstance(app.screen, ModalScreen):
                await pilot.press("escape")
                await pilot.pause()
            if not isinstance(app.screen, SummaryScreen):
                while build_screens(app) or not hasattr(app.screen, "STEP"):  # a dry run's screens: leave them
                    app.pop_screen()
                    await pilot.pause()
                app.goto_step("summary")
                await pilot.pause()
            screen = app.screen
            assert isinstance(screen, SummaryScreen)
            await wait_for(pilot, lambda: screen.checks_done)
            return screen

        await pilot.pause()
        await press_on_every_widget(app, pilot, summary, starts)
        assert starts() == 0
        # On purpose: Build, Build again (the warning), then the confirmation's own key.
        await summary()
        await pilot.press("ctrl+n", "ctrl+n", "y")
        await wait_for(pilot, lambda: starts() == 1)


async def open_changes(app, pilot, artifact: Path) -> None:
    """Home → Modify (ctrl+e) with `artifact` read, then straight to its Changes step."""
    await pilot.press("ctrl+e")
    await pilot.pause()
    assert isinstance(app.screen, ArtifactScreen)
    app.screen.query_one("#artifact", Input).value = str(artifact)
    await wait_for(pilot, lambda: app.state.look is not None and not app.state.problems_for("artifact"))
    app.state.finished.update({"artifact", "packages", "metadata"})
    app.goto_step("changes")
    await pilot.pause()


async def test_no_key_on_changes_starts_a_real_modify(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake = FakeModify(hold=True)
    app = make_app(artifact_reader=fake_reader(), modify_runner=fake, remember=False)
    artifact = tmp_path / "euca-debian-2026.01.02-x86_64.tgz"
    artifact.write_bytes(b"stand-in: the fake reader answers for it")

    def starts() -> int:
        return max(len(build_screens(app)), len(fake.requests))

    async with app.run_test(size=SMALL) as pilot:
        await open_changes(app, pilot, artifact)

        async def changes() -> ChangesScreen:
            while isinstance(app.screen, ModalScreen):
                await pilot.press("escape")
                await pilot.pause()
            if not isinstance(app.screen, ChangesScreen):
                app.goto_step("changes")
                await pilot.pause()
            assert isinstance(app.screen, ChangesScreen)
            return app.screen

        await press_on_every_widget(app, pilot, changes, starts)
        assert starts() == 0
        screen = await changes()
        screen.query_one("#next", Button).focus()
        await pilot.press("enter", "tab", "enter")  # Start modify…, then Tab to its start button
        await wait_for(pilot, lambda: starts() == 1)
        fake_cancel = fake.cancel
        if fake_cancel is not None:
            fake_cancel.set()


async def test_ctrl_s_on_changes_saves_answers_and_never_starts_a_modify(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake = FakeModify()
    app = make_app(artifact_reader=fake_reader(), modify_runner=fake, remember=False)
    artifact = tmp_path / "euca-debian-2026.01.02-x86_64.tgz"
    artifact.write_bytes(b"stand-in")
    async with app.run_test(size=SMALL) as pilot:
        await open_changes(app, pilot, artifact)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt) and fake.requests == [] and not build_screens(app)
        await pilot.press("enter")
        await pilot.pause()
        saved = tmp_path / "euca-debian-2026.01.02-x86_64-answers.yaml"
        assert isinstance(app.screen, ChangesScreen) and "htop" in saved.read_text()
        assert fake.requests == [] and not build_screens(app)


async def test_an_unusable_output_folder_is_refused_on_changes(make_app, tmp_path, monkeypatch):
    fake = FakeModify()
    app = make_app(artifact_reader=fake_reader(), modify_runner=fake, remember=False)
    artifact = tmp_path / "euca-debian-2026.01.02-x86_64.tgz"
    artifact.write_bytes(b"stand-in")
    async with app.run_test(size=SMALL) as pilot:
        await open_changes(app, pilot, artifact)
        screen = app.screen
        screen.query_one("#output", Input).value = "/proc/nope"
        await pilot.pause()
        assert "not on a disk" in str(screen.query_one("#output-problem", Static).render())
        assert screen.query_one("#next", Button).disabled
        await pilot.press("ctrl+n", "y")
        await pilot.press("ctrl+s", "escape")
        await pilot.pause()
        assert app.screen is screen and fake.requests == [] and not build_screens(app)


def test_the_output_folder_check_judges_the_nearest_folder_that_exists(tmp_path):
    from emi_tui.tui.screens.modify.changes import output_folder_problem

    assert "not on a disk" in output_folder_problem(Path("/proc/nope"))
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert output_folder_problem(afile / "out") == f"{afile} is not a folder"
    assert output_folder_problem(tmp_path / "new" / "deeper") is None  # made when the modify writes
    assert "free; the new artifact needs about" in output_folder_problem(tmp_path, need_bytes=2**62)
