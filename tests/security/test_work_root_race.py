"""Class 1, for real: an unprivileged user races a root `emi-tui modify` for the parent of its work folder.

Each case runs tests/security/work_root_race.py as root in a private mount
namespace (`unshare -m`, its own tmpfs on /dev/shm): the attacker (uid 65534,
through `setpriv`) holds /dev/shm/emi-tui first (a folder open to all, one of
its own, or a symlink to root's victim folder) or races root for it, then
keeps swapping whatever root makes there for a symlink to the victim folder.
Root's job must refuse with a message naming the folder and its owner, or
work in a parent of its own (root's, 0700); either way the attacker swaps
nothing and the victim folder stays as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_modify_plan import STEM, make_image, make_tarball

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="races a real root job"),
    pytest.mark.skipif(not all(shutil.which(tool) for tool in ("unshare", "setpriv", "mke2fs")), reason="needs unshare, setpriv, e2fsprogs"),
]

PLANTS = ["dir 0777", "dir 0700", "symlink to victim", "race"]
REPO = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.lstat().st_mode) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("race-artifact")
    image = make_image(folder / "src")
    return make_tarball(folder, {f"{STEM}/{STEM}.img": image})


@pytest.mark.parametrize("plant", PLANTS)
def test_an_unprivileged_user_never_gets_root_to_work_in_a_folder_they_control(tmp_path: Path, artifact: Path, plant: str) -> None:
    case = tmp_path / plant.replace(" ", "-")
    shutil.rmtree(case, ignore_errors=True)
    victim, output, state = case / "victim", case / "out", case / "state"
    victim.mkdir(parents=True)
    (victim / "keep").write_text("root's own\n")
    before = snapshot(victim)
    argv = ["unshare", "-m", "--propagation", "private", "--", sys.executable, "-m", "tests.security.work_root_race",
            plant, str(artifact), str(output), str(victim), str(state)]

    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL)

    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    printed = " ".join(seen["printed"].split())  # rich may fold a long message
    assert not [line for line in seen["attacker"] if line.startswith("swapped")], seen
    assert snapshot(victim) == before, seen
    if seen["parent_uid"] != 0:  # the attacker holds the parent: root must have refused it, by name
        assert seen["code"] != 0 and "refusing to use /dev/shm/emi-tui" in printed and "nobody" in printed, seen
        assert "Traceback" not in printed
    else:  # root made the parent first: it is root's alone
        assert stat.S_IMODE(seen["parent_mode"]) == 0o700 and stat.S_ISDIR(seen["parent_mode"]), seen
