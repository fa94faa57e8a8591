"""A real i386 image, as the seed catalog had: built here (an i386 root runs natively on x86_64) and booted with qemu-system-i386.

The aarch64 build and boot runs under emulation and takes tens of minutes on
two cores: it is a benchmark (`make bench BENCH=aarch64`), not part of this group.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from emi_tui.engine.artifact.read import read_from_image
from emi_tui.engine.boot import boottest
from emi_tui.engine.boot.boottest import BootTest

from .conftest import require_build_prerequisites, run_cli

pytestmark = [pytest.mark.root, pytest.mark.e2e]

ANSWERS = """\
version: 1
recipe: debian-based
arch: i386
release: bookworm
size: 1.3G
metadata:
  ssh_key: root
  hostname: true
image:
  version: "2026.02.01"
output:
  dir: {output}
"""
STEM = "euca-debian-2026.02.01-i386"


@pytest.fixture(scope="module")
def i386_build(build_env, tmp_path_factory) -> Path:
    require_build_prerequisites()
    tmp = tmp_path_factory.mktemp("i386")
    answers = tmp / "i386.yaml"
    answers.write_text(ANSWERS.format(output=tmp / "out"))
    done = run_cli("build", "-v", str(answers), env=build_env)
    assert done.returncode == 0, f"build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    # mmdebstrap was asked for i386 packages, natively: no emulation was involved.
    assert "--architectures=i386" in done.stdout and "qemu-user emulation" not in done.stdout
    return tmp / "out" / f"{STEM}.tgz"


def test_the_i386_image_says_i386_and_carries_the_686_kernel(i386_build, tmp_path):
    subprocess.run(["tar", "-xf", str(i386_build), "-C", str(tmp_path)], check=True)
    image = tmp_path / STEM / f"{STEM}.img"
    image_id = (read_from_image(image, "etc/image-id") or b"").decode()
    assert 'image_arch="i386"' in image_id, image_id
    manifest = i386_build.with_name(f"{STEM}.manifest").read_text()
    assert "linux-image-686" in manifest and "linux-image-cloud" not in manifest
    kernels = [p.name for p in (tmp_path / STEM).rglob("vmlinuz-*")]
    assert kernels and all(name.endswith("-686") for name in kernels), kernels
    # The ELF loader of an i386 root: 32-bit x86 (EI_CLASS 1, e_machine 3).
    loader = read_from_image(image, "usr/lib/i386-linux-gnu/libc.so.6", limit=4 << 20) or b""
    assert loader[:5] == b"\x7fELF\x01" and loader[18:20] == b"\x03\x00"


def test_the_i386_image_boots_under_qemu_system_i386(i386_build, tmp_path, monkeypatch):
    if shutil.which("qemu-system-i386") is None or shutil.which("ssh") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must boot the i386 image, but qemu-system-i386 or ssh is missing")
        pytest.skip("needs qemu-system-x86 and openssh-client")
    programs = []
    real_argv = boottest.qemu_argv

    def recording(*args, **kwargs):
        argv = real_argv(*args, **kwargs)
        programs.append(argv[0])
        return argv

    monkeypatch.setattr(boottest, "qemu_argv", recording)
    report = BootTest(i386_build, timeout=300, console_log=tmp_path / "console.log").run()
    assert report.ok, [(c.name, c.detail) for c in report.checks if not c.passed]
    assert programs and set(programs) == {"qemu-system-i386"}, programs
    console = (tmp_path / "console.log").read_bytes().decode()
    banner = console[console.index("Linux version"):].split("\n", 1)[0]
    assert "-686 " in banner, banner  # the 686 kernel booted
    image_id = next(c for c in report.checks if c.name == "/etc/image-id readable")
    assert image_id.passed
