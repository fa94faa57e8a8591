"""Foreign arches: what readiness and preflight say about qemu-user emulation, and what --setup-emulation changes.

binfmt_misc is faked by a folder laid out as /proc/sys/fs/binfmt_misc is
(status, register, one file per entry), so the real host is never changed.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import pytest

from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build import emulation, preflight
from emi_tui.engine.build.emulation import emulation_problem, is_foreign, setup_emulation
from emi_tui.engine.build.job import BuildOptions, run_build
from emi_tui.engine.build.readiness import CheckStatus, check_readiness
from emi_tui.engine.errors import EmiError
from emi_tui.engine.paths import shipped_dir
from tests.test_cli_dryrun_checks import emi

BOOK = RecipeBook([shipped_dir("recipes")])
MAGIC = r"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"
MASK = r"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"
INSTALL_AND_REGISTER = "apt-get install qemu-user-static, then register it: emi-tui build --setup-emulation ANSWERS"


def binfmt(tmp_path: Path, entry: str | None = None) -> Path:
    """A mounted binfmt_misc, with a qemu-aarch64 entry whose first line is `entry` ("enabled"/"disabled") if given."""
    folder = tmp_path / "binfmt_misc"
    folder.mkdir()
    (folder / "status").write_text("enabled\n")
    (folder / "register").write_text("")
    if entry:
        (folder / "qemu-aarch64").write_text(f"{entry}\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\noffset 0\n")
    return folder


def test_arches_the_workstation_runs_natively_need_no_emulation():
    assert not is_foreign("x86_64", "x86_64") and not is_foreign("i386", "x86_64") and not is_foreign("aarch64", "aarch64")
    assert is_foreign("aarch64", "x86_64") and is_foreign("x86_64", "aarch64")
    assert emulation_problem("i386", Path("/nonexistent"), "x86_64") is None


@pytest.mark.parametrize(("entry", "mounted", "said", "hint"), [
    (None, False, "binfmt_misc is not mounted at", INSTALL_AND_REGISTER),
    (None, True, "needs qemu-user emulation: no qemu-aarch64 is registered in", INSTALL_AND_REGISTER),
    ("disabled", True, "the qemu-aarch64 emulation is registered but disabled", "echo 1 > "),
])
def test_missing_emulation_is_said_with_what_to_install_and_enable(tmp_path, entry, mounted, said, hint):
    folder = binfmt(tmp_path, entry) if mounted else tmp_path / "absent"
    problem = emulation_problem("aarch64", folder, "x86_64")
    assert problem is not None
    assert said in problem[0] and str(folder) in problem[0]
    assert hint in problem[1]


def test_an_enabled_registration_is_enough(tmp_path):
    assert emulation_problem("aarch64", binfmt(tmp_path, "enabled"), "x86_64") is None


def _answers(tmp_path: Path, arch: str):
    checked = validate_bytes(f"version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\narch: {arch}\n"
                             f"output: {{dir: {tmp_path / 'out'}}}\n", "a.yaml", BOOK)
    assert checked.ok, checked.problems
    return checked.answers, checked.recipe


def test_readiness_refuses_a_foreign_arch_without_emulation_and_points_at_the_arch(tmp_path):
    answers, recipe = _answers(tmp_path, "aarch64")
    readiness = check_readiness(answers, recipe, offline=True, work_parent=tmp_path, binfmt_dir=binfmt(tmp_path))
    check = next(c for c in readiness.checks if c.name == "emulation")
    assert check.status is CheckStatus.ERROR and check.key == "arch" and not readiness.can_build
    assert "no qemu-aarch64 is registered" in check.message and INSTALL_AND_REGISTER in check.hint


def test_readiness_says_how_a_registered_foreign_arch_runs_and_nothing_for_a_native_one(tmp_path):
    answers, recipe = _answers(tmp_path, "aarch64")
    folder = binfmt(tmp_path, "enabled")
    check = next(c for c in check_readiness(answers, recipe, offline=True, work_parent=tmp_path, binfmt_dir=folder).checks if c.name == "emulation")
    assert check.status is CheckStatus.OK and "qemu-user emulation (/usr/libexec/qemu-binfmt/aarch64-binfmt-P, flags POF)" in check.message
    native, recipe = _answers(tmp_path, "i386")
    assert not [c for c in check_readiness(native, recipe, offline=True, work_parent=tmp_path, binfmt_dir=folder).checks if c.name == "emulation"]


def test_preflight_refuses_a_foreign_arch_without_emulation_before_anything_is_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr(preflight, "emulation_problem", functools.partial(emulation_problem, binfmt_dir=binfmt(tmp_path), machine="x86_64"))
    answers, recipe = _answers(tmp_path, "aarch64")
    result = run_build(answers, recipe, lambda _: None, threading.Event(), BuildOptions(dry_run=True, work_root=tmp_path / "work"))
    assert not result.ok and result.failed_step == "preflight"
    assert "no qemu-aarch64 is registered" in result.message and "apt-get install qemu-user-static" in result.hint


# --- --setup-emulation


def conf_dir(tmp_path: Path, interpreter: Path | None = None) -> tuple[Path, str]:
    """A binfmt.d folder with qemu-aarch64.conf as qemu-user-static ships it, naming `interpreter` (made if None)."""
    interpreter = interpreter or tmp_path / "aarch64-binfmt-P"
    interpreter.write_bytes(b"\x7fELF")
    folder = tmp_path / "binfmt.d"
    folder.mkdir()
    line = f":qemu-aarch64:M::{MAGIC}:{MASK}:{interpreter}:OPF"
    (folder / "qemu-aarch64.conf").write_text(line + "\n")
    return folder, line


def test_setup_registers_the_shipped_line_and_says_what_changed(tmp_path):
    folder = binfmt(tmp_path)
    confs, line = conf_dir(tmp_path)
    said = setup_emulation("aarch64", folder, confs, machine="x86_64")
    assert (folder / "register").read_text() == line + "\n"
    assert said == [f"registered qemu-aarch64 in {folder} from {confs / 'qemu-aarch64.conf'} (interpreter {tmp_path / 'aarch64-binfmt-P'}, flags OPF)"]


def test_setup_changes_nothing_when_registered_or_native_and_enables_a_disabled_entry(tmp_path):
    folder = binfmt(tmp_path, "enabled")
    confs, _ = conf_dir(tmp_path)
    assert "nothing changed: qemu-aarch64 is registered and enabled" in setup_emulation("aarch64", folder, confs, machine="x86_64")[0]
    assert (folder / "register").read_text() == ""
    assert setup_emulation("i386", folder, confs, machine="x86_64") == ["nothing changed: i386 runs natively here"]
    (folder / "qemu-aarch64").write_text("disabled\ninterpreter /x\nflags: OPF\n")
    assert setup_emulation("aarch64", folder, confs, machine="x86_64") == [f"enabled the registered qemu-aarch64 ({folder / 'qemu-aarch64'})"]
    assert (folder / "qemu-aarch64").read_text() == "1"


def test_setup_without_qemu_user_static_or_a_mounted_binfmt_misc_is_refused_with_the_fix(tmp_path):
    with pytest.raises(EmiError) as raised:
        setup_emulation("aarch64", binfmt(tmp_path), tmp_path / "no-binfmt.d", machine="x86_64")
    assert "no qemu-aarch64 emulation to register" in raised.value.message and raised.value.hint == emulation.INSTALL
    with pytest.raises(EmiError, match="binfmt_misc is not mounted"):
        setup_emulation("aarch64", tmp_path / "absent", tmp_path / "no-binfmt.d", machine="x86_64", mount=False)


def test_a_dry_run_with_setup_emulation_registers_nothing_and_says_so(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(f"version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\narch: i386\noutput: {{dir: {tmp_path / 'out'}}}\n")
    done = emi(tmp_path, "build", "--dry-run", "--offline", "--setup-emulation", str(path))
    assert "--setup-emulation: nothing registered in a dry run" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0 and "plan complete" in done.stdout
