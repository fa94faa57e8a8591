"""The Distro step offers i386 for debian-based, and refuses trixie with it, saying why."""

from __future__ import annotations

from conftest import SIZE
from textual.widgets import Button, Static

from emi_tui.tui.screens.wizard.distro import DistroScreen


async def test_i386_is_offered_and_trixie_with_it_is_refused_until_bookworm_is_chosen(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, DistroScreen) and app.state.answers.recipe == "debian-based"
        arches = [button.name for button in app.screen.query("#arch WrapButton")]
        assert arches == ["x86_64", "i386", "aarch64"]
        await pilot.press("tab", "down", "enter")  # release bookworm -> trixie
        await pilot.press("tab", "down", "enter")  # arch x86_64 -> i386
        await pilot.pause()
        assert (app.state.answers.release, app.state.answers.arch) == ("trixie", "i386")
        assert app.screen.query_one("#next", Button).disabled
        said = str(app.screen.query_one("#release-problem", Static).render())
        assert "trixie is not built for i386" in said and "no i386 kernel" in said
        await pilot.press("shift+tab", "up", "enter")  # release trixie -> bookworm
        await pilot.pause()
        assert (app.state.answers.release, app.state.answers.arch) == ("bookworm", "i386")
        assert not app.screen.query_one("#next", Button).disabled
        assert "i386" not in str(app.screen.query_one("#release-problem", Static).render())
