"""Boot-test benchmark: QEMU start to all checks passed, under what this machine offers (TCG here)."""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.boot.boottest import BootTest
from emi_tui.engine.build.job import BuildOptions, run_build


def _artifact(tmp: Path) -> Path:
    text = f"version: 1\nrecipe: debian-based\noutput: {{dir: {tmp}, compress: zstd}}\n"
    checked = validate_bytes(text, "boot-bench.yaml", RecipeBook())
    result = run_build(checked.answers, checked.recipe, lambda _: None, threading.Event(), BuildOptions())
    if not result.ok:
        raise SystemExit(f"build failed: {result.message}")
    return result.artifacts[0]


def main(artifact: Path | None = None) -> list[tuple[str, str, str, str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="emi-boot-bench-") as scratch:
        tmp = Path(scratch)
        artifact = artifact or _artifact(tmp)
        for accel in ("auto", "tcg"):
            report = BootTest(artifact, accel=accel, console_log=tmp / f"console-{accel}.log").run()
            if not report.ok:
                rows.append((f"boot test ({accel})", "FAILED", "", ", ".join(c.name for c in report.checks if not c.passed)))
                continue
            last = max(c.seconds for c in report.checks)
            rows.append((
                f"boot test, QEMU start to all checks ({accel} -> {report.accel})", f"{last:.1f} s", "target < 60 s",
                f"whole run {report.seconds:.1f} s incl. extraction{', KVM probe' if accel == 'auto' else ''}",
            ))
    return rows


if __name__ == "__main__":
    for row in main(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(" | ".join(row))
