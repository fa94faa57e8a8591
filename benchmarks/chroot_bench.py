"""What the contained chroot costs a cold build, measured side by side in one run (needs root and a mirror).

Each round builds the default image twice from an empty cache: once as
emi-tui does (every command inside the root through run.chroot: its own
mount and PID namespaces, a fresh /proc, a minimal /dev), once the way it was
before issue 14 (a bare `chroot` with the host's /proc, /sys, /dev and
/dev/pts bound in). The bare way exists only here, patched into the engine
for the measurement; the engine has no switch for it. The order alternates
between rounds, so that a warming page cache favours neither.

    python benchmarks/chroot_bench.py [ROUNDS]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from timed_build import timed_build

from emi_tui.engine.build import customize, distro
from emi_tui.engine.run import context
from emi_tui.engine.run.context import JobContext

ANSWERS = "version: 1\nrecipe: debian-based\nimage: {{version: '{version}'}}\noutput: {{dir: {out}}}\n"
BINDS = ("proc", "sys", "dev", "dev/pts")


def _bare_chroot_argv(root: Path | str, argv: Sequence[str]) -> list[str]:
    return ["chroot", str(root), *[str(a) for a in argv]]


def _bind_host_folders(ctx: JobContext) -> None:
    assert ctx.mounts is not None
    for name in BINDS:
        ctx.mounts.mount(["--bind", f"/{name}"], ctx.paths.root / name)


@contextmanager
def _bare() -> Iterator[None]:
    """The chroot as it was at e53a9da, for this process only."""
    saved = context.chroot_argv, distro.chroot_argv, customize.mount_chroot
    context.chroot_argv = distro.chroot_argv = _bare_chroot_argv  # type: ignore[assignment]
    customize.mount_chroot = _bind_host_folders
    try:
        yield
    finally:
        context.chroot_argv, distro.chroot_argv, customize.mount_chroot = saved


def _cold_build(tmp: Path, label: str) -> tuple[float, float]:
    """Seconds for the whole build and for its chroot step, from an empty cache."""
    os.environ["EMI_TUI_CACHE_DIR"] = str(tmp / f"cache-{label}")
    text = ANSWERS.format(version=f"2026.01.{len(list(tmp.iterdir())) + 1:02d}", out=tmp / f"out-{label}")
    seconds, steps, _artifact = timed_build(text, f"{label} build")
    return seconds, steps["chroot"] + steps.get("hygiene", 0.0)


def main(rounds: int = 1) -> list[tuple[str, str, str, str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="emi-bench-chroot-", dir="/var/tmp") as scratch:
        tmp = Path(scratch)
        for number in range(rounds):
            order = ("contained", "bare") if number % 2 == 0 else ("bare", "contained")
            figures: dict[str, tuple[float, float]] = {}
            for kind in order:
                label = f"{kind}-{number}"
                if kind == "bare":
                    with _bare():
                        figures[kind] = _cold_build(tmp, label)
                else:
                    figures[kind] = _cold_build(tmp, label)
            (whole, inside), (bare_whole, bare_inside) = figures["contained"], figures["bare"]
            rows.append((
                f"cold build, contained chroot vs bare (round {number + 1}, {order[0]} first)",
                f"{whole:.1f} s vs {bare_whole:.1f} s", f"{whole / bare_whole:.3f}x",
                f"chroot+hygiene steps {inside:.1f} s vs {bare_inside:.1f} s ({inside / bare_inside:.3f}x)",
            ))
    return rows


if __name__ == "__main__":
    for row in main(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
        print(" | ".join(row), flush=True)
