"""The `--shell` step of a modify: an interactive shell inside the image, with everything typed logged privately.

The runner's `run_interactive` hands the operator's terminal to a shell in
the (contained) chroot and reports every line typed and every line shown.
Those lines may hold passwords (typed, or echoed back by the terminal), so
they go only to a session log of their own in the log folder, created fresh
with mode 0600 (`open_private_log`). The modify's log, which is published
beside the artifact, and the events the CLI or TUI show say only how many
lines were typed, for how long, and where the session log is. The renderer steps aside meanwhile
(`ModifyRequest.shell_wrapper`: the CLI stops its live view, the TUI
suspends itself). A cancel (SIGTERM, or the TUI's cancel event) ends the
shell; the step then fails as cancelled, as does `exit 130` in the shell.
"""

from __future__ import annotations

import os
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TextIO

from emi_tui.engine.modify.context import ModifyContext
from emi_tui.engine.run.chroot import chroot_argv
from emi_tui.engine.run.context import CHROOT_ENV
from emi_tui.engine.run.job import StepResult, skipped
from emi_tui.engine.run.logtext import describe_argv
from emi_tui.engine.run.runner import Cancelled, run_interactive
from emi_tui.engine.safefs import create_new

#: Exiting the shell with this status abandons the modify: nothing is written.
ABANDON_STATUS = 130
BANNER = (
    "\r\nemi-tui: a shell inside a copy of the image (the original is untouched); what is typed and shown goes to a root-only log.\r\n"
    f"emi-tui: `exit` when done to seal and pack the new image; `exit {ABANDON_STATUS}` abandons the modify.\r\n\r\n"
)


def shell(ctx: ModifyContext) -> StepResult | str:
    request = ctx.request
    if not request.shell:
        return skipped("skipped (no --shell)")
    root = ctx.paths.root
    program = next((p for p in ("bin/bash", "usr/bin/bash") if (root / p).exists()), "bin/sh")
    argv = chroot_argv(root, [f"/{program}"])
    session = ctx.paths.log.with_name(f"{ctx.paths.log.stem}.shell.log")
    ctx.note(f"$ {describe_argv(['chroot', str(root), f'/{program}'])}  (interactive, contained; "
             f"what is typed and shown goes only to {session}, mode 0600)")
    if ctx.dry_run:
        return "dry run"
    # A person types here: apt may ask its questions, and the prompt says where they are.
    env = {k: v for k, v in CHROOT_ENV.items() if not k.startswith("DEB")}
    env.update(TERM=os.environ.get("TERM", "xterm"), debian_chroot="emi-modify", PS1="(emi-modify) \\w# ")
    typed = 0

    def on_typed(line: str) -> None:
        nonlocal typed
        typed += 1
        private.write(f"typed: {line}\n")

    def on_shown(line: str) -> None:
        private.write(f"shown: {line}\n")

    started = time.monotonic()
    with open_private_log(session) as private, request.shell_wrapper() if request.shell_wrapper else nullcontext():
        os.write(1, BANNER.encode())
        code = run_interactive(
            argv, env=env, cancel=ctx.cancel, on_spawn=ctx.track_pid,
            on_input_line=on_typed, on_output_line=on_shown,
        )
    ctx.note(f"interactive shell: {typed} line{'s' if typed != 1 else ''} typed in {time.monotonic() - started:.0f}s; "
             f"the session's log is {session} (root only)")
    if ctx.cancel.is_set():
        raise Cancelled("cancelled during the shell")
    if code == ABANDON_STATUS:
        raise Cancelled(f"cancelled: the shell exited with {ABANDON_STATUS} (abandon)")
    return f"the shell exited with {code}"


def open_private_log(path: Path) -> TextIO:
    """A new file only the owner (root) can read: created, never reused nor reached through a link."""
    fd = create_new(path, 0o600)
    os.fchmod(fd, 0o600)  # whatever the umask
    return os.fdopen(fd, "w", encoding="utf-8", buffering=1)
