"""The done screen: image-id, artifacts with real sha256s, and the registration commands."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fake_build import IMAGE_ID, FakeResult, ScreenApp, async_test, sample_answers, wait_for
from textual.widgets import Static, TextArea

from emi_tui.engine.artifact import checksum
from emi_tui.engine.artifact.checksum import read_sha256_file
from emi_tui.engine.artifact.register import register_commands
from emi_tui.tui.screens.job.done import DoneScreen

KERNELS = {"kernel_files": [Path("/w/kvm-kernel/vmlinuz-6.1.0-28-amd64"), Path("/w/kvm-kernel/initrd.img-6.1.0-28-amd64")]}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_artifacts(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    tarball = folder / "euca-debian-2026.11.28-x86_64.tgz"
    tarball.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    sidecar = folder / (tarball.name + ".sha256")
    sidecar.write_text(f"{sha256(tarball)}  {tarball.name}\n")
    manifest = folder / "euca-debian-2026.11.28-x86_64.manifest"
    manifest.write_text("openssh-server\t1:9.2p1-2+deb12u3\n")
    return {"tarball": tarball, "sha256": sidecar, "manifest": manifest}


def make_app(artifacts: list[Path], **kwargs) -> ScreenApp:
    answers, _ = sample_answers()
    result = FakeResult(True, artifacts, IMAGE_ID, seconds=754.0, facts=KERNELS)
    return ScreenApp(lambda: DoneScreen(result, answers, **kwargs))


@async_test
async def test_every_artifact_gets_its_real_size_and_sha256(tmp_path):
    files = write_artifacts(tmp_path / "images")
    missing = tmp_path / "images" / "gone.log"
    artifacts = [files["tarball"], files["sha256"], files["manifest"], missing]
    app = make_app(artifacts)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = app.screen_under_test
        await wait_for(pilot, lambda: len(screen.checksums) == 4)
        for name in ("tarball", "sha256", "manifest"):
            assert screen.checksums[files[name]] == sha256(files[name])
        assert screen.checksums[missing] is None
        shown = str(screen.query_one("#artifacts", Static).render())
        assert sha256(files["tarball"]) + "  from .sha256" in shown
        assert sha256(files["manifest"]) + "  computed" in shown
        assert "3.0 MB" in shown and "sha256 not available: missing" in shown
        assert 'image_stamp="499c-e378"' in str(screen.query_one("#image-id", Static).render())
        assert "Image built in 12:34" in str(screen.query_one("#headline", Static).render())


@async_test
async def test_big_files_show_progress_while_hashing(tmp_path, monkeypatch):
    monkeypatch.setattr(checksum, "BLOCK", 64 * 1024)
    monkeypatch.setattr(checksum, "PROGRESS_EVERY_S", 0.0)
    big = tmp_path / "euca-debian-2026.11.28-x86_64.tar.zst"
    big.write_bytes(os.urandom(2 * 1024 * 1024))
    app = make_app([big])
    async with app.run_test() as pilot:
        screen = app.screen_under_test
        await wait_for(pilot, lambda: big in screen.checksums)
        assert screen.checksums[big] == sha256(big)
        assert 0 < screen._progress[big] <= 1.0


def test_a_sha256_file_counts_only_for_the_file_it_names(tmp_path):
    tarball = tmp_path / "a.tgz"
    tarball.write_bytes(b"abc")
    (tmp_path / "a.tgz.sha256").write_text(f"{'0' * 64}  other.tgz\n")
    assert read_sha256_file(tarball) is None
    (tmp_path / "a.tgz.sha256").write_text(f"{sha256(tarball).upper()} *a.tgz\n")
    assert read_sha256_file(tarball) == sha256(tarball)


def test_the_commands_register_the_eki_and_eri_then_the_emi_with_placeholders():
    text = register_commands(
        [Path("images/euca-debian-2026.11.28-x86_64.tgz")], "euca-debian-2026.11.28-x86_64.img",
        ["vmlinuz-6.1.0-28-amd64", "initrd.img-6.1.0-28-amd64"], True, "euca-debian-emi",
    )
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == [
        "tar -xzf euca-debian-2026.11.28-x86_64.tgz",
        "cd euca-debian-2026.11.28-x86_64",
        "euca-bundle-image -i kvm-kernel/vmlinuz-6.1.0-28-amd64 --kernel true",
        "euca-upload-bundle -b euca-debian-emi -m /tmp/vmlinuz-6.1.0-28-amd64.manifest.xml",
        "euca-register euca-debian-emi/vmlinuz-6.1.0-28-amd64.manifest.xml",
        "euca-bundle-image -i kvm-kernel/initrd.img-6.1.0-28-amd64 --ramdisk true",
        "euca-upload-bundle -b euca-debian-emi -m /tmp/initrd.img-6.1.0-28-amd64.manifest.xml",
        "euca-register euca-debian-emi/initrd.img-6.1.0-28-amd64.manifest.xml",
        "euca-bundle-image -i euca-debian-2026.11.28-x86_64.img",
        "euca-upload-bundle -b euca-debian-emi -m /tmp/euca-debian-2026.11.28-x86_64.img.manifest.xml",
        "euca-register euca-debian-emi/euca-debian-2026.11.28-x86_64.img.manifest.xml --kernel eki-XXXXXXXX --ramdisk eri-XXXXXXXX",
    ]


def test_without_a_kernel_only_the_emi_is_registered():
    text = register_commands([Path("x-1-x86_64.tar.xz")], "x-1-x86_64.img", [], False, "BUCKET")
    assert "tar -xJf x-1-x86_64.tar.xz" in text and "cd x-1-x86_64" in text
    assert "--kernel" not in text and "--ramdisk" not in text
    assert text.rstrip().endswith("euca-register BUCKET/x-1-x86_64.img.manifest.xml")


@async_test
async def test_copy_puts_the_commands_on_the_clipboard_and_escape_goes_back(tmp_path):
    files = write_artifacts(tmp_path)
    app = make_app([files["tarball"]])
    async with app.run_test(size=(120, 50)) as pilot:
        screen = app.screen_under_test
        area = screen.query_one("#commands", TextArea)
        assert area.read_only and area.text == screen.commands
        assert "--kernel eki-XXXXXXXX --ramdisk eri-XXXXXXXX" in area.text
        await pilot.press("c")
        assert app.clipboard == screen.commands
        await pilot.click("#copy")
        assert app.clipboard == screen.commands
        assert not screen.query_one("#boot-test").disabled  # there is a tarball to boot
        await pilot.press("escape")
        await pilot.pause()
        assert app.dismissed == [None] and app.screen is not screen


@async_test
async def test_a_dry_run_says_nothing_was_written():
    answers, _ = sample_answers()
    app = ScreenApp(lambda: DoneScreen(FakeResult(True, [], ""), answers, dry_run=True))
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen_under_test
        assert "Dry run finished" in str(screen.query_one("#headline", Static).render())
        assert "no files were written" in str(screen.query_one("#artifacts", Static).render())
        assert screen.query_one("#boot-test").disabled
