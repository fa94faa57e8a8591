"""The modify screen, driven by keyboard with a fake run_modify and a fake review."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fake_build import ScreenApp, async_test, wait_for

from emi_tui.core.events import (
    BuildDone,
    BuildStarted,
    OutputLine,
    StepFinished,
    StepStarted,
)
from emi_tui.core.modify import ModifyResult
from emi_tui.core.review import Finding, ReviewEntry
from emi_tui.tui.screens.modify import ModifyScreen, artifact_problem, names_problem
from emi_tui.tui.widgets.log_view import LogView

OLD_ID = "image_name=euca-debian-emi\nimage_version=2026.01.02\n"
NEW_ID = "image_name=euca-debian-emi\nimage_version=2026.11.28\n"


class FakeModify:
    def __init__(self, hold: bool = False) -> None:
        self.requests = []
        self.hold = hold
        self.cancel: threading.Event | None = None

    def __call__(self, request, sink, cancel):
        self.requests.append(request)
        self.cancel = cancel
        steps = ("unpack", "packages", "package")
        sink(BuildStarted(steps, Path("/tmp/modify.log"), Path("/tmp/answers.yaml")))
        for index, step in enumerate(steps):
            sink(StepStarted(step, step, index))
            for n in range(100):
                sink(OutputLine(step, f"{step} line {n}"))
            if self.hold:
                while not cancel.is_set():
                    time.sleep(0.01)
                return ModifyResult(False, failed_step=step, message="cancelled")
            sink(StepFinished(step, 1.0))
        new = request.artifact.with_name("euca-debian-2026.11.28-x86_64.tgz")
        sink(BuildDone((new,), NEW_ID, 3.0))
        return ModifyResult(True, [new], OLD_ID, NEW_ID, added={"htop": "3.2.2-2"}, removed={"sudo": "1.9.13"},
                            upgraded={"libc6": ("2.36-9", "2.36-9+deb12u9")})


def fake_review(paths):
    return [ReviewEntry(str(paths[0]), None, {"image_name": "euca-debian-emi", "image_version": "2026.01.02"}, "ok",
                        [Finding("image_stamp", "warning", "no stamp")])]


def make(tmp_path: Path, runner) -> tuple[ScreenApp, Path]:
    artifact = tmp_path / "euca-debian-2026.01.02-x86_64.tgz"
    artifact.write_bytes(b"not really a tarball")
    return ScreenApp(lambda: ModifyScreen(runner, fake_review)), artifact


def test_validation() -> None:
    assert artifact_problem("/nope/x.zip")
    assert "no file" in artifact_problem("/nope/x.tgz")
    assert names_problem(["htop", "Bad Name!"])
    assert names_problem(["htop", "libc6"]) is None


@async_test
async def test_modify_by_keyboard(tmp_path: Path) -> None:
    fake = FakeModify()
    app, artifact = make(tmp_path, fake)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = app.screen_under_test
        await pilot.pause()
        await pilot.press(*str(artifact))
        await wait_for(pilot, lambda: "euca-debian-emi" in str(screen.query_one("#current").render()))
        assert "no stamp" in str(screen.query_one("#current").render())
        await pilot.press("tab", "tab")  # the upgrade switch, then the add field
        assert screen.focused.id == "add"
        await pilot.press(*"htop")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.finished)
        request = fake.requests[0]
        assert request.artifact == artifact and request.add == ["htop"] and request.version is None
        assert screen.query_one("#modify-log", LogView).lines_received >= 300
        text = str(screen.query_one("#modify-result").render())
        assert "2026.01.02" in text and "2026.11.28" in text
        assert "htop" in text and "sudo" in text and "libc6" in text
        assert all(state.startswith("done") for state in screen.step_state.values())
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.dismissed) == 1


@async_test
async def test_bad_package_name_blocks_start(tmp_path: Path) -> None:
    fake = FakeModify()
    app, artifact = make(tmp_path, fake)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = app.screen_under_test
        await pilot.pause()
        await pilot.press(*str(artifact), "tab", "tab", *"Bad!")
        await pilot.pause()
        assert str(screen.query_one("#add-problem").render()).strip()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not screen.running and fake.requests == []


@async_test
async def test_escape_cancels_the_run(tmp_path: Path) -> None:
    fake = FakeModify(hold=True)
    app, artifact = make(tmp_path, fake)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = app.screen_under_test
        await pilot.pause()
        await pilot.press(*str(artifact), "ctrl+s")
        await wait_for(pilot, lambda: fake.cancel is not None)
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.finished)
        assert fake.cancel.is_set()
        assert "cancelled" in str(screen.query_one("#modify-result").render())
        assert app.dismissed == []
