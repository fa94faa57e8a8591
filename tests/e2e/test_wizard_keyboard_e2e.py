"""A keyboard-only walk of the wizard, for real, at 80x24: Home to a built image, Done and a boot test that passes.

The real EmiApp is driven with Pilot, by keys only (never a click), with the
real package catalog of the workstation's mirror, the real readiness checks,
a real root build (the session's cache holds the base, so it is a cached
rebuild) and a real boot test under QEMU.

Before every key it presses, the walk asserts that the current screen's
footer shows that key, enabled and wholly visible: an operator who only
reads the footer can do all of it. The exceptions are Textual's universal
keys, which no footer lists: Tab and shift+Tab (move the focus), the arrows,
Enter and space (act on the focused widget), and text typed into a focused
Input.

The timeouts are hang guards, not speed targets: a build and a boot under
QEMU/TCG on a 2-core machine take minutes.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Input
from textual.widgets._footer import FooterKey

from emi_tui.engine.boot.boottest import CHECK_NAMES, VD_CHECK
from emi_tui.engine.build.readiness import CheckStatus
from emi_tui.engine.review.review import check_stamp

from .checks import assert_nothing_left, fields_of, text_in
from .test_boot_e2e import _qemu  # noqa: F401  (the autouse fixture: skip, or fail in CI, without QEMU and ssh)
from .test_modify_tui_e2e import isolated, plain

pytestmark = [pytest.mark.root, pytest.mark.e2e]

SIZE = (80, 24)
#: Small, not one of the recipe's defaults, and not in the session's cold build.
PACKAGE = "tree"
#: Textual's own keys, in no footer: focus moves, acting on the focused widget.
UNIVERSAL_KEYS = {"tab", "shift+tab", "up", "down", "left", "right", "enter", "space"}
#: Hang guards, in seconds (a TCG machine with 2 cores, other tests beside it).
SCREEN_TIMEOUT = 30
CATALOG_TIMEOUT = 300
CHECKS_TIMEOUT = 300
BUILD_TIMEOUT = 900
BOOT_TIMEOUT = 900


def footer_keys(screen) -> set[str]:
    """The keys the screen's footer shows now: enabled (not greyed out) and wholly inside the footer, clear of the palette key."""
    try:
        footer = screen.query_one(Footer)
    except NoMatches:  # a screen just pushed is on the stack before its widgets are mounted
        return set()
    shown = [key for key in footer.query(FooterKey) if key.display]
    palette = [key for key in shown if key.has_class("-command-palette")]
    limit = palette[0].region.x if palette else footer.region.right
    keys = set()
    for key in shown:
        region = key.region
        if key.has_class("-command-palette") or key.has_class("-disabled") or region.width == 0:
            continue
        if region.x >= footer.region.x and region.right <= limit:
            keys.add(key.key)
    return keys


async def wait_until(pilot, what: str, condition, timeout: float, why=lambda: "") -> None:
    """Let the app run until `condition()` holds; fail, saying `what` (and `why()`), after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s (on {type(pilot.app.screen).__name__}) {why()}")
        await pilot.pause(0.2)


async def press(pilot, key: str) -> None:
    """Press `key` once the current screen's footer shows it (universal keys are pressed as they are)."""
    if key not in UNIVERSAL_KEYS:
        await wait_until(pilot, f"the key {key} in the footer", lambda: key in footer_keys(pilot.app.screen), SCREEN_TIMEOUT,
                         lambda: f"the footer shows {sorted(footer_keys(pilot.app.screen))}")
    await pilot.press(key)
    await pilot.pause()


async def type_text(pilot, text: str) -> None:
    """Type into the focused Input (which the walk has checked is one)."""
    assert isinstance(pilot.app.focused, Input), f"typing needs a text field in focus, not {pilot.app.focused!r}"
    await pilot.press(*text)
    await pilot.pause()


async def on_screen(pilot, name: str, timeout: float = SCREEN_TIMEOUT) -> None:
    await wait_until(pilot, f"the {name}", lambda: is_shown(pilot.app.screen, name), timeout)


def is_shown(screen, name: str) -> bool:
    """`screen` is a `name`, and its widgets are mounted (a pushed screen is on the stack before they are)."""
    return type(screen).__name__ == name and screen.is_mounted


async def tab_to(pilot, widget_id: str) -> None:
    """Tab until the widget `widget_id` has the focus (a bounded number of Tabs)."""
    for _ in range(25):
        if pilot.app.focused is not None and pilot.app.focused.id == widget_id:
            return
        await press(pilot, "tab")
    pytest.fail(f"Tab never reached #{widget_id} (focus on {pilot.app.focused!r})")


async def _walk(app, output: Path) -> dict:
    """Home → every step → Build… → y → the build → Done → b → the boot test → Esc → Done, by keys; returns what was shown."""
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, "HomeScreen")
        await press(pilot, "ctrl+n")

        await on_screen(pilot, "DistroScreen")
        state = app.state
        assert state.answers.recipe == "debian-based" and state.problems_for("distro") == [], state.problems_for("distro")
        await press(pilot, "ctrl+n")

        await on_screen(pilot, "SizeScreen")
        await press(pilot, "ctrl+n")

        # Packages: the picker reads the mirror's index; the package is typed, then chosen from the matches it finds.
        await on_screen(pilot, "PackagesScreen")
        screen = app.screen
        await wait_until(pilot, "the package index", lambda: state.current_catalog() is not None or screen.unavailable, CATALOG_TIMEOUT)
        assert screen.unavailable is None, f"the picker could not read the index: {screen.unavailable}"
        assert app.focused is not None and app.focused.id == "add-package"
        await type_text(pilot, PACKAGE)
        matches = screen.query_one("#matches", DataTable)
        await wait_until(pilot, f"{PACKAGE} among the matches", lambda: matches.display and PACKAGE in [k.value for k in matches.rows],
                         SCREEN_TIMEOUT)
        row = [key.value for key in matches.rows].index(PACKAGE)
        await press(pilot, "down")
        assert app.focused is matches
        for _ in range(row - matches.cursor_row):
            await press(pilot, "down")
        assert matches.cursor_row == row
        await press(pilot, "enter")
        assert [(o.name, o.action) for o in screen.outcomes] == [(PACKAGE, "add")], screen.outcomes
        assert PACKAGE in state.answers.packages.add
        await press(pilot, "ctrl+n")

        await on_screen(pilot, "MetadataScreen")
        assert state.answers.metadata.ssh_key == "root"  # the boot test logs in as root
        await press(pilot, "ctrl+n")

        # Image: the output folder is this test's own (Tab into the field selects its text: typing replaces it).
        await on_screen(pilot, "ImageScreen")
        await tab_to(pilot, "out-dir")
        await type_text(pilot, str(output))
        assert state.answers.output.dir == str(output), state.answers.output.dir
        await press(pilot, "ctrl+n")

        # Summary: the real readiness checks (the mirror, the package index, the folders), then Build… and the root dialog.
        await on_screen(pilot, "SummaryScreen")
        summary = app.screen
        await wait_until(pilot, "the readiness checks", lambda: summary.checks_done, CHECKS_TIMEOUT)
        readiness = summary.readiness
        assert state.problems() == [] and readiness.can_build, [(c.label, c.status, c.message) for c in readiness.checks]
        assert readiness.with_status(CheckStatus.NOT_CHECKED) == [], "online, the mirror and the package index are checked"
        await press(pilot, "ctrl+n")
        if readiness.warnings:  # a warning asks for the key a second time
            assert type(app.screen).__name__ == "SummaryScreen"
            assert "Press Build again" in plain(summary.query_one("#check-verdict"))
            await press(pilot, "ctrl+n")
        await on_screen(pilot, "ConfirmRoot")
        await press(pilot, "y")

        # The build, its live log, then Done.
        await on_screen(pilot, "BuildScreen")
        build = app.screen
        started = time.monotonic()

        def build_failed() -> str:
            return f"status {build.status}: {plain(build.query_one('#failure-text'))}\n{plain(build.query_one('#failure-tail'))}"

        live = []  # the log showed lines while the build was still running

        def build_ended() -> bool:
            if app.screen is build and build.status == "running" and build.lines_received:
                live.append(build.lines_received)
            return is_shown(app.screen, "DoneScreen") or build.status in ("failed", "cancelled")

        await wait_until(pilot, "the build's Done screen", build_ended, BUILD_TIMEOUT, build_failed)
        assert type(app.screen).__name__ == "DoneScreen", build_failed()
        build_seconds = time.monotonic() - started
        assert live, "the build's log showed nothing while it ran"
        done = app.screen

        # The boot test, from Done; back on Done once it has passed.
        await press(pilot, "b")
        await on_screen(pilot, "BootTestScreen")
        boot = app.screen
        started = time.monotonic()
        await wait_until(pilot, "the end of the boot test", lambda: boot.finished, BOOT_TIMEOUT)
        boot_seconds = time.monotonic() - started
        report = boot.report
        assert boot.error is None and report is not None and report.ok, (boot.error, [(c.name, c.detail) for c in getattr(report, "checks", ()) if not c.passed])
        await press(pilot, "escape")
        await on_screen(pilot, "DoneScreen")
        assert app.screen is done
        shown = {
            "artifacts": list(done.artifacts), "image_id": done.image_id, "boot_result": done.boot_result,
            "boot_box": plain(done.query_one("#boot-result")), "checks": [c.name for c in report.checks if c.passed],
            "build_seconds": build_seconds, "boot_seconds": boot_seconds, "result": build.result,
        }
        # A build ran from these answers: nothing is lost, and q quits at once.
        await wait_until(pilot, "the key q in the footer", lambda: "q" in footer_keys(done), SCREEN_TIMEOUT)
        await pilot.press("q")
        await wait_until(pilot, "the app's exit", lambda: app.return_code is not None, SCREEN_TIMEOUT)
    assert app.return_code == 0
    return shown


def test_a_keyboard_only_walk_from_home_to_a_boot_test_that_passes(cold_build, build_env, tmp_path, monkeypatch, capsys):
    from emi_tui.tui.app import EmiApp

    env = isolated(build_env, tmp_path)  # the session's cache (a cached rebuild); state, history and work of this test's own
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "EMI_TUI_STATE_DIR", "EMI_TUI_WORK_DIR", "EMI_TUI_CACHE_DIR"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "images"

    started = time.monotonic()
    app = EmiApp(remember=False, stable=True)  # the real catalog, readiness checks, build and boot test
    shown = asyncio.run(_walk(app, output))
    with capsys.disabled():
        print(f"\nthe keyboard walk took {time.monotonic() - started:.0f} s: the build {shown['build_seconds']:.0f} s,"
              f" the boot test {shown['boot_seconds']:.0f} s")

    result = shown["result"]
    assert result.ok, result
    tarballs = [p for p in shown["artifacts"] if p.name.endswith((".tgz", ".tar.zst", ".tar.gz", ".tar.xz", ".tar"))]
    assert len(tarballs) == 1 and tarballs[0].parent == output and tarballs[0].is_file(), shown["artifacts"]
    tarball = tarballs[0]
    stem = tarball.name.split(".tar")[0].removesuffix(".tgz")

    # The image-id the Done screen showed is the one stamped in the image, and its stamp verifies.
    shown_id = fields_of(shown["image_id"])
    stamp = check_stamp(shown_id["image_stamp"], shown_id["image_date"])
    assert stamp.verified, stamp.describe()
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "-xf", str(tarball), "-C", str(unpacked)], check=True)
    image = next(unpacked.rglob("*.img"))
    assert fields_of(text_in(image, "etc/image-id")) == shown_id

    manifest = (output / f"{stem}.manifest").read_text()
    assert PACKAGE in [line.split("\t")[0] for line in manifest.splitlines()], manifest[:2000]

    # Done shows the boot test's result: every check passed.
    # The wizard's image maps vd* disks to sd* names (udev_vd is on by default): that is checked too.
    assert shown["checks"] == [*CHECK_NAMES, VD_CHECK]
    assert shown["boot_result"] is not None and shown["boot_result"][0] is True, shown["boot_result"]
    assert f"all {len(CHECK_NAMES) + 1} checks passed" in shown["boot_box"], shown["boot_box"]
    assert_nothing_left(tmp_path / "work", output)
