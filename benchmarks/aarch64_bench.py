"""aarch64 for real on this x86_64 workstation: one cold build under qemu-user, then its boot test under qemu-system-aarch64 (TCG).

Slow on two cores (tens of minutes), so it runs only when named:
`make bench BENCH=aarch64`. It needs root, a mirror in the apt sources,
qemu-user-static registered in binfmt_misc (`emi-tui build --setup-emulation`
does that, and says what it changed) and qemu-system-arm.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from timed_build import timed_build

from emi_tui.engine.boot.boottest import BootTest
from emi_tui.engine.build.emulation import emulation_problem

ANSWERS = "version: 1\nrecipe: debian-based\narch: aarch64\nrelease: bookworm\nimage: {{version: '2026.03.01'}}\noutput: {{dir: {out}, compress: zstd}}\n"
#: TCG boots an arm64 kernel in minutes, not seconds: the boot test's own 240 s would cut it short.
BOOT_TIMEOUT_S = 1500.0


def main(artifact: Path | None = None) -> list[tuple[str, str, str, str]]:
    problem = emulation_problem("aarch64")
    if problem and artifact is None:
        return [("aarch64 build", "not run", "", f"{problem[0]}; {problem[1]}")]
    if shutil.which("qemu-system-aarch64") is None:
        return [("aarch64 boot test", "not run", "", "qemu-system-aarch64 is missing: apt-get install qemu-system-arm")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="emi-bench-aarch64-", dir="/var/tmp") as scratch:
        tmp = Path(scratch)
        if artifact is None:
            os.environ["EMI_TUI_CACHE_DIR"] = str(tmp / "cache")  # a cold build: the bootstrap is what emulation slows most
            seconds, steps, artifact = timed_build(ANSWERS.format(out=tmp / "out"), "aarch64 build")
            per_step = ", ".join(f"{name} {value:.1f} s" for name, value in steps.items())
            rows.append(("aarch64 cold build under qemu-user (mmdebstrap)", f"{seconds:.1f} s", "", per_step))
        report = BootTest(artifact, accel="tcg", timeout=BOOT_TIMEOUT_S, console_log=tmp / "console.log").run()
        passed = [c for c in report.checks if c.passed]
        timeline = ", ".join(f"{c.name} {c.seconds:.0f} s" for c in report.checks if c.seconds is not None)
        rows.append(("aarch64 boot test (qemu-system-aarch64, TCG)", f"{report.seconds:.1f} s",
                     f"{len(passed)}/{len(report.checks)} checks passed", timeline))
        if not report.ok:
            failed = "; ".join(f"{c.name}: {c.detail}" for c in report.checks if not c.passed)
            rows.append(("aarch64 boot test failures", "FAILED", "", failed))
    return rows


if __name__ == "__main__":
    for row in main(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(" | ".join(row))
