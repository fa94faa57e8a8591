"""Runs `emi-tui build` with one fault injected at the start of one step (test helper only).

Usage: python faultinject.py STEP KIND ANSWERS
KIND is one of:
  fail        the step runs a command that exits non-zero (the only faked part)
  sigint      a real SIGINT arrives while the step runs a command
  sigterm     a real SIGTERM arrives while the step runs a command
  cancel      the cancel event is set, as the TUI's cancel does
  diskfull    the work folder's filesystem is filled up, then the step runs
  mirrordead  the mirror proxy is stopped (its pid file is in MIRROR_PROXY_PIDFILE), then the step runs
  hang        the step (after the chroot's mounts) prints HANGING and runs `sleep 600`, for SIGKILL tests
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from emi_tui.engine.build import job as build_module
from emi_tui.engine.build.steps import Step, build_steps


def _fill(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(folder / "filler", "wb") as filler:
        os.posix_fallocate(filler.fileno(), 0, max(free - 4096, 1))


def _inject(step: Step, kind: str) -> Step:
    def faulty(ctx):
        if kind == "fail":
            ctx.run(["sh", "-c", "echo injected failure; exit 7"])
        elif kind in ("sigint", "sigterm"):
            sig = signal.SIGINT if kind == "sigint" else signal.SIGTERM
            threading.Timer(0.5, os.kill, (os.getpid(), sig)).start()
            ctx.run(["sleep", "60"])
        elif kind == "cancel":
            threading.Timer(0.5, ctx.cancel.set).start()
            ctx.run(["sleep", "60"])
        elif kind == "diskfull":
            _fill(ctx.paths.work.parent)
        elif kind == "mirrordead":
            pid = int(Path(os.environ["MIRROR_PROXY_PIDFILE"]).read_text())
            os.kill(pid, signal.SIGKILL)
        elif kind == "hang":
            if step.name == "chroot":  # in the middle of the chroot step: its mounts are up
                from emi_tui.engine.build.customize import mount_chroot

                mount_chroot(ctx)
            print("HANGING", flush=True)
            ctx.run(["sleep", "600"])
        return step.run(ctx)

    return Step(step.name, step.description, faulty)


def main() -> int:
    target, kind, answers = sys.argv[1], sys.argv[2], sys.argv[3]
    steps = [(_inject(s, kind) if s.name == target else s) for s in build_steps()]
    build_module.build_steps = lambda: steps
    from emi_tui.cli import main as cli

    return cli(["build", "-v", answers])


if __name__ == "__main__":
    sys.exit(main())
