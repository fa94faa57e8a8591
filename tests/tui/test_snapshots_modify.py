"""Snapshots of the modify flow: the Artifact, Packages, Metadata and Changes steps at 80x24, 120x40 and 200x50, and Done's diff.

The artifact reader and run_modify are the stand-ins of modify_fakes; the
artifact is named relative to the test's home, so the drawings hold no
temporary path. `make screenshots` copies these drawings into screenshots/.
Update with `pytest tests/tui/test_snapshots_modify.py --snapshot-update`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest import SIZE
from fake_build import wait_for
from modify_fakes import FakeModify, fake_reader
from textual.widgets import Checkbox, Input

ARTIFACT = "euca-debian-2026.01.02-x86_64.tgz"


def modify_on(make_app, home: Path, monkeypatch, screen: str, theme: str = "emi-dark"):
    """The app, and the keys that bring it to `screen` of the modify flow."""
    monkeypatch.chdir(home)
    (home / ARTIFACT).write_bytes(b"stand-in")
    app = make_app(artifact_reader=fake_reader(), modify_runner=FakeModify(), theme=theme, remember=False)

    async def run_before(pilot) -> None:
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#artifact", Input).value = ARTIFACT
        await wait_for(pilot, lambda: app.state.look is not None)
        for step in ("packages", "metadata", "changes")[: ("artifact", "packages", "metadata", "changes", "done").index(screen)]:
            if step == "metadata":
                await pilot.press(*"mc", "enter")  # on Packages: one package added
            if step == "changes":
                app.screen.query_one("#md-hostname", Checkbox).value = True  # on Metadata: one option changed
            await pilot.press("ctrl+n")
            await pilot.pause()
        if screen == "done":
            await pilot.press("ctrl+n")  # Start modify…
            await pilot.pause()
            await pilot.press("y")  # the root confirmation
            await wait_for(pilot, lambda: type(app.screen).__name__ == "DoneScreen")
        await app.workers.wait_for_complete()
        await pilot.pause()

    return app, run_before


@pytest.mark.parametrize("screen", ["artifact", "packages", "metadata", "changes", "done"])
def test_modify_screen(snap_compare, make_app, home, monkeypatch, screen):
    app, run_before = modify_on(make_app, home, monkeypatch, screen)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


#: 80x24 is first class: each step is drawn there and wide too (the main size is above).
@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
@pytest.mark.parametrize("screen", ["artifact", "packages", "metadata", "changes"])
def test_modify_step_at_each_size(snap_compare, make_app, home, monkeypatch, screen, size):
    app, run_before = modify_on(make_app, home, monkeypatch, screen)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_modify_done_in_the_light_theme(snap_compare, make_app, home, monkeypatch):
    app, run_before = modify_on(make_app, home, monkeypatch, "done", "emi-light")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
