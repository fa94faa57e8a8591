"""Class 3 (symlinks escape): what emi-tui writes into a folder others may write to never goes through a planted link.

The output folder may be shared. Another user plants, at every name emi-tui
writes there (the output lock, the partial files and what goes beside the
artifact) and at the names of its state files and the boot test's console
log, a symlink to a victim file (root's, outside), a dangling one, or one to a
folder. The victim must never be written or truncated, a dangling target
never created, and the job must refuse clearly or write a regular file of its
own in place of the link.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emi_tui.engine.boot import boottest
from emi_tui.engine.build import package
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.context import JobContext, JobPaths
from emi_tui.engine.run.events import JobKind
from emi_tui.engine.run.job import Job, Step, run_job
from emi_tui.engine.run.lock import OutputLock
from emi_tui.engine.run.mounts import write_json_atomic
from tests.security.hostile import SECURITY

NOBODY = 65534
VICTIM_TEXT = "root:$6$secret:19000:0:99999:7:::\n"
TARGETS = ["victim file", "dangling", "folder"]

stems = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")) | st.sampled_from("-_."), min_size=1, max_size=16).filter(
    lambda name: not name.startswith((".", "-")))


class Scene:
    """A shared output folder, and outside it root's victim file, a folder and a dangling target."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch | None = None):
        shutil.rmtree(tmp_path / "scene", ignore_errors=True)
        self.root = tmp_path / "scene"
        if monkeypatch is not None:  # the job's state folder (logs, state files) sits beside the scene
            monkeypatch.setenv("EMI_TUI_STATE_DIR", str(self.root / "state"))
        self.output, self.outside = self.root / "out", self.root / "outside"
        for folder in (self.output, self.outside, self.outside / "folder"):
            folder.mkdir(parents=True)
        os.chmod(self.output, 0o1777)  # others may plant here
        self.victim = self.outside / "shadow"
        self.victim.write_text(VICTIM_TEXT)
        self.dangling = self.outside / "created-by-root"

    def plant(self, at: Path, target: str) -> None:
        """A symlink at `at`, made by another user, to `target` (one of TARGETS)."""
        points_to = {"victim file": self.victim, "dangling": self.dangling, "folder": self.outside / "folder"}[target]
        at.unlink(missing_ok=True)
        at.symlink_to(points_to)
        os.lchown(at, NOBODY, NOBODY)

    def assert_untouched(self) -> None:
        assert self.victim.read_text() == VICTIM_TEXT
        assert not self.dangling.exists() and not self.dangling.is_symlink()
        assert list((self.outside / "folder").iterdir()) == []


def lock_job(scene: Scene, guarded: Path, ran: list[str]) -> Job[JobContext]:
    return Job(
        kind=JobKind.BUILD, name="fake", steps=[Step("first", "must not run", lambda ctx: ran.append("ran"))],
        context=lambda start: JobContext(paths=start.paths, emit=start.emit, cancel=start.cancel), work_root=scene.root / "work",
        output=scene.output, lock=lambda ctx: OutputLock(guarded, f"writing {guarded}"),
    )


@SECURITY
@given(stem=stems, target=st.sampled_from(TARGETS))
def test_a_link_planted_at_the_output_lock_is_never_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stem: str, target: str) -> None:
    scene = Scene(tmp_path, monkeypatch)
    guarded = scene.output / f"{stem}.tgz"
    lock = OutputLock(guarded, "x").path
    scene.plant(lock, target)
    ran: list[str] = []

    result = run_job(lock_job(scene, guarded, ran), lambda _: None, threading.Event())

    assert not result.ok and not ran
    assert result.failure is not None and "refusing to use the lock file" in result.failure.message, result.failure
    scene.assert_untouched()


@SECURITY
@given(stem=stems, content=st.text(alphabet="0123456789abcdef\n", max_size=20))
def test_a_lock_file_another_user_made_is_refused_and_left_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stem: str, content: str) -> None:
    scene = Scene(tmp_path, monkeypatch)
    guarded = scene.output / f"{stem}.img"
    lock = OutputLock(guarded, "x").path
    lock.write_text(content)
    os.chown(lock, NOBODY, NOBODY)
    ran: list[str] = []

    result = run_job(lock_job(scene, guarded, ran), lambda _: None, threading.Event())

    assert not result.ok and not ran
    assert result.failure is not None and "another user owns it" in result.failure.message, result.failure
    assert lock.read_text() == content


def names_for(output: Path, stem: str) -> dict[str, Path]:
    tarball = output / f"{stem}.tgz"
    return {"tarball": tarball, "sha256": output / f"{stem}.tgz.sha256", "manifest": output / f"{stem}.manifest",
            "answers": output / f"{stem}.answers.yaml", "log": output / f"{stem}.build.log"}


@SECURITY
@given(stem=stems, target=st.sampled_from(TARGETS), planted=st.sets(st.sampled_from(["sha256", "manifest", "answers", "log"]), min_size=1))
def test_what_goes_beside_an_artifact_never_writes_through_links_planted_at_its_names(tmp_path: Path, stem: str, target: str, planted: set[str]) -> None:
    """Links at the final names and at the partial names another user can predict (`.NAME.partial-PID` before the fix)."""
    scene = Scene(tmp_path)
    names = names_for(scene.output, stem)
    for what in planted:
        scene.plant(names[what], target)
        scene.plant(names[what].with_name(f".{names[what].name}.partial-{os.getpid()}"), target)
    log = scene.root / "job.log"
    log.write_text("the log\n")
    ctx = JobContext(paths=JobPaths(scene.root / "work", scene.output, log), emit=lambda _: None, cancel=threading.Event())
    ctx.facts["manifest"] = {"bash": "5.2"}
    package.partial_name(names["tarball"]).write_bytes(b"the tarball")  # what tar wrote

    package.write_companions(ctx, names, package.partial_name(names["tarball"]), answers_text="version: 1\n")
    published = package.publish(ctx, log, names)

    scene.assert_untouched()
    for path in published:
        assert path.is_file() and not path.is_symlink() and path.stat().st_uid == os.geteuid(), path
    assert names["log"].read_text() == "the log\n" and names["manifest"].read_text() == "bash\t5.2\n"


@SECURITY
@given(stem=stems, target=st.sampled_from(TARGETS), swap=st.booleans())
def test_a_partial_written_by_a_command_is_made_new_and_a_swap_while_it_runs_is_caught(tmp_path: Path, stem: str, target: str, swap: bool) -> None:
    """tar and cp open the partial by name: a link planted before is refused, one swapped in during the run is caught."""
    scene = Scene(tmp_path)
    partial = package.partial_name(scene.output / f"{stem}.tgz")
    ctx = JobContext(paths=JobPaths(scene.root / "work", scene.output, scene.root / "log"), emit=lambda _: None, cancel=threading.Event())
    if not swap:
        scene.plant(partial, target)
        with pytest.raises(EmiError, match="something is there already"), package.written_by_command(ctx, partial):
            raise AssertionError("the command must not run")
    else:
        with pytest.raises(EmiError, match="was replaced"), package.written_by_command(ctx, partial):
            scene.plant(partial, target)  # another user, between our create and the command's open
    scene.assert_untouched()


@SECURITY
@given(name=stems, target=st.sampled_from(TARGETS))
def test_a_state_file_replaces_links_planted_at_its_names(tmp_path: Path, name: str, target: str) -> None:
    scene = Scene(tmp_path)
    path = scene.output / f"{name}.json"
    scene.plant(path, target)
    scene.plant(path.with_name(f".{path.name}.{os.getpid()}.tmp"), target)  # the temporary name before the fix

    write_json_atomic(path, {"pid": 1})

    scene.assert_untouched()
    assert not path.is_symlink() and path.read_text().startswith("{")


@SECURITY
@given(stem=stems, target=st.sampled_from(TARGETS))
def test_the_boot_tests_console_log_goes_to_the_log_folder_and_never_through_a_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stem: str, target: str) -> None:
    scene = Scene(tmp_path, monkeypatch)
    artifact = scene.output / f"{stem}.tgz"
    artifact.write_bytes(b"")
    beside = scene.output / f"{stem}.console.log"
    scene.plant(beside, target)  # where the console log used to go

    def boot_stops(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("stopped before QEMU")

    monkeypatch.setattr(boottest, "qemu_argv", lambda *_args: ["true"])
    monkeypatch.setattr(boottest, "start_process", boot_stops)
    test = boottest.BootTest(artifact, accel="tcg")
    with pytest.raises(RuntimeError, match="stopped before QEMU"):
        test._boot(SimpleNamespace(label="root"), Path("o"), Path("e"), Path("k"), 1, Path("s"))  # type: ignore[arg-type]

    scene.assert_untouched()
    assert test.console_log.parent == scene.root / "state" / "logs" and test.console_log.is_file() and not test.console_log.is_symlink()
    assert (test.console_log.parent.stat().st_mode & 0o077) == 0

    planted = scene.output / f"{stem}.explicit.log"
    scene.plant(planted, target)  # a caller's own name is created new too
    explicit = boottest.BootTest(artifact, accel="tcg", console_log=planted)
    with pytest.raises(EmiError, match="something is there already"):
        explicit._boot(SimpleNamespace(label="root"), Path("o"), Path("e"), Path("k"), 1, Path("s"))  # type: ignore[arg-type]
    scene.assert_untouched()
