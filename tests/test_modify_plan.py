"""`emi-tui modify` without root: dry-run plans, argument checks, refused shrinks and bad artifacts.

The artifacts are tiny ext3 images made with `mke2fs -d` (no root, no mount),
alone or in a starter-layout tarball, carrying an /etc/image-id, stored
answers and an os-release as emi-tui's images do.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from emi_tui.cli import main
from emi_tui.engine.image import layout
from emi_tui.engine.image.imageid import ImageId, utc_today
from emi_tui.engine.modify.job import ModifyRequest, plan_lines, run_modify
from emi_tui.engine.modify.naming import next_file, next_version
from emi_tui.engine.modify.steps import modify_steps
from emi_tui.engine.review.review import review_bytes
from emi_tui.engine.review.stampcheck import parse_date
from emi_tui.engine.run.events import JobStarted, StepStarted
from emi_tui.engine.run.logtext import TerminalLines

pytestmark = pytest.mark.skipif(not (shutil.which("mke2fs") and shutil.which("debugfs")), reason="needs e2fsprogs")

STEM = "euca-debian-2026.01.01-x86_64"
IMAGE_ID = ImageId.stamped(name="euca-debian-emi", version="2026.01.01", arch="x86_64", file=f"{STEM}.img",
                           recipe="debian-based", epoch_seconds=1767225600).render()
STORED = "version: 1\nrecipe: debian-based\nrelease: bookworm\nmirror: http://127.0.0.1:9/debian\nimage: {version: '2026.01.01'}\n"


def utc_version_today() -> str:
    """Today's UTC day as an image_version: the modify's default version."""
    return utc_today().strftime("%Y.%m.%d")


@pytest.fixture(autouse=True)
def _private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("EMI_TUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def make_image(folder: Path, name: str = f"{STEM}.img", files: dict[str, str] | None = None, size: str = "16M") -> Path:
    root = folder / f"root-{name}"
    defaults = {layout.IMAGE_ID: IMAGE_ID, layout.ANSWERS: STORED, "usr/lib/os-release": "ID=debian\nVERSION_CODENAME=bookworm\n"}
    for inner, text in (defaults if files is None else files).items():
        (root / inner).parent.mkdir(parents=True, exist_ok=True)
        (root / inner).write_text(text)
    root.mkdir(parents=True, exist_ok=True)
    image = folder / name
    image.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", "-L", layout.ROOT_LABEL, "-d", str(root), str(image), size], check=True)
    return image


def make_tarball(folder: Path, members: dict[str, Path | str], name: str = f"{STEM}.tgz") -> Path:
    staging = folder / "staging"
    for inner, content in members.items():
        (staging / inner).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, staging / inner)
        else:
            (staging / inner).write_text(content)
    tops = sorted({inner.split("/")[0] for inner in members})
    subprocess.run(["tar", "--sparse", "-czf", str(folder / name), "-C", str(staging), *tops], check=True)
    shutil.rmtree(staging)
    return folder / name


@pytest.fixture
def tarball(tmp_path) -> Path:
    image = make_image(tmp_path / "src")
    return make_tarball(tmp_path, {f"{STEM}/{STEM}.img": image, f"{STEM}/kvm-kernel/vmlinuz-6.1.0-9-amd64": "k", f"{STEM}/kvm-kernel/initrd.img-6.1.0-9-amd64": "r"})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def modify(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["modify", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- dry-run plans


def test_dry_run_of_a_tarball_prints_every_step_and_command_and_writes_nothing(tarball, tmp_path, capsys):
    before = digest(tarball)
    out_dir = tmp_path / "out"
    first_day = utc_version_today()  # with the day after the call: the run may cross midnight
    code, out, err = modify(capsys, tarball, "--add", "htop", "--remove", "nano", "--upgrade", "--dry-run", "--output", out_dir)
    days = {first_day, utc_version_today()}
    assert code == 0, err
    for step in modify_steps():
        assert f". {step.name}" in out
    assert "mount -o loop" in out and "mount --bind" not in out  # the host's /proc, /sys and /dev are never bound in
    assert "own mount and PID namespaces" in out and "fresh /proc, a minimal /dev, no /sys" in out
    assert "full-upgrade -y" in out and "--no-install-recommends htop" in out
    assert "e2fsck -fn" in out and "zerofree -v" in out and "--sparse" in out
    assert "image-id: euca-debian-emi 2026.01.01" in out
    assert any(f"euca-debian-{d}-x86_64.img" in out and str(out_dir / f"euca-debian-{d}-x86_64.tgz") in out for d in days)
    assert "plan complete" in out
    assert digest(tarball) == before and not out_dir.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["src", "state", tarball.name])


def test_dry_run_of_a_bare_image_keeps_it_bare(tmp_path, capsys):
    image = make_image(tmp_path)
    days = {utc_version_today()}
    code, out, err = modify(capsys, image, "--run", __file__, "--shell", "--dry-run")
    days.add(utc_version_today())
    assert code == 0, err
    assert "cp --sparse=always" in out and any(f"euca-debian-{d}-x86_64.img.sha256" in out for d in days)
    assert "/tmp/emi-tui-run" in out and "(interactive, contained; what is typed and shown goes only to" in out


def test_the_default_version_is_the_utc_day_of_the_stamp(tarball, monkeypatch):
    """Not the host's local day: 00:30 UTC on a day far from today must give that day's version."""
    instant = int(datetime(2030, 6, 15, 0, 30, tzinfo=UTC).timestamp())
    monkeypatch.setattr("emi_tui.engine.modify.job.now_epoch", lambda: instant)
    result = run_modify(ModifyRequest(tarball, add=["htop"], dry_run=True), lambda _event: None, threading.Event())
    assert result.ok, result.message
    assert 'image_version="2030.06.15"' in result.new_image_id and 'image_date="20300615003000"' in result.new_image_id


def test_the_core_api_gives_the_plan_and_both_image_ids(tarball):
    events = []
    result = run_modify(ModifyRequest(tarball, add=["htop"], dry_run=True), events.append, threading.Event())
    assert result.ok and result.artifacts == []
    assert 'image_version="2026.01.01"' in result.old_image_id
    # The default version is the UTC day of the instant the stamp and image_date come from.
    (new,) = review_bytes("new image-id", result.new_image_id.encode())
    stamped_day = parse_date(new.fields["image_date"]).strftime("%Y.%m.%d")
    assert new.fields["image_version"] == stamped_day
    assert isinstance(events[0], JobStarted) and [e.step for e in events if isinstance(e, StepStarted)] == [s.name for s in modify_steps()]
    lines = plan_lines(ModifyRequest(tarball, add=["htop"]))
    assert lines[0].startswith("1. preflight") and any("install -y --no-install-recommends htop" in line for line in lines)


def test_an_image_with_no_stored_answers_is_named_from_its_image_id_and_os_release(tmp_path, capsys):
    image = make_image(tmp_path, files={"usr/lib/os-release": 'ID="debian"\nVERSION_CODENAME=bullseye\n'})
    code, out, err = modify(capsys, image, "--dry-run", "--version", "2026.05.05")
    assert code == 0, err
    assert "no stored answers" in out and "image-id: none" in out
    assert "euca-debian-2026.05.05-x86_64.img" in out  # no image-id: the file's name, with the new version in it


def test_a_dry_run_needs_no_root(tarball, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert run_modify(ModifyRequest(tarball, dry_run=True), lambda _: None).ok


def test_without_root_a_real_modify_stops_in_preflight_and_leaves_nothing(tarball, tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    work, out_dir = tmp_path / "work", tmp_path / "out"
    result = run_modify(ModifyRequest(tarball, work_root=work, output=out_dir), lambda _: None)
    assert not result.ok and result.failed_step == "preflight" and "must run as root" in result.message
    assert list(work.iterdir()) == [] and not out_dir.exists()
    assert not list((tmp_path / "state" / "builds").glob("*.json"))


# --- argument checks: one clear message, exit code 2


@pytest.mark.parametrize("args, message", [
    (["--add", "curl;rm"], "is not a valid"),
    (["--remove=-rf"], "is not a valid"),
    (["--add", "htop\n"], "is not a valid Debian package name"),
    (["--add", "htop", "--remove", "htop"], "htop is both added and removed"),
    (["--run", "/nonexistent/fix.sh"], "no such script"),
    (["--version", "two words"], "is not a valid image version"),
    (["--grow", "lots"], "--grow lots"),
    (["--grow=-2G"], "negative"),
])
def test_bad_arguments_give_one_message_and_exit_2(tarball, capsys, args, message):
    code, out, err = modify(capsys, tarball, *args, "--dry-run")
    assert code == 2 and message in err and "Traceback" not in err + out


def test_output_must_be_a_folder(tarball, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, _, err = modify(capsys, tarball, "--dry-run", "--output", tmp_path / "file")
    assert code == 2 and "is not a folder" in err


def test_the_same_version_again_is_refused(tarball, capsys):
    code, _, err = modify(capsys, tarball, "--dry-run", "--version", "2026.01.01")
    assert code == 2 and "is the image's version already" in err


def test_a_shell_needs_a_terminal(tarball, tmp_path):
    done = subprocess.run([sys.executable, "-m", "emi_tui", "modify", str(tarball), "--shell"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env={**os.environ, "EMI_TUI_STATE_DIR": str(tmp_path / "state")})
    assert done.returncode == 2 and "--shell needs a terminal" in done.stderr


@pytest.mark.parametrize("grow", ["8M", "15M"])
def test_shrinking_is_refused(tmp_path, capsys, grow):
    image = make_image(tmp_path)
    code, _, err = modify(capsys, image, "--grow", grow, "--dry-run")
    assert code == 2 and f"--grow {grow} would shrink the image: it is 16.0 MB" in err and "only grows" in err


def test_shrinking_a_tarball_is_refused(tarball, capsys):
    code, _, err = modify(capsys, tarball, "--grow", "1M", "--dry-run")
    assert code == 2 and "would shrink" in err


def test_growing_is_planned_with_resize2fs(tmp_path, capsys):
    code, out, _ = modify(capsys, make_image(tmp_path), "--grow", "32M", "--dry-run")
    assert code == 0 and "truncate -s 32768K" in out and "resize2fs" in out and "2G" not in out


# --- bad artifacts


def test_bad_artifacts_are_named_with_what_is_wrong(tmp_path, capsys):
    (tmp_path / "notes.img").write_text("not a filesystem")
    (tmp_path / "image.zip").write_bytes(b"PK\x03\x04")
    (tmp_path / "broken.tgz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (tmp_path / "folder.img").mkdir()
    cases = {
        tmp_path / "missing.tgz": "no such artifact",
        tmp_path / "folder.img": "is not a regular file",
        tmp_path / "notes.img": "notes.img is not an ext2/3/4 filesystem image",
        tmp_path / "image.zip": "neither an image (.img) nor an artifact tarball",
        tmp_path / "broken.tgz": "broken.tgz could not be read",
        make_tarball(tmp_path, {"x/readme.txt": "hello"}, "empty.tgz"): "holds no image (*.img)",
        make_tarball(tmp_path, {"a/a.img": make_image(tmp_path / "a"), "b/b.img": make_image(tmp_path / "b")}, "two.tgz"): "holds 2 images",
    }
    for artifact, message in cases.items():
        code, out, err = modify(capsys, artifact, "--dry-run")
        assert code == 2 and message in err, (artifact, err)
        assert "Traceback" not in out + err


def test_a_tarball_image_that_is_no_filesystem_is_refused_once_opened(tmp_path, capsys):
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"\0" * 65536)
    code, _, err = modify(capsys, make_tarball(tmp_path, {"junk/junk.img": junk}, "junk.tgz"), "--dry-run")
    assert code == 2 and "junk.img is not an ext2/3/4 filesystem image" in err


def test_a_member_outside_the_folder_is_refused(tmp_path, capsys):
    evil = tmp_path / "evil.tar"
    image = make_image(tmp_path)
    subprocess.run(["tar", "-cf", str(evil), "-P", "--transform", "s|.*|../escape.img|", str(image)], check=True)
    code, _, err = modify(capsys, evil, "--dry-run")
    assert code == 2 and "outside its folder" in err


# --- names and the shell's log


def test_versions_and_file_names_follow_the_old_ones():
    today = date(2026, 3, 5)
    assert next_version("2026.01.01", today, None) == "2026.03.05"
    assert next_version("2026.03.05", today, None) == "2026.03.05.1"
    assert next_version("2026.03.05.1", today, None) == "2026.03.05.2"
    assert next_version(None, today, "7") == "7"
    assert next_file("euca-debian-2026.01.01-x86_64.img", "2026.01.01", "2026.03.05") == "euca-debian-2026.03.05-x86_64.img"
    assert next_file("euca-centos-5.3-x86_64.img", None, "2026.03.05") == "euca-centos-2026.03.05-x86_64.img"
    assert next_file("root.img", None, "2026.03.05") == "root-2026.03.05.img"


def test_the_shell_log_shows_each_typed_line_as_sent():
    lines: list[str] = []
    typed = TerminalLines(lambda line: lines.append(f"typed: {line}"), keys=True)
    assert typed(b"apt-get instal\x7fll htop\r") == b"apt-get instal\x7fll htop\r"
    typed(b"vi /etc/motd\x1b[A\r\x03")
    assert lines == ["typed: apt-get install htop", "typed: vi /etc/motd", "typed: ^C"]
