"""Undoing what a modify set up inside and around the image.

The hygiene step of emi_tui.engine.modify.steps puts back the files the modify
replaced for its own work (`restore_stashed`), stops what was left running
in the chroot and detaches the loop device. The mount step also pushes the
last two onto the context's undo stack, so that the job's one teardown runs
them on every other exit path.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from emi_tui.engine.build import customize
from emi_tui.engine.image.inroot import InRootError, read_in_root
from emi_tui.engine.modify.context import ModifyContext, StashedFile, StashedLink
from emi_tui.engine.run.cleanup import loops_under
from emi_tui.engine.run.runner import run_captured

#: losetup --detach only asks the kernel; it answers at once.
DETACH_SECONDS = 30.0

#: Files the modify puts in place for its own work, restored afterwards unless the script or shell changed them.
STASHED = ("etc/resolv.conf", "etc/apt/sources.list", "etc/yum.repos.d/emi-tui.repo", customize.POLICY_RC_D)


def _current(ctx: ModifyContext, relative: str) -> bytes | None:
    """What the image holds at `relative` now, read inside its root and bounded (None when it cannot be read safely)."""
    try:
        return read_in_root(ctx.paths.root, relative, 1 << 20)
    except InRootError:
        return None


def restore_stashed(ctx: ModifyContext) -> None:
    """Put back the files of STASHED the modify wrote (and an image's own policy-rc.d), unless the script or shell changed them."""
    if ctx.dry_run:
        ctx.note(f"put back /{', /'.join(STASHED)} as they were, unless the script or shell changed them")
    for relative, saved in ctx.stash.items():
        if relative not in ctx.ours and relative != customize.POLICY_RC_D:  # hygiene removes an image's own policy-rc.d
            continue
        path = ctx.paths.root / relative
        current = _current(ctx, relative) if path.is_file() and not path.is_symlink() else None
        if relative in ctx.ours and current != ctx.ours[relative] and current is not None:
            ctx.note(f"kept /{relative}: the script or the shell changed it")
            continue
        ctx.remove(relative)
        if isinstance(saved, StashedLink):
            ctx.symlink(relative, saved.target)
        elif isinstance(saved, StashedFile):
            ctx.write_bytes(relative, saved.content, saved.mode)  # through no link, and never out of the image
            ctx.note(f"put back /{relative} ({len(saved.content)} bytes)")


def release_loops(work: Path, wait: float = 10.0) -> list[str]:
    """Detach the loop devices backed by files under `work`; returns those still attached."""
    deadline = time.monotonic() + wait
    while loops_under(work) and time.monotonic() < deadline:
        time.sleep(0.1)  # mount -o loop detaches its device itself, a moment after the unmount
    for device in loops_under(work):
        run_captured(["losetup", "--detach", device], timeout=DETACH_SECONDS)  # what stays attached is returned below
    deadline = time.monotonic() + 2
    while loops_under(work) and time.monotonic() < deadline:
        time.sleep(0.1)
    return loops_under(work)


def stop_chrooted(ctx: ModifyContext) -> None:
    """Stop what the script or the shell left running inside the image: it would keep the image busy.

    A command run through run.chroot cannot leave anything behind: its PID
    namespace ends with it, and every process in it is killed. This finds
    what entered the root some other way (a bare chroot of the operator's).
    """
    if ctx.dry_run:
        return
    root = str(ctx.paths.root.resolve())
    for proc in Path("/proc").iterdir():
        try:
            inside = proc.name.isdigit() and (os.readlink(proc / "root") + "/").startswith(root + "/")
            if inside:
                os.kill(int(proc.name), 9)
                ctx.note(f"stopped process {proc.name} left running inside the image")
        except OSError:
            continue
