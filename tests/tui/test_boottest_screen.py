"""The boot-test screen with a fake boot: checks tick in order, the console streams in batches, cancel works."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fake_build import ScreenApp, async_test, wait_for
from test_done_screen import make_app, write_artifacts

from emi_tui.engine.boot.boottest import CHECK_NAMES, BootReport, Check
from emi_tui.tui.screens.job import boottest
from emi_tui.tui.screens.job.boottest import BootTestScreen
from emi_tui.tui.widgets.log_view import LogView


class FakeBoot:
    """Prints console lines and passes the checks one by one; `hold` keeps it running until cancelled."""

    def __init__(self, lines_per_check: int = 50, hold: bool = False) -> None:
        self.lines_per_check = lines_per_check
        self.hold = hold
        self.cancel: threading.Event | None = None
        self.order: list[str] = []

    def __call__(self, artifact, *, ssh_user, on_line, on_check, cancel):
        self.cancel = cancel
        checks = []
        for index, name in enumerate(CHECK_NAMES):
            for n in range(self.lines_per_check):
                on_line(f"[{index}] console line {n}")
            check = Check(name, passed=name != "user-data ran", seconds=float(index), detail="ok" if name != "user-data ran" else "no marker")
            self.order.append(name)
            on_check(check)
            checks.append(check)
        if self.hold:
            while not cancel.is_set():
                time.sleep(0.01)
        return BootReport(checks, None, "tcg", 12.0, ["KVM did not work; fell back to tcg"])


@async_test
async def test_checks_tick_and_console_streams(tmp_path: Path) -> None:
    fake = FakeBoot()
    app = ScreenApp(lambda: BootTestScreen(tmp_path / "img.tgz", runner=fake))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen_under_test
        assert isinstance(screen, BootTestScreen)
        await wait_for(pilot, lambda: screen.finished)
        assert fake.order == list(CHECK_NAMES)
        assert [name for name, check in screen.checks.items() if check is not None] == list(CHECK_NAMES)
        assert screen.checks["kernel booted"].passed
        assert not screen.checks["user-data ran"].passed
        console = screen.query_one("#console", LogView)
        assert console.lines_received == 50 * len(CHECK_NAMES)
        assert console.lines[-1] == "[7] console line 49"
        text = str(screen.query_one("#checks").render())
        assert "FAIL" in text and "pass" in text
        status = str(screen.query_one("#boot-status").render())
        assert "tcg" in status and "fell back" in status
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.dismissed) == 1


@async_test
async def test_batches_not_one_message_per_line(tmp_path: Path, monkeypatch) -> None:
    made: list[int] = []
    original = boottest.BuildEvents

    def counting(events, ack):
        made.append(len(events))
        return original(events, ack)

    monkeypatch.setattr(boottest, "BuildEvents", counting)
    fake = FakeBoot(lines_per_check=500)
    app = ScreenApp(lambda: BootTestScreen(tmp_path / "img.tgz", runner=fake))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen_under_test
        await wait_for(pilot, lambda: screen.finished)
        assert screen.query_one("#console", LogView).lines_received == 4000
        assert sum(made) == 4000 + len(CHECK_NAMES)
        assert 1 <= len(made) < 100


@async_test
async def test_escape_cancels(tmp_path: Path) -> None:
    fake = FakeBoot(lines_per_check=1, hold=True)
    app = ScreenApp(lambda: BootTestScreen(tmp_path / "img.tgz", runner=fake))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen_under_test
        await wait_for(pilot, lambda: fake.cancel is not None and screen.checks[CHECK_NAMES[-1]] is not None)
        assert not screen.finished
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.finished)
        assert fake.cancel.is_set()
        assert "cancelled" in str(screen.query_one("#boot-status").render())
        assert app.dismissed == []  # the first escape cancels, it does not leave


@async_test
async def test_done_screen_b_pushes_boot_test(tmp_path: Path, monkeypatch) -> None:
    fake = FakeBoot(lines_per_check=1)
    monkeypatch.setattr(boottest, "default_boot_runner", fake)
    files = write_artifacts(tmp_path / "out")
    app = make_app(list(files.values()))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BootTestScreen))
        assert app.screen.artifact == files["tarball"]
        await wait_for(pilot, lambda: app.screen.finished)


@async_test
async def test_done_screen_dry_run_has_no_boot_test(tmp_path: Path) -> None:
    app = make_app([], dry_run=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#boot-test").disabled
        await pilot.press("b")
        await pilot.pause()
        assert not isinstance(app.screen, BootTestScreen)
