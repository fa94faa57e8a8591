"""Issue 16, defect 12: Done shows the boot test's result and a dry run's plan, the boot test drops Cancel, Recent builds say what each was."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import VALID_ANSWERS
from fake_build import FakeBuild, ScreenApp, async_test, sample_answers, wait_for
from test_boottest_screen import FakeBoot
from test_done_screen import make_app, write_artifacts
from textual.widgets import Button, OptionList, Static, TextArea

from emi_tui.tui.screens.job import boottest
from emi_tui.tui.screens.job.boottest import BootTestScreen
from emi_tui.tui.screens.job.build import BuildScreen
from emi_tui.tui.screens.job.done import DoneScreen

SIZE = (80, 24)


@async_test
async def test_the_boot_test_drops_cancel_once_it_has_ended(tmp_path: Path) -> None:
    app = ScreenApp(lambda: BootTestScreen(tmp_path / "img.tgz", runner=FakeBoot(lines_per_check=1)))
    async with app.run_test(size=SIZE) as pilot:
        boot = app.screen_under_test
        await wait_for(pilot, lambda: boot.finished)
        assert not boot.query_one("#cancel", Button).display  # nothing left to cancel
        assert str(boot.query_one("#back", Button).label) == "Back (esc)" and not boot.query_one("#back", Button).disabled
        assert [b.binding.description for b in boot.active_bindings.values() if b.binding.key == "escape" and b.enabled] == ["Back"]
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.dismissed) == 1


@async_test
async def test_done_shows_the_boot_tests_result(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(boottest, "default_boot_runner", FakeBoot(lines_per_check=1))
    files = write_artifacts(tmp_path / "out")
    app = make_app(list(files.values()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BootTestScreen) and app.screen.finished)
        app.screen.query_one("#back", Button).press()
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
        result = app.screen.query_one("#boot-result", Static)
        assert result.display
        assert "1 of 8 checks failed: user-data ran" in str(result.render()) and "accel tcg" in str(result.render())


@async_test
async def test_a_dry_runs_done_screen_shows_its_plan() -> None:
    answers, recipe = sample_answers()
    fake = FakeBuild(lines_per_step=2)
    app = ScreenApp(lambda: BuildScreen(answers, recipe, Path("answers.yaml"), dry_run=True, runner=fake))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
        plan = app.screen.query_one("#plan", TextArea).text
        assert plan.startswith("1. preflight: ") and "   running as root: yes" in plan
        assert "8. package: " in plan


@async_test
async def test_copy_does_not_claim_the_terminal_took_it(tmp_path: Path) -> None:
    app = make_app(list(write_artifacts(tmp_path / "out").values()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        toasts = list(app._notifications)
        assert toasts and all(n.title != "Copied" for n in toasts)
        assert any("if it allows it" in n.title for n in toasts)


async def test_recent_builds_name_each_build_and_say_how_it_ended(make_app, history) -> None:
    built = history("20261120-080000-euca-debian-2026.11.20-x86_64.yaml", mtime=1_795_000_000)
    dry = history("20261121-093000-euca-debian-2026.11.21-x86_64.yaml", mtime=1_795_100_000)
    history("20261122-101500-euca-debian-2026.11.22-x86_64.yaml", VALID_ANSWERS, mtime=1_795_200_000)
    # What the build screen (and a real build's RecordingSink) writes beside the answers.
    (built.parent / (built.name + ".outcome")).write_text('{"outcome": "built"}')
    (dry.parent / (dry.name + ".outcome")).write_text('{"outcome": "dry run"}')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        listing = app.screen.query_one("#recent", OptionList)
        labels = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert labels[0].startswith("euca-debian-2026.11.22-x86_64\n") and "no result recorded" in labels[0]
        assert labels[1].startswith("euca-debian-2026.11.21-x86_64\n") and "dry run · 21 Nov 09:30" in labels[1]
        assert "built · 20 Nov 08:00" in labels[2]
        assert not any(".yaml" in label or "20261120-" in label for label in labels)


async def test_the_build_screen_records_how_a_build_from_the_history_ended(home, history) -> None:
    from emi_tui.engine.build.history import read_outcome, record_outcome

    answers, recipe = sample_answers()
    path = history("20261123-101500-euca-debian-2026.11.23-x86_64.yaml")
    app = ScreenApp(lambda: BuildScreen(answers, recipe, path, dry_run=True, runner=FakeBuild(lines_per_step=1)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
    assert read_outcome(path) == "dry run"
    outside = home / "answers.yaml"
    outside.write_text(VALID_ANSWERS)
    assert not record_outcome(outside, "built")  # nothing is written beside an operator's own answer file
    assert not (home / "answers.yaml.outcome").exists()
