"""`emi-tui modify` for real, as root, on the image the build test produced.

One modify adds a package and runs a script; the new artifact gets the build
test's checks, the boot test, and a check that the original is byte-identical.
Then: a script that fails half-way must leave no mount, no loop device and no
partial artifact; `--shell` is driven with pexpect (on the bare .img, grown
with --grow); and 200 MB written and deleted inside the image show what
zerofree saves (printed, and measured in benchmarks/modify_bench.py too).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pexpect
import pytest

from emi_tui.engine.artifact.read import hygiene_checks, read_from_image
from emi_tui.engine.boot.boottest import BootTest
from emi_tui.engine.image import layout
from emi_tui.engine.review.review import check_stamp, review_bytes
from emi_tui.engine.sizes import parse_size

from .checks import assert_nothing_left, fields_of, sha256, text_in
from .conftest import run_cli

pytestmark = [pytest.mark.root, pytest.mark.e2e]

TODAY = date.today().strftime("%Y.%m.%d")
SCRIPT = "#!/bin/sh\nset -e\nhtop --version\necho modify-script-ran >/etc/emi-modify-marker\n"
FAILING = "#!/bin/sh\necho half-way; sleep 300 &\nexit 1\n"
HANGING = "#!/bin/sh\necho half-way\nsleep 300\n"
BALLAST = "#!/bin/sh\nset -e\ndd if=/dev/urandom of=/root/ballast bs=1M count=200 status=none\nsync\nrm /root/ballast\n"










@dataclass
class Modified:
    output: Path
    work: Path
    stdout: str
    stem: str
    before: str  # the original's sha256 before the modify
    after: str

    @property
    def tarball(self) -> Path:
        return self.output / f"{self.stem}.tgz"


def env_with_work(build_env: dict, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    return dict(build_env, EMI_TUI_WORK_DIR=str(work))


@pytest.fixture(scope="module")
def modified(cold_build, build_env, tmp_path_factory) -> Modified:
    tmp = tmp_path_factory.mktemp("modify")
    script = tmp / "fix.sh"
    script.write_text(SCRIPT)
    before = sha256(cold_build.tarball)
    work, output = tmp / "work", tmp / "out"
    done = run_cli("modify", "-v", str(cold_build.tarball), "--upgrade", "--add", "htop", "--remove", "rsync", "--run", str(script),
                   "--output", str(output), env=env_with_work(build_env, work))
    assert done.returncode == 0, f"modify failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return Modified(output, work, done.stdout, f"euca-debian-{TODAY}-x86_64", before, sha256(cold_build.tarball))


@pytest.fixture(scope="module")
def new_image(modified, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("modified-unpacked")
    subprocess.run(["tar", "-xf", str(modified.tarball), "-C", str(folder)], check=True)
    return folder / modified.stem / f"{modified.stem}.img"


def test_the_original_is_byte_identical_and_alone(modified, cold_build):
    assert modified.after == modified.before
    stem = cold_build.stem
    assert sorted(p.name for p in cold_build.output.iterdir()) == sorted(
        [f"{stem}.tgz", f"{stem}.tgz.sha256", f"{stem}.manifest", f"{stem}.answers.yaml", f"{stem}.build.log"])


def test_artifacts_are_complete_and_nothing_is_left_behind(modified):
    stem = modified.stem
    assert sorted(p.name for p in modified.output.iterdir()) == sorted(
        [f"{stem}.tgz", f"{stem}.tgz.sha256", f"{stem}.manifest", f"{stem}.answers.yaml", f"{stem}.build.log"])
    assert (modified.output / f"{stem}.tgz.sha256").read_text() == f"{sha256(modified.tarball)}  {stem}.tgz\n"
    manifest = dict(line.split("\t") for line in (modified.output / f"{stem}.manifest").read_text().splitlines())
    assert "htop" in manifest and "openssh-server" in manifest and "rsync" not in manifest
    log = (modified.output / f"{stem}.build.log").read_text()
    assert "==> package" in log and "mounted -o loop" in log and "no loop device is backed by the copy" in log
    assert f"+ htop {manifest['htop']}" in modified.stdout and "- rsync " in modified.stdout
    assert "full-upgrade -y" in log
    assert_nothing_left(modified.work, modified.output)


def test_same_layout_as_the_original(modified, new_image, unpacked):
    assert new_image.is_file()
    kernels = sorted(p.name for p in (new_image.parent / "kvm-kernel").iterdir())
    assert kernels == sorted(p.name for p in (unpacked / "kvm-kernel").iterdir())


def test_image_is_a_clean_ext3_filesystem_of_the_same_size(new_image):
    assert new_image.stat().st_size == parse_size("1.3G") // 1024 * 1024
    check = subprocess.run(["e2fsck", "-fn", str(new_image)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    info = subprocess.run(["dumpe2fs", "-h", str(new_image)], capture_output=True, text=True).stdout
    assert "has_journal" in info and "extent" not in info
    assert f"Filesystem volume name:   {layout.ROOT_LABEL}" in info


def test_new_image_id_verifies_and_the_old_one_is_in_the_history(modified, new_image, unpacked, cold_build):
    old = fields_of(text_in(unpacked / f"{cold_build.stem}.img", layout.IMAGE_ID))
    new = fields_of(text_in(new_image, layout.IMAGE_ID))
    assert (new["image_name"], new["recipe_name"], new["image_arch"]) == (old["image_name"], old["recipe_name"], old["image_arch"])
    assert new["image_version"] == TODAY and new["image_file"] == f"{modified.stem}.img"
    stamp = check_stamp(new["image_stamp"], new["image_date"])
    assert stamp.verified and stamp.utc_offset == "+00:00" and stamp.skew_s == 0
    assert new["image_stamp"] != old["image_stamp"]
    history = review_bytes("history", text_in(new_image, layout.HISTORY_DIR).encode())
    assert [entry.entry for entry in history] == [old["image_file"]]
    assert history[0].fields == old and history[0].stamp_check.verified


def test_stored_answers_say_what_was_changed(modified, new_image):
    answers = text_in(new_image, layout.ANSWERS)
    assert answers == (modified.output / f"{modified.stem}.answers.yaml").read_text()
    assert "  add:  # installed on top of the recipe's default list\n    - htop\n" in answers
    assert "  remove:  # trimmed from it\n    - rsync\n" in answers
    assert f"version: {TODAY}" in answers and f"file: {modified.stem}.img" in answers
    lineage = [line for line in answers.splitlines() if line.startswith("# modify: ")]
    assert len(lineage) == 1 and "--upgrade; --add htop; --remove rsync; --run fix.sh" in lineage[0]


def test_the_script_ran_after_the_package_was_installed(new_image):
    assert text_in(new_image, "etc/emi-modify-marker") == "modify-script-ran\n"
    assert read_from_image(new_image, "tmp/emi-tui-run") is None
    assert text_in(new_image, "etc/resolv.conf") == "" and read_from_image(new_image, "usr/sbin/policy-rc.d") is None


def test_hygiene_checklist_passes(new_image):
    checks = hygiene_checks(new_image)
    assert checks and all(check.ok for check in checks), [(c.name, c.detail) for c in checks if not c.ok]


def test_the_boot_test_passes_on_the_modified_image(modified, tmp_path):
    if shutil.which("qemu-system-x86_64") is None or shutil.which("ssh") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the boot test, but QEMU or ssh is missing")
        pytest.skip("needs qemu-system-x86 and openssh-client")
    report = BootTest(modified.tarball, timeout=240, console_log=tmp_path / "console.log").run()
    assert report.ok, [(c.name, c.detail) for c in report.checks if not c.passed]


@pytest.mark.parametrize("kind", ["fails", "SIGINT", "SIGTERM"])
def test_a_script_that_fails_or_is_interrupted_half_way_leaves_nothing_behind(cold_build, build_env, tmp_path, kind):
    script, work, output = tmp_path / "fail.sh", tmp_path / "work", tmp_path / "out"
    script.write_text(FAILING if kind == "fails" else HANGING)
    before = sha256(cold_build.tarball)
    argv = [sys.executable, "-m", "emi_tui", "modify", "-v", str(cold_build.tarball), "--run", str(script), "--output", str(output)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with_work(build_env, work))
    seen = ""
    while "half-way" not in seen and process.poll() is None:
        seen += process.stdout.readline()
    if kind != "fails":
        process.send_signal(getattr(signal, kind))
    stdout, stderr = process.communicate(timeout=120)
    if kind == "fails":
        assert process.returncode == 1 and "modify failed in step script" in stderr, stderr
    else:
        assert process.returncode == 130 and "modify cancelled in step script" in stderr, stderr
    assert_nothing_left(work, output)
    assert not output.exists() or list(output.iterdir()) == [], "a partial artifact remains"
    assert not list((Path(build_env["EMI_TUI_STATE_DIR"]) / "builds").glob("*.json")), "a build record remains"
    assert sha256(cold_build.tarball) == before


def test_a_shell_driven_by_pexpect_fixes_the_image_by_hand(unpacked, cold_build, build_env, tmp_path):
    original = unpacked / f"{cold_build.stem}.img"
    before, work, output = sha256(original), tmp_path / "work", tmp_path / "out"
    child = pexpect.spawn(sys.executable, ["-m", "emi_tui", "modify", str(original), "--shell", "--grow", "2G", "--output", str(output)],
                          env=env_with_work(build_env, work), encoding="utf-8", timeout=300, dimensions=(40, 160))
    child.expect("goes to a root-only log")
    child.expect(r"\(emi-modify\)\S*[#$] ")
    child.sendline("touch /root/hand-fix && exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    stem = f"euca-debian-{TODAY}-x86_64"
    image = output / f"{stem}.img"
    assert read_from_image(image, "root/hand-fix") == b"" and read_from_image(image, "root/.bash_history") is None
    assert image.stat().st_size == parse_size("2G")
    assert subprocess.run(["e2fsck", "-fn", str(image)], capture_output=True).returncode == 0
    published = (output / f"{stem}.build.log").read_text()
    assert "hand-fix" not in published and "interactive shell: 1 line typed" in published  # only counted where it is published
    sessions = list((Path(build_env["EMI_TUI_STATE_DIR"]) / "logs").glob("*.shell.log"))
    assert len(sessions) == 1 and str(sessions[0]) in published, sessions
    assert "typed: touch /root/hand-fix && exit" in sessions[0].read_text() and sessions[0].stat().st_mode & 0o777 == 0o600
    assert fields_of(text_in(image, layout.IMAGE_ID))["image_file"] == f"{stem}.img"
    assert "size: 2G" in text_in(image, layout.ANSWERS)
    assert sha256(original) == before
    assert_nothing_left(work, output)


def test_zerofree_shrinks_the_artifact_after_200_mb_were_deleted(cold_build, unpacked, build_env, tmp_path, capsys):
    # A .tar.zst of the build keeps the two modifies fast; benchmarks/modify_bench.py measures .tgz.
    source = tmp_path / f"{cold_build.stem}.tar.zst"
    subprocess.run(["tar", "--sparse", "--use-compress-program=zstd -T0 -3", "-C", str(unpacked.parent), "-cf", str(source), cold_build.stem], check=True)
    script = tmp_path / "ballast.sh"
    script.write_text(BALLAST)
    sizes = {}
    for label, extra in (("with zerofree", []), ("without zerofree", ["--no-zerofree"])):
        output = tmp_path / label.replace(" ", "-")
        done = run_cli("modify", "-v", str(source), "--run", str(script), "--output", str(output), *extra, env=env_with_work(build_env, tmp_path / "work"))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        sizes[label] = (output / f"euca-debian-{TODAY}-x86_64.tar.zst").stat().st_size
    with capsys.disabled():
        print(f"\nzerofree after 200 MB deleted (zstd): {sizes['with zerofree'] / 1e6:.1f} MB with, {sizes['without zerofree'] / 1e6:.1f} MB without")
    assert sizes["without zerofree"] - sizes["with zerofree"] > 150e6
