"""Snapshots of the build (running, failed), done, boot-test and review screens: two themes, and three sizes.

The themes are drawn at each screen's own size; the sizes (80x24, 120x40,
200x50) in the default theme, for the running build, Done (built, a dry
run's plan, after a boot test), the boot test and Review.

Deterministic by construction: the fake build's output and step times are
fixed, the screen's clock is injected, paths are relative to a temporary
working folder, and cursors do not blink.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_build import IMAGE_ID, STAMPED_ID, FakeBuild, FakeResult, ScreenApp, sample_answers, wait_for
from test_boottest_screen import FakeBoot
from textual.widgets import Input, TextArea

import emi_tui.engine.review.review  # noqa: F401 (the screen imports it late; broken, it fails here)
from emi_tui.engine.build.timings import expected_seconds
from emi_tui.engine.image.imageid import ImageId
from emi_tui.tui.screens.job import boottest
from emi_tui.tui.screens.job.boottest import BootTestScreen
from emi_tui.tui.screens.job.build import BuildScreen
from emi_tui.tui.screens.job.done import DoneScreen
from emi_tui.tui.screens.review.review import ReviewScreen

THEMES = pytest.mark.parametrize("theme", [None, "textual-light"], ids=["default", "light"])
SIZE = (100, 30)
#: 80x24 is first class: each screen below is drawn there, at the wizard's main size, and wide.
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=["80x24", "120x40", "200x50"])


class FixedClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class SnapApp(ScreenApp):
    TITLE = "emi-tui"


def no_blink(app) -> None:
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for widget in app.screen.query(TextArea):
        widget.cursor_blink = False


def build_app(fake: FakeBuild, theme: str | None, clock: FixedClock) -> SnapApp:
    answers, recipe = sample_answers()
    # The defaults, never this machine's step timings: the progress and ETA drawn must not depend on past builds.
    return SnapApp(
        lambda: BuildScreen(answers, recipe, Path("answers.yaml"), runner=fake, clock=clock, expected=expected_seconds), theme=theme
    )


@THEMES
def test_build_running(snap_compare, theme):
    fake = FakeBuild(lines_per_step=30, hold_at="zerofree")
    clock = FixedClock()
    app = build_app(fake, theme, clock)

    async def run_before(pilot):
        await wait_for(pilot, lambda: fake.holding.is_set() and app.screen_under_test.lines_received == 7 * 30)
        clock.now += 42  # the running step has been going for 0:42
        app.screen_under_test._render_steps()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@THEMES
def test_build_failed(snap_compare, theme):
    fake = FakeBuild(lines_per_step=6, fail_at="chroot")
    app = build_app(fake, theme, FixedClock())

    async def run_before(pilot):
        await wait_for(pilot, lambda: app.screen_under_test.status == "failed")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def built_result() -> FakeResult:
    """A finished build's outcome, its files written under the current folder."""
    images = Path("images")
    images.mkdir()
    tarball = images / "euca-debian-2026.11.28-x86_64.tgz"
    tarball.write_bytes(bytes(range(256)) * 4096)
    sidecar = images / (tarball.name + ".sha256")
    sidecar.write_text(f"{'3f' * 32}  {tarball.name}\n")
    manifest = images / "euca-debian-2026.11.28-x86_64.manifest"
    manifest.write_text("openssh-server\t1:9.2p1-2+deb12u3\n")
    facts = {"kernel_files": ["vmlinuz-6.1.0-28-amd64", "initrd.img-6.1.0-28-amd64"]}
    return FakeResult(True, [tarball, sidecar, manifest], IMAGE_ID, seconds=754.0, facts=facts)


@THEMES
def test_done(snap_compare, theme, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = built_result()
    answers, _ = sample_answers()
    app = SnapApp(lambda: DoneScreen(result, answers), theme=theme)

    async def run_before(pilot):
        await wait_for(pilot, lambda: len(app.screen_under_test.checksums) == 3)
        no_blink(app)

    assert snap_compare(app, terminal_size=(100, 40), run_before=run_before)


def write_ids(folder: Path) -> None:
    debian = STAMPED_ID
    centos = ImageId.stamped(
        name="euca-centos-emi",
        version="2026.11.30",
        arch="x86_64",
        file="euca-centos-2026.11.30-x86_64.img",
        recipe="centos-based",
        epoch_seconds=1796000000,
    )
    (folder / "debian").mkdir(parents=True)
    (folder / "debian" / "image-id").write_text(debian.render())
    (folder / "centos").mkdir()
    (folder / "centos" / "image-id").write_text(centos.render().replace(centos.image_stamp, "dead-beef"))
    (folder / "EMI-IDs").write_text("euca-ubuntu-emi:\n  date 20261201120000\n  stamp 1234-5678\n  euca-ubuntu-2026.12.01-x86_64.tgz\n")


@THEMES
@pytest.mark.parametrize("comparing", [False, True], ids=["entry", "compare"])
def test_review(snap_compare, theme, comparing, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_ids(Path("ids"))
    app = SnapApp(lambda: ReviewScreen([Path("ids")]), theme=theme)

    async def run_before(pilot):
        await wait_for(pilot, lambda: len(app.screen_under_test.entries) == 3)
        # The table's row-highlight message follows the load; let it land before the picture.
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        no_blink(app)
        if comparing:
            await pilot.press("down", "m", "down")

    assert snap_compare(app, terminal_size=(110, 30), run_before=run_before)


def sized_screen(screen: str, tmp_path: Path, monkeypatch):
    """The app that shows `screen` (a fake behind it), and what to do before the snapshot."""
    monkeypatch.chdir(tmp_path)
    answers, recipe = sample_answers()
    clock = FixedClock()
    if screen == "build-running":
        fake = FakeBuild(lines_per_step=30, hold_at="zerofree")
        app = build_app(fake, None, clock)

        async def ready(pilot):
            await wait_for(pilot, lambda: fake.holding.is_set() and app.screen_under_test.lines_received == 7 * 30)
            clock.now += 42
            app.screen_under_test._render_steps()
    elif screen == "done-dry-run":
        fake = FakeBuild(lines_per_step=2)
        app = SnapApp(
            lambda: BuildScreen(answers, recipe, Path("answers.yaml"), dry_run=True, runner=fake, clock=clock, expected=expected_seconds)
        )

        async def ready(pilot):
            await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
    elif screen in ("done-built", "done-boot-tested", "boot-test"):
        monkeypatch.setattr(boottest, "default_boot_runner", FakeBoot(lines_per_check=6))
        result = built_result()
        app = SnapApp(lambda: DoneScreen(result, answers))

        async def ready(pilot):
            await wait_for(pilot, lambda: len(app.screen_under_test.checksums) == 3)
            if screen != "done-built":
                await pilot.press("b")
                await wait_for(pilot, lambda: isinstance(app.screen, BootTestScreen) and app.screen.finished)
            if screen == "done-boot-tested":
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen) and app.screen.boot_result is not None)
    else:
        write_ids(Path("ids"))
        app = SnapApp(lambda: ReviewScreen([Path("ids")]))

        async def ready(pilot):
            await wait_for(pilot, lambda: len(app.screen_under_test.entries) == 3)
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)

    async def run_before(pilot):
        await ready(pilot)
        await pilot.pause()
        no_blink(app)

    return app, run_before


@SIZES
@pytest.mark.parametrize("screen", ["build-running", "done-built", "done-dry-run", "done-boot-tested", "boot-test", "review"])
def test_job_screen_at_each_size(snap_compare, screen, size, tmp_path, monkeypatch):
    app, run_before = sized_screen(screen, tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
