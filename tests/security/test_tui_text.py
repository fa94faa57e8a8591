"""A hostile guest's console and a hostile artifact name on the TUI's boot-test screen.

Textual's Log replaces only \\x00-\\x14, so an ESC from the guest reached the
terminal; a Static given a string reads it as markup, so an artifact named
"[/].tgz" crashed the screen. Both are shown literally now.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from emi_tui.engine.boot.boottest import CHECK_NAMES, BootReport, Check
from emi_tui.engine.text import printable
from emi_tui.tui.screens.job.boottest import BootTestScreen
from emi_tui.tui.widgets.log_view import LogView

from .hostile import SECURITY, assert_shown_safely, hostile_line, unsafe_characters

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tui"))
from fake_build import ScreenApp, async_test, wait_for


def _hostile_boot(lines: list[str]) -> Any:
    def runner(artifact: Path, *, ssh_user: str, on_line: Any, on_check: Any, cancel: Any) -> BootReport:
        for line in lines:
            on_line(line)  # straight from the runner: the screen must not trust its caller to have escaped
        checks = [Check(name, passed=index % 2 == 0, seconds=1.0, detail=lines[index % len(lines)]) for index, name in enumerate(CHECK_NAMES)]
        for check in checks:
            on_check(check)
        return BootReport(checks, Path("/tmp") / lines[0].replace("/", "_")[:40], "tcg", 3.0, list(lines))
    return runner


async def _show(artifact: Path, lines: list[str]) -> tuple[list[str], str]:
    app = ScreenApp(lambda: BootTestScreen(artifact, runner=_hostile_boot(lines)))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen_under_test
        assert isinstance(screen, BootTestScreen)
        await wait_for(pilot, lambda: screen.finished)
        console = screen.query_one("#console", LogView)
        shown = "\n".join(str(screen.query_one(selector).render()) for selector in ("#checks", "#boot-status"))
        return list(console.lines), shown


@settings(SECURITY, max_examples=6)
@given(lines=st.lists(hostile_line, min_size=1, max_size=4), name=hostile_line.map(lambda text: text.replace("/", "_")))
def test_console_checks_and_status_show_guest_text_literally(tmp_path_factory: Any, lines: list[str], name: str) -> None:
    artifact = Path("/nonexistent") / f"{name}.tgz"
    console, shown = async_test(_show)(artifact, lines)
    assert console == [printable(line, drop_colours=True) for line in lines]
    assert not any(unsafe_characters(line) for line in console)
    assert_shown_safely(shown, *lines)


async def _status_while_booting(artifact: Path) -> str:
    def hold(artifact: Path, *, ssh_user: str, on_line: Any, on_check: Any, cancel: Any) -> BootReport:
        cancel.wait(30)
        return BootReport([], None, "tcg", 0.0, [])

    app = ScreenApp(lambda: BootTestScreen(artifact, runner=hold))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen_under_test
        assert isinstance(screen, BootTestScreen)
        await pilot.pause()
        status = str(screen.query_one("#boot-status").render())
        screen.stop_running()
        await wait_for(pilot, lambda: screen.finished)
        return status


def test_an_artifact_named_like_markup_is_shown_as_named() -> None:
    name = "[red][bold]x[@click=app.quit]\x1b[31m.tgz"  # a file name holds no "/", so no "[/]" here
    status = async_test(_status_while_booting)(Path("/nonexistent") / name)
    assert status == f"Booting {printable(name)}…"
