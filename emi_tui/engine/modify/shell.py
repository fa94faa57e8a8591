"""The `--shell` step of a modify: an interactive shell inside the image, with everything typed logged.

The runner's `run_interactive` hands the operator's terminal to a shell in
the chroot and reports every line typed and every line shown, which go into
the modify's log. The renderer steps aside meanwhile
(`ModifyRequest.shell_wrapper`: the CLI stops its live view, the TUI
suspends itself). A cancel (SIGTERM, or the TUI's cancel event) ends the
shell; the step then fails as cancelled, as does `exit 130` in the shell.
"""

from __future__ import annotations

import os
from contextlib import nullcontext

from emi_tui.engine.modify.context import ModifyContext
from emi_tui.engine.run.context import CHROOT_ENV
from emi_tui.engine.run.job import StepResult, skipped
from emi_tui.engine.run.logtext import describe_argv
from emi_tui.engine.run.runner import Cancelled, run_interactive

#: Exiting the shell with this status abandons the modify: nothing is written.
ABANDON_STATUS = 130
BANNER = (
    "\r\nemi-tui: a shell inside a copy of the image (the original is untouched); everything typed is logged.\r\n"
    f"emi-tui: `exit` when done to seal and pack the new image; `exit {ABANDON_STATUS}` abandons the modify.\r\n\r\n"
)


def shell(ctx: ModifyContext) -> StepResult | str:
    request = ctx.request
    if not request.shell:
        return skipped("skipped (no --shell)")
    root = ctx.paths.root
    program = next((p for p in ("bin/bash", "usr/bin/bash") if (root / p).exists()), "bin/sh")
    argv = ["chroot", str(root), f"/{program}"]
    ctx.note(f"$ {describe_argv(argv)}  (interactive; everything typed is logged as 'typed: …')")
    if ctx.dry_run:
        return "dry run"
    # A person types here: apt may ask its questions, and the prompt says where they are.
    env = {k: v for k, v in CHROOT_ENV.items() if not k.startswith("DEB")}
    env.update(TERM=os.environ.get("TERM", "xterm"), debian_chroot="emi-modify", PS1="(emi-modify) \\w# ")
    with request.shell_wrapper() if request.shell_wrapper else nullcontext():
        os.write(1, BANNER.encode())
        code = run_interactive(
            argv, env=env, cancel=ctx.cancel, on_spawn=ctx.track_pid,
            on_input_line=lambda line: ctx.note(f"typed: {line}"), on_output_line=ctx.note,
        )
    if ctx.cancel.is_set():
        raise Cancelled("cancelled during the shell")
    if code == ABANDON_STATUS:
        raise Cancelled(f"cancelled: the shell exited with {ABANDON_STATUS} (abandon)")
    return f"the shell exited with {code}"
