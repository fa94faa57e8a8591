"""The `--shell` step of a modify: an interactive shell inside the image, with everything typed logged.

pexpect's `interact()` hands the operator's terminal to a shell in the chroot
and passes every keystroke and every byte of output through filters that
write them, line by line, into the modify's log. The renderer steps aside
meanwhile (`ModifyRequest.shell_wrapper`: the CLI stops its live view, the
TUI suspends itself). A cancel (SIGTERM, or the TUI's cancel event) ends the
shell from a watcher thread, since interact() itself waits on the terminal.
"""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import nullcontext
from typing import Callable

import pexpect

from emi_tui.engine.modify.context import ModifyContext
from emi_tui.engine.run.context import CHROOT_ENV
from emi_tui.engine.run.job import StepResult, skipped
from emi_tui.engine.run.runner import PTY_COLUMNS, PTY_ROWS, Cancelled, clean_line, describe_argv

#: Exiting the shell with this status abandons the modify: nothing is written.
ABANDON_STATUS = 130
BANNER = (
    "\r\nemi-tui: a shell inside a copy of the image (the original is untouched); everything typed is logged.\r\n"
    f"emi-tui: `exit` when done to seal and pack the new image; `exit {ABANDON_STATUS}` abandons the modify.\r\n\r\n"
)


class _Lines:
    """Turns a stream of bytes into logged lines: the shell's output, or (keys=True) what the operator typed."""

    def __init__(self, note: Callable[[str], None], prefix: str, keys: bool = False):
        self.note, self.prefix, self.keys, self.buffer = note, prefix, keys, ""

    def __call__(self, data: bytes) -> bytes:
        for char in data.decode("utf-8", "replace"):
            if char in "\r\n":
                self.flush()
            elif self.keys and char in "\x7f\x08":  # backspace: the log shows the line as it was sent
                self.buffer = self.buffer[:-1]
            elif self.keys and char in "\x03\x04":
                self.buffer += "^" + chr(ord(char) + 64)
                self.flush()
            else:
                self.buffer += char
        return data

    def flush(self) -> None:
        line, self.buffer = clean_line(self.buffer), ""
        if line:
            self.note(self.prefix + line)


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
        code = _interact(ctx, argv, env)
    if ctx.cancel.is_set():
        raise Cancelled("cancelled during the shell")
    if code == ABANDON_STATUS:
        raise Cancelled(f"cancelled: the shell exited with {ABANDON_STATUS} (abandon)")
    return f"the shell exited with {code}"


def _interact(ctx: ModifyContext, argv: list[str], env: dict[str, str]) -> int:
    size = shutil.get_terminal_size((PTY_COLUMNS, PTY_ROWS))
    child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(size.lines, size.columns), timeout=None)
    ctx.track_pid(child.pid)
    typed, shown = _Lines(ctx.note, "typed: ", keys=True), _Lines(ctx.note, "")
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if ctx.cancel.wait(0.2):
                child.terminate(force=True)  # interact() sees the end of the pty and returns
                return

    watcher = threading.Thread(target=watch, name="emi-modify-shell-watch", daemon=True)
    watcher.start()
    try:
        child.interact(escape_character=None, input_filter=typed, output_filter=shown)
    finally:
        finished.set()
        typed.flush()
        shown.flush()
        child.close(force=True)
        watcher.join()
    return child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)
