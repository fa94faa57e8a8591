"""Snapshots of every wizard screen, in the default theme and in emi-light (pytest-textual-snapshot).

Fixed date, clock, apt answers and mirror (conftest); the answer file and
the history live under the test's own home, so paths show as ~/….
Update with `pytest tests/tui/test_snapshots_wizard.py --snapshot-update`.
"""

from __future__ import annotations

import pytest
from conftest import SIZE, VALID_ANSWERS

SCREENS = ["home", "distro", "size", "packages", "metadata", "image", "summary", "help"]
THEMES = ["emi-dark", "emi-light"]


def wizard_on(make_app, home, history, screen: str, theme: str, answers: str = VALID_ANSWERS):
    """The app, and what to do before the snapshot, to show `screen`."""
    history("20261120-081500-euca-debian-2026.11.20-x86_64.yaml")
    path = home / "answers.yaml"
    path.write_text(answers, encoding="utf-8")
    app = make_app(answers_path=None if screen in ("home", "help") else path, theme=theme, remember=False)

    async def run_before(pilot) -> None:
        await pilot.pause()
        if screen in ("distro", "size", "packages", "metadata", "image"):
            app.goto_step(screen)
            await pilot.pause()
        if screen == "help":
            await pilot.press("f1")
        await app.workers.wait_for_complete()
        await pilot.pause()

    return app, run_before


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("screen", SCREENS)
def test_wizard_screen(snap_compare, make_app, home, history, screen, theme):
    app, run_before = wizard_on(make_app, home, history, screen, theme)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_replayed_file_with_a_metadata_problem(snap_compare, make_app, home, history):
    answers = VALID_ANSWERS.replace("ssh_key: root", "ssh_key: admin")
    app, run_before = wizard_on(make_app, home, history, "replay", "emi-dark", answers)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
