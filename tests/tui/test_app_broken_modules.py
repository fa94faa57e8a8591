"""A screen module that cannot be imported is an error that reaches the operator, never a quiet notice.

The App used to catch the ImportError of the build (and review) screen and
notify "this emi-tui has no build screen": a broken install then looked like
a feature that was never there. Here the module is made unimportable (its
sys.modules entry set to None, as Python does for a module that must not load)
and the key that opens it must end the app with the ImportError.
"""

from __future__ import annotations

import sys

import pytest
from conftest import SIZE

from emi_tui.tui.screens.job.build import BuildScreen
from emi_tui.tui.screens.review.review import ReviewScreen
from emi_tui.tui.screens.wizard.home import HomeScreen
from emi_tui.tui.screens.wizard.summary import SummaryScreen


def notices(app) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


async def test_a_build_screen_that_cannot_be_imported_stops_the_app(make_app, answers_file, monkeypatch):
    monkeypatch.setitem(sys.modules, BuildScreen.__module__, None)
    app = make_app(answers_path=answers_file())
    with pytest.raises(ImportError, match="build"):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, SummaryScreen)
            await pilot.press("ctrl+d")  # Dry run: it opens the build screen at once (a real build asks first)
            await pilot.pause()
    assert not any("no build screen" in text for text in notices(app))


async def test_a_review_screen_that_cannot_be_imported_stops_the_app(make_app, monkeypatch):
    monkeypatch.setitem(sys.modules, ReviewScreen.__module__, None)
    app = make_app()
    with pytest.raises(ImportError, match="review"):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
            await pilot.press("ctrl+r")  # Review image-ids
            await pilot.pause()
    assert not any("no review screen" in text for text in notices(app))
