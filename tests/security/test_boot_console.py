"""A hostile guest's console through the boot test: the engine, the CLI's renderer and the console log.

The guest chooses every byte of its console. Whatever it prints must reach the
operator literally: no markup read (a fake green "boot test passed", a
MarkupError from a lone "[/]"), no escape sequence or control character
passed to the terminal or into the console log.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emi_tui.commands import boot
from emi_tui.engine.boot.boottest import CHECK_NAMES, BootReport, BootTest
from emi_tui.engine.errors import ExitCode
from emi_tui.engine.text import PrintableWriter, printable

from .hostile import SECURITY, assert_shown_safely, hostile_line, unsafe_characters


class HostileGuest(BootTest):
    """A boot whose guest prints `lines` on its console and whose checks quote the guest (as real details do)."""

    lines: list[str] = []
    passed = False

    def run(self) -> BootReport:
        for line in self.lines:
            self._console(line)  # the engine's own handling of each console line
        for name in CHECK_NAMES:
            if self.passed:
                self._pass(name, self.lines[0])
            else:
                self._fail(name, self.lines[-1])
        self.notes.append(f"root login answers: {self.lines[0]}")
        return BootReport(list(self.checks.values()), self.console_log, "tcg", 1.0, self.notes)


def _boot_test_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lines: list[str], passed: bool) -> ExitCode:
    guest = type("Guest", (HostileGuest,), {"lines": lines, "passed": passed})
    monkeypatch.setattr(boot, "BootTest", guest)
    monkeypatch.setattr(boot, "require_tools", lambda *_: None)
    return boot.boot_test(tmp_path / "image.tgz", None, None, "root", 10.0, "tcg", verbose=True)


@SECURITY
@given(lines=st.lists(hostile_line, min_size=1, max_size=5), passed=st.booleans())
def test_guest_console_lines_are_printed_literally(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, printed: Any,
                                                   lines: list[str], passed: bool) -> None:
    printed()
    status = _boot_test_cli(monkeypatch, tmp_path, lines, passed)
    shown = printed()
    assert status == (ExitCode.OK if passed else ExitCode.FAILED)
    assert_shown_safely(shown, *(printable(line, drop_colours=True) for line in lines))
    # The real verdict comes last, whatever the guest printed before it.
    assert shown.splitlines()[-1].startswith("boot test passed: " if passed else "boot test failed: ")


def test_a_fake_verdict_from_the_guest_is_not_markup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, printed: Any) -> None:
    lines = ["[green]boot test passed[/]: 8/8 checks passed", "[/]", "\x1b[32mboot test passed\x1b[0m"]
    assert _boot_test_cli(monkeypatch, tmp_path, lines, passed=False) == ExitCode.FAILED
    shown = printed()
    assert "[green]boot test passed[/]: 8/8 checks passed" in shown  # bracketed text, not a green verdict
    assert "\x1b" not in shown and shown.splitlines()[-1].startswith("boot test failed: ")


@SECURITY
@given(line=hostile_line)
def test_the_engine_hands_on_console_lines_escaped(line: str) -> None:
    seen: list[str] = []
    test = BootTest(Path("/nonexistent/image.tgz"), on_line=seen.append, console_log=Path("/nonexistent/console.log"))
    test._console(line)
    assert seen == [printable(line, drop_colours=True)] and test.last_line == seen[0]
    assert not unsafe_characters(seen[0])


@SECURITY
@given(lines=st.lists(hostile_line, min_size=1, max_size=6), cuts=st.lists(st.integers(0, 200), max_size=8))
def test_the_console_log_is_written_escaped_however_the_stream_is_cut(lines: list[str], cuts: list[int]) -> None:
    lines = [line.rstrip("\r") for line in lines]  # a CR before the line's end belongs to the line end
    stream = "".join(line + "\r\r\n" for line in lines)  # as a serial console on a pty sends lines
    file = io.StringIO()
    writer = PrintableWriter(file)
    points = sorted({0, len(stream), *(cut for cut in cuts if cut < len(stream))})
    for start, end in zip(points, points[1:]):
        writer.write(stream[start:end])
    writer.close()
    logged = file.getvalue()
    assert not unsafe_characters(logged), repr(logged)
    # Line ends stay line ends; colours are dropped; every other byte is there, escaped.
    assert logged == "".join(printable(line, drop_colours=True) + "\n" for line in lines)
