"""Snapshots of every wizard screen and its dialogs, at 80x24, 120x40 and 200x50, and in emi-light (pytest-textual-snapshot).

Fixed date, clock, apt answers, readiness checks and mirror (conftest); the
answer file and the history live under the test's own home, so paths show
as ~/…. The three sizes are drawn in the default theme; the light theme at
the main size only.
Update with `pytest tests/tui/test_snapshots_wizard.py --snapshot-update`.
"""

from __future__ import annotations

import pytest
from conftest import SIZE, VALID_ANSWERS
from fake_build import wait_for

SCREENS = ["home", "distro", "size", "packages", "metadata", "image", "summary", "help", "confirm-build", "quit"]
#: 80x24 is first class: every screen is drawn there, at the main size, and wide.
SIZES = pytest.mark.parametrize("size", [(80, 24), SIZE, (200, 50)], ids=["80x24", "120x40", "200x50"])


@pytest.fixture(autouse=True)
def _in_home(home, monkeypatch):
    monkeypatch.chdir(home)


def wizard_on(make_app, home, history, screen: str, theme: str, answers: str = VALID_ANSWERS):
    """The app, and what to do before the snapshot, to show `screen`.

    The answers' output folder is relative, and the root confirmation names it in full: the
    working folder is the test's home (`_in_home`), so that it reads ~/… wherever the tests run.
    """
    history("20261120-081500-euca-debian-2026.11.20-x86_64.yaml")
    path = home / "answers.yaml"
    path.write_text(answers, encoding="utf-8")
    app = make_app(answers_path=None if screen in ("home", "help", "quit") else path, theme=theme, remember=False)

    async def run_before(pilot) -> None:
        await pilot.pause()
        if screen in ("distro", "size", "packages", "metadata", "image"):
            app.goto_step(screen)
            await pilot.pause()
        if screen in ("summary", "confirm-build"):
            await wait_for(pilot, lambda: getattr(app.screen, "checks_done", False))
        if screen == "confirm-build":
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmRoot")
        if screen == "help":
            await pilot.press("f1")
        if screen == "quit":
            await pilot.press("escape")  # on Home, Escape asks before quitting
        await app.workers.wait_for_complete()
        await pilot.pause()

    return app, run_before


@SIZES
@pytest.mark.parametrize("screen", SCREENS)
def test_wizard_screen(snap_compare, make_app, home, history, screen, size):
    app, run_before = wizard_on(make_app, home, history, screen, "emi-dark")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("screen", ["home", "distro", "size", "packages", "metadata", "image", "summary", "help"])
def test_wizard_screen_in_the_light_theme(snap_compare, make_app, home, history, screen):
    app, run_before = wizard_on(make_app, home, history, screen, "emi-light")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_replayed_file_with_a_metadata_problem(snap_compare, make_app, home, history):
    answers = VALID_ANSWERS.replace("ssh_key: root", "ssh_key: admin")
    app, run_before = wizard_on(make_app, home, history, "replay", "emi-dark", answers)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
