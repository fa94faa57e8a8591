"""A hostile guest's console and a hostile artifact name on the TUI's boot-test screen.

Textual's Log replaces only \\x00-\\x14, so an ESC from the guest reached the
terminal; a Static given a string reads it as markup, so an artifact named
"[/].tgz" crashed the screen. Both are shown literally now.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import Phase, assume, given, settings
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


# --- review, the modify picker and the wizard: outside text on the other screens ----------------------------------

from datetime import date, datetime  # noqa: E402 (this part's own imports, kept beside it)

from rich.text import Text  # noqa: E402
from textual.widgets import DataTable, Input, OptionList, Static  # noqa: E402

from emi_tui.engine.artifact.survey import ArtifactSurvey  # noqa: E402
from emi_tui.engine.build.package_catalog import catalog_from_text  # noqa: E402
from emi_tui.engine.review.review import Finding, HygieneCheck, ReviewEntry, StampCheck  # noqa: E402
from emi_tui.tui.screens.review.review import ReviewScreen  # noqa: E402
from emi_tui.tui.state.modify_state import ArtifactLook  # noqa: E402

#: A file name: no "/" and no NUL, which no file system stores.
hostile_name = hostile_line.map(lambda text: text.replace("/", "_").replace("\x00", "_")).filter(lambda text: text not in (".", ".."))
#: A line of a text file: a NUL makes the reader refuse the whole file as binary, and then nothing is shown.
text_line = hostile_line.map(lambda text: text.replace("\x00", "_"))
#: Each example starts Textual: no shrinking, whose minutes buy nothing here (the failing example is printed whole).
PILOT = settings(SECURITY, max_examples=4, phases=(Phase.explicit, Phase.generate))


def _cells(table: DataTable) -> str:
    return "\n".join(getattr(cell, "plain", str(cell)) for row in range(table.row_count) for cell in table.get_row_at(row))


async def _review(folder: Path) -> tuple[str, list[dict[str, str]]]:
    app = ScreenApp(lambda: ReviewScreen([folder]))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen_under_test
        assert isinstance(screen, ReviewScreen)
        await wait_for(pilot, lambda: len(screen.entries) == 2)
        shown = [_cells(screen.query_one(DataTable)), str(screen.query_one("#detail-body", Static).render())]
        await pilot.press("m", "down")  # compare the two: every field side by side
        await pilot.pause()
        shown.append(str(screen.query_one("#detail-body", Static).render()))
        return "\n".join(shown), [dict(entry.fields) for entry in screen.entries]


def fresh_home(tmp_path_factory: Any, monkeypatch: Any) -> Path:
    """A new HOME (and config folder) for one example: nothing the app remembers leaks between examples."""
    home = Path(tmp_path_factory.mktemp("home"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


@PILOT
@given(folder_name=hostile_name, name=text_line, version=text_line, extra=text_line)
def test_review_screen_shows_a_crafted_image_id_literally(tmp_path_factory: Any, folder_name: str, name: str, version: str, extra: str) -> None:
    folder = tmp_path_factory.mktemp("reviewed") / folder_name
    folder.mkdir()
    (folder / "a.image-id").write_bytes(f'image_name="{name}"\nimage_version={version}\nrecipe_name=x\n'.encode(errors="surrogateescape"))
    (folder / "b.image-id").write_bytes(f"image_name={extra}\n{extra}={name}\n".encode(errors="surrogateescape"))
    shown, fields = async_test(_review)(folder)
    assert fields and any(fields), "the review read no field: the test would show nothing"
    assert_shown_safely(shown, folder_name, *(value for entry in fields for value in entry.values()))


def _hostile_look(text: str, member: str, value: str, finding: str) -> ArtifactLook:
    survey = ArtifactSurvey(Path(text), "tarball", "gzip", f"euca/{member}.img", ["euca"], 1300 * 1024**2)
    entry = ReviewEntry(text, member, {"image_name": value, value: "x"}, StampCheck(False), [Finding(value, "warning", finding)],
                        [HygieneCheck(member, False, finding)], None)
    return ArtifactLook(text, survey=survey, entries=[entry])


def _app(**options: Any) -> Any:
    from emi_tui.tui.app import EmiApp

    return EmiApp(today=date(2026, 11, 28), now=lambda: datetime(2026, 11, 28, 9, 30), stable=True, remember=False,
                  package_catalog=lambda source: catalog_from_text(source, ""), **options)


async def _pick(artifact: Path, reader: Any) -> str:
    from emi_tui.tui.screens.modify.artifact import ArtifactScreen

    app = _app(artifact_reader=reader)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, ArtifactScreen)
        app.screen.query_one("#artifact", Input).value = str(artifact)
        await wait_for(pilot, lambda: app.state.look is not None)
        await pilot.pause()
        return "\n".join(str(app.screen.query_one(selector).render()) for selector in ("#current", "#prefill", "#artifact-problem"))


@PILOT
@given(name=hostile_name, member=hostile_name, value=hostile_line, finding=hostile_line)
def test_modify_picker_shows_a_hostile_artifact_literally(tmp_path_factory: Any, monkeypatch: Any, name: str, member: str,
                                                          value: str, finding: str) -> None:
    fresh_home(tmp_path_factory, monkeypatch)
    artifact = tmp_path_factory.mktemp("artifacts") / f"{name}.tgz"
    artifact.write_bytes(b"stand-in: the reader answers for it")
    shown = async_test(_pick)(artifact, lambda text: _hostile_look(text, member, value, finding))
    assert_shown_safely(shown, member, value, finding)


@PILOT
@given(name=hostile_name, error=hostile_line)
def test_modify_picker_shows_why_an_artifact_is_refused_literally(tmp_path_factory: Any, monkeypatch: Any, name: str, error: str) -> None:
    fresh_home(tmp_path_factory, monkeypatch)
    artifact = tmp_path_factory.mktemp("artifacts") / f"{name}.tgz"
    artifact.write_bytes(b"stand-in")
    shown = async_test(_pick)(artifact, lambda text: ArtifactLook(text, error=f"{name}.tgz holds {error}"))
    assert_shown_safely(shown, error)


async def _summary_and_packages(answers: Path) -> str:
    app = _app(answers_path=answers)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert app.state is not None, str(app.screen.query_one("#open-problems").render())
        app.goto_step("summary")
        await pilot.pause()
        listing = app.screen.query_one("#problem-list", OptionList)
        shown = [str(listing.get_option_at_index(index).prompt) for index in range(listing.option_count)]
        shown.append(str(app.screen.query_one("#yaml", Static).render()))
        app.goto_step("packages")
        await pilot.pause()
        shown.append(str(app.screen.query_one("#step-problems").render()))
        table = app.screen.query_one("#result", DataTable)
        for row in range(table.row_count):
            cells = table.get_row_at(row)
            assert all(isinstance(cell, Text) for cell in cells), cells  # a str cell would be read as markup
            shown.append(" ".join(cell.plain for cell in cells))
        return "\n".join(shown)


def _yaml_string(text: str) -> str:
    def escaped(char: str) -> str:
        code = ord(char)
        if 0x20 <= code < 0x7F and char not in '"\\':
            return char
        return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return '"' + "".join(map(escaped, text)) + '"'


@PILOT
@given(package=text_line, name=text_line)
def test_summary_and_packages_show_hostile_answer_values_literally(tmp_path_factory: Any, monkeypatch: Any, package: str, name: str) -> None:
    home = fresh_home(tmp_path_factory, monkeypatch)
    answers = home / "answers.yaml"
    # YAML double-quoted strings, escaped: every character of the value arrives as it is.
    text = (f"version: 1\nrecipe: debian-based\nrelease: bookworm\narch: x86_64\nsize: 1.3G\n"
            f"mirror: http://mirror.example/debian\npackages:\n  add: [htop, {_yaml_string(package)}]\n"
            f"image:\n  name: {_yaml_string(name)}\nmetadata:\n  ssh_key: root\n")
    answers.write_text(text)
    shown = async_test(_summary_and_packages)(answers)
    assume("not valid YAML" not in shown)  # a character the YAML reader refuses: the file is refused whole, nothing of it shown
    assert not unsafe_characters(shown), repr(shown)
    assert "not a valid Debian package name" in shown, shown  # the value reached the screen, in the problem and the table
