"""The whole wizard by keys alone, Home to Done, with a real dry-run build behind the build screen."""

from __future__ import annotations

from pathlib import Path

from conftest import MIRROR, SIZE


async def test_home_to_done_by_keys_with_a_real_dry_run(make_app, home, monkeypatch, tmp_path):
    # The workstation's apt sources are not part of this test: the dry run contacts no mirror anyway.
    monkeypatch.setattr("emi_tui.engine.answers.model.workstation_mirror", lambda releases, root=Path("/"): MIRROR)
    monkeypatch.setenv("EMI_TUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "HomeScreen"
        await pilot.press("ctrl+n")  # new build
        await pilot.pause()
        seen = []
        for _ in range(10):
            seen.append(type(app.screen).__name__)
            if seen[-1] == "SummaryScreen":
                break
            await pilot.press("ctrl+n")  # Next, with every default
            await pilot.pause()
        assert seen == ["DistroScreen", "SizeScreen", "PackagesScreen", "MetadataScreen", "ImageScreen", "SummaryScreen"]
        assert app.state.problems() == []
        # Dry run: the real engine plans every step, nothing is run or written.
        await pilot.press("ctrl+d")
        for _ in range(400):
            await pilot.pause(0.05)
            if type(app.screen).__name__ == "DoneScreen":
                break
        assert type(app.screen).__name__ == "DoneScreen"
        build = next(screen for screen in app.screen_stack if type(screen).__name__ == "BuildScreen")
        assert build.status == "done" and build.result.ok
        assert build.lines_received > 50  # every step's planned commands reached the log
        assert not (tmp_path / "images").exists()  # a dry run writes no artifact
