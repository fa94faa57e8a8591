"""Class 1 (local user to root): the folders emi-tui keeps its own things in are private, or it refuses.

Another local user (uid 65534 here, made with chown) pre-creates or plants
what root would use: the work root's parent, a folder above the cache or the
state folder, a symlink in place of one. emi-tui must refuse with a message
naming the folder, its owner and mode, and write nothing there or wherever
the symlink points.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emi_tui.engine.build.cache import BaseCache
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.context import JobContext
from emi_tui.engine.run.events import JobKind
from emi_tui.engine.run.job import Job, Step, run_job
from emi_tui.engine.run.lock import OutputLock
from emi_tui.engine.safefs import private_folder
from tests.security.hostile import SECURITY

NOBODY = 65534
#: How another user can hold a folder root would use.
PLANTS = ["owned by nobody", "mode 0777", "mode 0770", "symlink by nobody to a folder", "symlink by nobody to a victim", "a file"]

folder_names = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")) | st.sampled_from("-_. "), min_size=1, max_size=12).filter(
    lambda name: name not in (".", ".."))


def listing(folder: Path) -> list[tuple[str, int, int]]:
    """Everything under `folder` with its mode and owner: what an attack would change."""
    return sorted((str(p.relative_to(folder)), p.lstat().st_mode, p.lstat().st_uid) for p in folder.rglob("*"))


def plant(at: Path, how: str, victim: Path) -> None:
    """Make `at` the way another user would (`how` is one of PLANTS)."""
    if how.startswith("symlink"):
        target = victim if how.endswith("victim") else at.parent / f"{at.name}.theirs"
        target.mkdir(exist_ok=True)
        if not how.endswith("victim"):
            os.chown(target, NOBODY, NOBODY)
        at.symlink_to(target)
        os.lchown(at, NOBODY, NOBODY)
    elif how == "a file":
        at.write_text("theirs\n")
        os.chown(at, NOBODY, NOBODY)
    else:
        at.mkdir()
        mode = {"mode 0777": 0o777, "mode 0770": 0o770}.get(how, 0o700)
        os.chmod(at, mode)
        if how == "owned by nobody":
            os.chown(at, NOBODY, NOBODY)


def fresh(tmp_path: Path, name: str) -> Path:
    """A new private scratch folder per hypothesis example."""
    folder = tmp_path / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    return folder


@SECURITY
@given(how=st.sampled_from(PLANTS), depth=st.integers(0, 3), names=st.lists(folder_names, min_size=4, max_size=4, unique=True))
def test_a_folder_another_user_holds_anywhere_on_the_way_is_refused_and_nothing_is_made_under_it(tmp_path: Path, how: str, depth: int, names: list[str]) -> None:
    base = fresh(tmp_path, "case")
    victim = fresh(tmp_path, "victim")
    (victim / "secret").write_text("root's\n")
    planted = base.joinpath(*names[: depth + 1])
    planted.parent.mkdir(parents=True, exist_ok=True)
    plant(planted, how, victim)
    wanted = planted.joinpath(*names[depth + 1:])
    before, victim_before = listing(base), listing(victim)

    with pytest.raises(EmiError) as refused:
        private_folder(wanted)

    assert "refusing to use" in refused.value.message and str(planted) in refused.value.message, refused.value.message
    assert "owner" in refused.value.message and "mode" in refused.value.message
    assert "rm -rf --" in refused.value.hint
    assert listing(base) == before and listing(victim) == victim_before


@SECURITY
@given(names=st.lists(folder_names, min_size=1, max_size=4, unique=True))
def test_a_missing_private_folder_is_made_0700_under_a_sticky_world_writable_one(tmp_path: Path, names: list[str]) -> None:
    sticky = fresh(tmp_path, "sticky")
    os.chmod(sticky, 0o1777)  # as /dev/shm and /tmp: others may create beside us, never rename or remove what is ours
    made = private_folder(sticky.joinpath(*names))
    for depth in range(1, len(names) + 1):
        st_ = sticky.joinpath(*names[:depth]).lstat()
        assert stat.S_ISDIR(st_.st_mode) and stat.S_IMODE(st_.st_mode) == 0o700 and st_.st_uid == os.geteuid()
    assert made == sticky.joinpath(*names)
    with pytest.raises(EmiError, match="other users can write to it"):
        private_folder(sticky)  # the sticky folder itself is shared: never a private one


def fake_job(tmp_path: Path, work_root: Path, ran: list[str]) -> Job[JobContext]:
    output = tmp_path / "out"
    return Job(
        kind=JobKind.MODIFY, name="fake", steps=[Step("first", "must not run", lambda ctx: ran.append("ran"))],
        context=lambda start: JobContext(paths=start.paths, emit=start.emit, cancel=start.cancel), work_root=work_root, output=output,
        lock=lambda ctx: OutputLock(output / "fake.tgz", "writing fake.tgz"),
    )


@SECURITY
@given(how=st.sampled_from(PLANTS[:-1]))
def test_a_job_refuses_a_work_root_another_user_made_first_and_works_nowhere_near_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The /dev/shm/emi-tui of the issue: the parent of root's work folders, made first by someone else."""
    case = fresh(tmp_path, "case")
    monkeypatch.setenv("EMI_TUI_STATE_DIR", str(case / "state"))
    shared = case / "shm"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    victim = case / "victim"
    victim.mkdir()
    (victim / "bin").mkdir()
    work_root = shared / "emi-tui"
    plant(work_root, how, victim)
    before, victim_before = listing(shared), listing(victim)
    ran: list[str] = []

    result = run_job(fake_job(case, work_root, ran), lambda _: None, threading.Event())

    assert not result.ok and not ran
    assert result.failure is not None and "refusing to use" in result.failure.message and str(work_root) in result.failure.message, result.failure
    assert listing(shared) == before and listing(victim) == victim_before


@SECURITY
@given(how=st.sampled_from(PLANTS[:-1]), which=st.sampled_from(["state", "state/logs", "state/builds"]))
def test_a_state_or_log_folder_another_user_holds_is_refused_before_anything_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, which: str) -> None:
    case = fresh(tmp_path, "case")
    victim = case / "victim"
    victim.mkdir()
    planted = case / which
    planted.parent.mkdir(parents=True, exist_ok=True)
    plant(planted, how, victim)
    monkeypatch.setenv("EMI_TUI_STATE_DIR", str(case / "state"))
    theirs = [folder for folder in (victim, planted, case / f"{which}.theirs") if folder.is_dir()]
    before = [listing(folder) for folder in theirs]
    ran: list[str] = []

    try:
        result = run_job(fake_job(case, case / "work", ran), lambda _: None, threading.Event())
        refused = result.failure.message if result.failure else ""
    except EmiError as exc:  # the log folder is checked before the job has a log to fail into
        refused = exc.message

    assert "refusing to use" in refused and not ran, refused
    assert [listing(folder) for folder in theirs] == before


@SECURITY
@given(how=st.sampled_from(PLANTS[:-1]), depth=st.integers(0, 1))
def test_cached_bases_in_a_folder_another_user_can_write_are_never_used(tmp_path: Path, how: str, depth: int) -> None:
    """A cached base is unpacked into every image as root: one another user could swap is refused, not read."""
    case = fresh(tmp_path, "case")
    victim = case / "victim"
    victim.mkdir()
    planted = case / "cache" if depth == 0 else case / "cache" / "bases"
    planted.parent.mkdir(parents=True, exist_ok=True)
    plant(planted, how, victim)
    bases = case / "cache" / "bases"
    bases.mkdir(exist_ok=True)
    (bases / "k.tar.zst").write_bytes(b"their base")
    (bases / "k.json").write_text('{"inputs": {"recipe": "debian-based"}, "created": 1}')

    with pytest.raises(EmiError, match="refusing to use"):
        BaseCache(bases).lookup("k")
    with pytest.raises(EmiError, match="refusing to use"):
        BaseCache(bases).entries()
