"""Modify an existing image in the wizard, by keyboard: Artifact, the wizard's own Packages and Metadata, Changes, run, Done.

The artifact reader and run_modify are stand-ins (tests/tui/modify_fakes.py);
tests/e2e/test_modify_tui_e2e.py drives the same screens with the real engine.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fake_build import wait_for
from modify_fakes import FakeModify, fake_reader
from textual.widgets import Checkbox, Input, SelectionList, Switch

from emi_tui.tui.screens.job.build import BuildScreen
from emi_tui.tui.screens.job.done import DoneScreen
from emi_tui.tui.screens.modify.artifact import ArtifactScreen
from emi_tui.tui.screens.modify.changes import ChangesScreen
from emi_tui.tui.screens.wizard.home import HomeScreen
from emi_tui.tui.screens.wizard.metadata import MetadataScreen
from emi_tui.tui.screens.wizard.packages import PackagesScreen
from emi_tui.tui.widgets.sidebar import StepSidebar

SIZE = (120, 45)


def artifact_in(tmp_path: Path) -> Path:
    path = tmp_path / "euca-debian-2026.01.02-x86_64.tgz"
    path.write_bytes(b"stand-in: the fake reader answers for it")
    return path


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def to_changes(app, pilot, artifact: Path) -> None:
    """Home → Artifact (typed, read) → Packages → Metadata → Changes, with nothing changed."""
    await pilot.press("ctrl+e")
    await pilot.pause()
    assert isinstance(app.screen, ArtifactScreen)
    app.screen.query_one("#artifact", Input).value = str(artifact)  # typing it is tested once, below
    await wait_for(pilot, lambda: app.state.look is not None and not app.state.problems_for("artifact"))
    for expected in (PackagesScreen, MetadataScreen, ChangesScreen):
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, expected), app.screen


async def test_modify_by_keyboard_from_home_to_the_done_screens_diff(make_app, tmp_path: Path, monkeypatch) -> None:
    fake, reader = FakeModify(), fake_reader()
    artifact = artifact_in(tmp_path)
    monkeypatch.chdir(tmp_path)  # a relative path is shorter to type (and operators type them too)
    app = make_app(artifact_reader=reader, modify_runner=fake, remember=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+e")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ArtifactScreen) and "Step 1 of 4" in text_of(screen, "#step-title")
        await pilot.press(*artifact.name)
        await wait_for(pilot, lambda: "2026.01.02" in text_of(screen, "#current"))
        assert reader.calls == [artifact.name]  # read once, when typing paused
        current = text_of(screen, "#current")
        assert "image_version disagrees" in current and "stamp not verified" in current and "no package caches" in current
        assert "stored answers" in text_of(screen, "#prefill")
        await pilot.press("ctrl+n")
        await pilot.pause()

        packages = app.screen
        assert isinstance(packages, PackagesScreen) and "Step 2 of 4" in text_of(packages, "#step-title")
        assert "Pre-filled from the image's stored answers" in text_of(packages, "#step-intro")
        defaults = packages.query_one("#defaults", SelectionList)
        assert "sudo" not in defaults.selected and "less" in defaults.selected  # the image's trim, kept
        assert packages.query_one("#added", SelectionList).selected == ["htop"]
        assert packages.focused.id == "add-package"
        await pilot.press(*"mc", "enter")
        await pilot.pause()
        assert app.state.package_changes() == (["mc"], [])
        await pilot.press("ctrl+n")
        await pilot.pause()

        metadata = app.screen
        assert isinstance(metadata, MetadataScreen) and "Step 3 of 4" in text_of(metadata, "#step-title")
        hostname = metadata.query_one("#md-hostname", Checkbox)
        assert hostname.value is False
        hostname.focus()
        await pilot.press("space")
        await pilot.pause()
        assert app.state.changed_metadata_keys() == ["hostname"]
        await pilot.press("ctrl+n")
        await pilot.pause()

        changes = app.screen
        assert isinstance(changes, ChangesScreen) and "Step 4 of 4" in text_of(changes, "#step-title")
        plan = text_of(changes, "#plan")
        assert "install mc" in plan and "purge nothing" in plan and "regenerate rc.local" in plan and "hostname" in plan
        assert changes.query_one("#shell", Switch).disabled  # no real terminal under Pilot
        changes.query_one("#version").focus()
        await pilot.press(*"2026.11.28")
        await pilot.press("ctrl+n", "y")  # Start modify…, then the root confirmation
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
        build = app.screen_stack[-2]
        assert isinstance(build, BuildScreen) and build.lines_received == fake.emitted_lines > 0  # the run's log, under the Done screen

        request = fake.requests[0]
        assert request.artifact.resolve() == artifact and request.add == ["mc"] and request.remove == []
        assert request.metadata is not None and request.metadata.hostname is True
        assert request.version == "2026.11.28" and request.shell is False and request.grow is None
        done = app.screen
        diff = text_of(done, "#modify-diff")
        assert "2026.01.02" in diff and "2026.11.28" in diff and "image_version" in diff
        assert "rsync" in diff and "sudo" in diff and "libc6" in diff and "1 added, 1 removed, 1 upgraded" in diff
        assert "Image modified" in text_of(done, "#headline") and "original is unchanged" in text_of(done, "#headline")
        assert done.bucket == "euca-debian-emi"


async def test_the_sidebar_has_the_modify_steps_and_home_offers_to_continue(make_app, tmp_path: Path) -> None:
    app = make_app(artifact_reader=fake_reader(), modify_runner=FakeModify(), remember=False)
    async with app.run_test(size=SIZE) as pilot:
        await to_changes(app, pilot, artifact_in(tmp_path))
        sidebar = app.screen.query_one(StepSidebar)
        assert [option.id for option in sidebar._options] == ["artifact", "packages", "metadata", "changes"]
        await pilot.press("ctrl+b", "ctrl+b", "ctrl+b", "ctrl+b")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert "Continue the modify in progress" in str(app.screen.query_one("#continue").label)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, ChangesScreen)  # every step before it was finished


async def test_a_bad_package_name_holds_back_start(make_app, tmp_path: Path) -> None:
    fake = FakeModify()
    app = make_app(artifact_reader=fake_reader(), modify_runner=fake, remember=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#artifact", Input).value = str(artifact_in(tmp_path))
        await wait_for(pilot, lambda: app.state.look is not None)
        await pilot.press("ctrl+n")
        await pilot.pause()
        app.state.set("packages.add", ["htop", "Bad Name!"])  # a name from a hand-edited file, say
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PackagesScreen)  # Next is held back on the step with the problem
        app.state.finished.update({"packages", "metadata"})
        app.goto_step("changes")
        await pilot.pause()
        assert "packages.add" in text_of(app.screen, "#step-problems")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ChangesScreen) and fake.requests == []


async def test_an_artifact_that_cannot_be_modified_stops_at_the_first_step(make_app, tmp_path: Path) -> None:
    app = make_app(artifact_reader=fake_reader(error="x.tgz holds no image (*.img)"), remember=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#artifact", Input).value = str(artifact_in(tmp_path))
        await wait_for(pilot, lambda: app.state.look is not None)
        screen = app.screen
        assert "holds no image" in text_of(screen, "#artifact-problem") and "cannot modify it" in text_of(screen, "#current")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ArtifactScreen)


async def test_cancel_then_back_returns_to_the_changes(make_app, tmp_path: Path) -> None:
    fake = FakeModify(hold=True)
    app = make_app(artifact_reader=fake_reader(), modify_runner=fake, remember=False)
    async with app.run_test(size=SIZE) as pilot:
        await to_changes(app, pilot, artifact_in(tmp_path))
        await pilot.press("ctrl+n", "y")  # Start modify…, then the root confirmation
        await wait_for(pilot, lambda: fake.cancel is not None)
        build = app.screen
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: build.status == "cancelled")
        assert fake.cancel.is_set() and "cancelled" in text_of(build, "#failure-text")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ChangesScreen)


async def test_a_failure_shows_the_step_and_retry_runs_it_again(make_app, tmp_path: Path) -> None:
    fake = FakeModify(fail="packages")
    app = make_app(artifact_reader=fake_reader(), modify_runner=fake, remember=False)
    async with app.run_test(size=SIZE) as pilot:
        await to_changes(app, pilot, artifact_in(tmp_path))
        await pilot.press("ctrl+n", "y")  # Start modify…, then the root confirmation
        await pilot.pause()
        build = app.screen
        await wait_for(pilot, lambda: build.status == "failed")
        assert "step packages failed: apt-get install failed" in text_of(build, "#failure-text")
        assert "Back (esc)" in str(build.query_one("#back").label)
        await pilot.press("r")
        await wait_for(pilot, lambda: len(fake.requests) == 2 and build.status == "failed")


async def test_the_changes_screen_says_what_a_modify_trusts(make_app, tmp_path: Path) -> None:
    """Before Start: the modify runs the image's own programs as root, so only trusted images; review needs no such trust."""
    app = make_app(artifact_reader=fake_reader(), modify_runner=FakeModify(), remember=False)
    async with app.run_test(size=SIZE) as pilot:
        await to_changes(app, pilot, artifact_in(tmp_path))
        note = app.screen.query_one("#trust-note")
        said = " ".join(text_of(app.screen, "#trust-note").split())
        assert "runs the image's own programs as root" in said and "only images from sources you trust" in said, said
        assert "review" in said and "without mounting it" in said, said
        assert note.region.height > 0 and app.screen.region.contains_region(note.region)  # on screen, not scrolled away
