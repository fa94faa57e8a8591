"""A tiny image root for the attacker tests: busybox-static and its applets, with empty /proc, /sys and /dev."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def busybox_root(work: Path) -> Path:
    """Lay out `work`/root as an image root of busybox alone; returns `work` (a job's work folder holds root/)."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("needs busybox-static (scripts/install-system-tools.sh)")
    root = work / "root"
    for folder in ("bin", "proc", "sys", "dev", "tmp", "mnt", "etc", "root"):
        (root / folder).mkdir(parents=True)
    shutil.copy2(busybox, root / "bin/busybox")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    return work
