"""Done's `q` quits the way ctrl+q does: through the app, which asks first when answers would be lost."""

from __future__ import annotations

from fake_build import IMAGE_ID, FakeResult, sample_answers, wait_for

from emi_tui.tui.screens.confirm_quit import ConfirmQuit
from emi_tui.tui.screens.job.done import DoneScreen

SIZE = (80, 24)


async def test_q_on_done_asks_before_losing_unsaved_answers(make_app, tmp_path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.new_build()
        await pilot.pause()
        app.state.set("size", "4.5G")  # an edit no file holds, and no job ran from
        assert app.unsaved_answers() is not None
        answers, _ = sample_answers()
        await app.push_screen(DoneScreen(FakeResult(True, [], IMAGE_ID, seconds=1.0), answers))
        await pilot.pause()
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmQuit) or app.return_code is not None)
        assert app.return_code is None, "q quit without asking"
        assert isinstance(app.screen, ConfirmQuit)


async def test_q_on_done_quits_at_once_after_the_build(make_app, tmp_path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.new_build()
        await pilot.pause()
        app.state.set("size", "4.5G")
        app._note_job_started()  # the build ran from these answers: quitting loses nothing
        answers, _ = sample_answers()
        await app.push_screen(DoneScreen(FakeResult(True, [], IMAGE_ID, seconds=1.0), answers))
        await pilot.pause()
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None)
        assert app.return_code == 0 and not isinstance(app.screen, ConfirmQuit)
