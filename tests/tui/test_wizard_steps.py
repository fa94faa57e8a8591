"""Each wizard step worked by keyboard alone: what the answers become."""

from __future__ import annotations

from pathlib import Path

from conftest import MIRROR, SIZE
from fake_build import wait_for
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from emi_tui.engine.answers.model import effective_packages, validate_file
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.tui.screens.job import build
from emi_tui.tui.screens.wizard.distro import DistroScreen
from emi_tui.tui.screens.wizard.metadata import PREVIEW_DELAY
from emi_tui.tui.screens.wizard.size import SizeScreen
from emi_tui.tui.screens.wizard.summary import SummaryScreen


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)


async def open_step(pilot, step: str) -> None:
    """From a replayed file, open `step` by the step list: F2, arrows, Enter."""
    app = pilot.app
    await pilot.press("f2")
    order = ["distro", "size", "packages", "metadata", "image", "summary"]
    await pilot.press("home", *["down"] * order.index(step), "enter")
    await pilot.pause()
    assert step == app.screen.STEP


async def test_distro_by_keyboard(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, DistroScreen)
        assert app.focused.id == "recipe"
        await pilot.press("down", "enter")  # debian-based -> ubuntu-based
        await pilot.pause()
        assert app.state.answers.recipe == "ubuntu-based"
        # Ubuntu has no default mirror: Next is refused until one is typed, and the cursor waits in the Mirror field.
        assert app.screen.query_one("#next", Button).disabled
        assert "an Ubuntu mirror" in str(app.screen.query_one("#mirror-problem", Static).render())
        assert app.focused.id == "mirror"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, DistroScreen)
        await type_text(pilot, "file:///u")
        await pilot.press("shift+tab", "shift+tab", "down", "enter")  # release noble -> jammy
        await pilot.press("tab", "down", "enter")  # arch x86_64 -> aarch64
        await pilot.press("ctrl+n")
        await pilot.pause()
        answers = app.state.answers
        assert (answers.recipe, answers.release, answers.arch, answers.mirror) == (
            "ubuntu-based", "jammy", "aarch64", "file:///u"
        )
        assert isinstance(app.screen, SizeScreen)
        assert "distro" in app.state.finished


async def test_size_by_keyboard(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SIZE) as pilot:
        await open_step(pilot, "size")
        await pilot.press("down", "enter")  # 1.3G -> 4.5G
        await pilot.pause()
        assert app.state.answers.size == "4.5G"
        assert app.state.image_defaults().name == "euca-large-debian-emi"
        await pilot.press("down", "enter")  # Custom: the field takes the focus
        await pilot.pause()
        assert app.focused.id == "custom-size"
        await type_text(pilot, "500M")
        await pilot.pause()
        assert app.state.answers.size == "500M"
        assert app.screen.query_one("#next", Button).disabled  # below debian-based's 600M
        assert "too small" in str(app.screen.query_one("#size-problem", Static).render())
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, SizeScreen)
        await pilot.press("ctrl+u")
        await type_text(pilot, "2G")
        await pilot.pause()
        assert str(app.screen.query_one("#custom-check", Static).render()) == "= 2.0 GB"
        await pilot.press("enter")  # Enter in a valid custom size goes on
        await pilot.pause()
        assert app.state.answers.size == "2G"
        assert not isinstance(app.screen, SizeScreen)


async def test_packages_by_keyboard(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SIZE) as pilot:
        await open_step(pilot, "packages")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.focused.id == "add-package"
        await type_text(pilot, "tree")
        await pilot.press("enter")
        await type_text(pilot, "Bad_Name")
        await pilot.press("enter")
        await pilot.pause()
        assert "not a valid Debian package name" in str(app.screen.query_one("#add-check", Static).render())
        await pilot.press("ctrl+u")
        await pilot.press("tab")  # the recipe defaults (the matches are hidden with the field empty): less is highlighted
        await pilot.press("space")  # trim less
        await pilot.press(*["down"] * 5, "space")  # man-db, trimmed by the recipe: add it back
        await pilot.press("tab")  # the added packages
        await pilot.press("space")  # uncheck htop
        await pilot.pause()
        changes = app.state.answers.packages
        assert changes.add == ["tree", "man-db"]
        assert changes.remove == ["less", "sudo"]
        recipe = app.state.recipe
        assert effective_packages(app.state.answers, recipe) == ["vim-tiny", "psmisc", "rsync", "tree", "man-db"]
        await pilot.press("tab")  # the filter
        await type_text(pilot, "rs")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.shown == ["rsync"]
        catalog = app.state.current_catalog()
        assert catalog is not None and catalog.facts("man-db", []).installed_bytes == 2800 * 1024


async def test_metadata_by_keyboard(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SIZE) as pilot:
        await open_step(pilot, "metadata")
        assert app.focused.id == "md-url"
        await pilot.press("end", "!")  # no longer a plain http URL
        await pilot.pause(PREVIEW_DELAY + 0.1)
        assert app.screen.query_one("#md-url-problem", Static).has_class("-shown")
        assert app.screen.query_one("#next", Button).disabled
        assert app.screen.preview_stale  # the last good script stays, marked stale
        await pilot.press("ctrl+u")
        await type_text(pilot, "http://h")
        await pilot.press("tab", "enter", "down", "enter")  # ssh_key: root -> ec2-user
        await pilot.press("tab", "space")  # ephemeral0 off
        await pilot.pause(PREVIEW_DELAY + 0.1)  # the preview follows once typing pauses
        metadata = app.state.answers.metadata
        assert (metadata.url, metadata.ssh_key, metadata.ephemeral0, metadata.hostname) == (
            "http://h", "ec2-user", False, True
        )
        assert not app.screen.query_one("#md-url-problem", Static).has_class("-shown")
        assert app.screen.preview_text is not None and "http://h" in app.screen.preview_text
        assert not app.screen.preview_stale


async def test_image_by_keyboard(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SIZE) as pilot:
        await open_step(pilot, "image")
        assert app.screen.query_one("#img-name", Input).value == "euca-debian-emi"
        await pilot.press("ctrl+u")
        await type_text(pilot, "web")
        await pilot.press("tab", "ctrl+u")
        await type_text(pilot, "v2")
        await pilot.pause()
        # The file name is a default, so it follows the version as it is typed.
        assert app.screen.query_one("#img-file", Input).value == "euca-debian-v2-x86_64.img"
        await pilot.press("tab", "tab", "ctrl+u")
        await type_text(pilot, "i")  # relative: a folder that can be made, as any user
        await pilot.press("tab", "enter", "up", "enter")  # gzip -> zstd (listed first, the suggestion)
        await pilot.press("tab", "space")  # kernel off
        await pilot.pause()
        answers = app.state.answers
        assert (answers.image.name, answers.image.version, answers.image.file) == ("web", "v2", None)
        assert (answers.output.dir, answers.output.compress, answers.kernel) == ("i", "zstd", False)
        assert app.state.resolved().image.file == "euca-debian-v2-x86_64.img"
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "ctrl+u")  # back to image_file
        await type_text(pilot, "a/b")
        await pilot.pause()
        assert "plain file name" in str(app.screen.query_one("#img-file-problem", Static).render())
        assert app.screen.query_one("#next", Button).disabled


class RecordingBuild(Screen):
    """Stands in for the build screen: records what the wizard hands it."""

    calls: list = []

    def __init__(self, answers, recipe, answers_path, dry_run=False):
        super().__init__()
        RecordingBuild.calls.append((answers, recipe, answers_path, dry_run))


async def test_summary_save_and_build_by_keyboard(make_app, answers_file, tmp_path, home, monkeypatch):
    RecordingBuild.calls = []
    monkeypatch.setattr(build, "BuildScreen", type("BuildScreen", (RecordingBuild,), {}))
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        monkeypatch.chdir(tmp_path)  # a short relative path: typing is slow in Pilot
        await pilot.press("ctrl+s", "ctrl+u")
        target = tmp_path / "s" / "a.yaml"
        await type_text(pilot, "s/a.yaml")
        await pilot.press("enter")
        await pilot.pause()
        assert not target.parent.exists() and "does not exist" in str(app.screen.query_one("#prompt-error").render())
        await pilot.press("enter")  # the same path again: create the folder
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert "# the answer-file format" in target.read_text()
        saved = validate_file(target, RecipeBook())
        assert saved.ok and saved.answers.packages.add == ["htop"] and saved.answers.mirror == MIRROR
        # Change one answer: the build must then save its own copy in the history.
        app.state.set("metadata.swap", False)
        summary = app.screen
        summary.refresh_state()
        await wait_for(pilot, lambda: summary.checks_done)
        await pilot.press("ctrl+n")  # Build asks first: the root confirmation
        await pilot.pause()
        assert not RecordingBuild.calls
        await pilot.press("y")
        await pilot.pause()
        assert type(app.screen).__name__ == "BuildScreen"
        answers, recipe, path, dry_run = RecordingBuild.calls[-1]
        assert dry_run is False
        assert path == home / ".local/share/emi-tui/history/20261128-093000-euca-debian-2026.11.28-x86_64.yaml"
        assert recipe.name == "debian-based" and answers.metadata.swap is False
        assert validate_file(Path(path), RecipeBook()).answers == answers
