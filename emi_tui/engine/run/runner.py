"""Running external commands on a pty, streaming their output line by line.

Every command is an argv list (never a shell string). pexpect gives the child
a wide pseudo-terminal, so apt and debootstrap print as they do for a person,
and lets us read output as it comes. A quiet command never times out merely
for being quiet; one that sits on an unfinished line that looks like a
question is failed as "waiting on a prompt". Cancelling (a threading.Event)
terminates the child's whole session.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import pexpect

from emi_tui.engine.errors import EmiError

PTY_ROWS, PTY_COLUMNS = 50, 200
#: How long an unfinished, question-like line may wait before we call it a prompt.
PROMPT_SECONDS = 30.0
_PROMPT = re.compile(r"(\?\s*$|\[[YyNn]/[YyNn]\]\s*$|\([yn]/[yn]\)\s*$|[Pp]assword[^:]*:\s*$|:\s*$|>\s*$)")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


class CommandFailed(EmiError):
    """A command exited non-zero, waited on a prompt, or was cancelled."""


class Cancelled(EmiError):
    """The operator (or a signal) asked the build to stop."""


@dataclass
class CommandResult:
    argv: list[str]
    exit_code: int
    seconds: float
    tail: list[str]


def clean_line(text: str) -> str:
    """A printable line: ANSI sequences gone, carriage-return overwrites resolved."""
    text = _ANSI.sub("", text)
    if "\r" in text:
        parts = [p for p in text.split("\r") if p.strip()]
        text = parts[-1] if parts else ""
    return text.rstrip()


def describe_argv(argv: Sequence[str]) -> str:
    """How a command is shown in logs and the dry-run plan (quoted like a shell would need)."""
    import shlex

    def word(arg: str) -> str:
        if any(ord(c) < 32 for c in arg):  # bash's $'…' keeps tabs and newlines on one line
            return "$'" + arg.encode("unicode_escape").decode("ascii").replace("'", "\\'") + "'"
        return shlex.quote(arg)

    return " ".join(word(str(a)) for a in argv)


def run_command(
    argv: Sequence[str],
    on_line: Callable[[str], None],
    *,
    cancel: threading.Event | None = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    prompt_seconds: float = PROMPT_SECONDS,
    check: bool = True,
    on_spawn: Callable[[int], None] | None = None,
) -> CommandResult:
    """Run `argv`, calling `on_line` for each output line; raise CommandFailed on failure."""
    argv = [str(a) for a in argv]
    started = time.monotonic()
    tail: list[str] = []

    def emit(line: str) -> None:
        line = clean_line(line)
        if line:
            tail.append(line)
            del tail[:-40]
            on_line(line)

    try:
        child = pexpect.spawn(
            argv[0], argv[1:], env=env, cwd=cwd, dimensions=(PTY_ROWS, PTY_COLUMNS),
            encoding="utf-8", codec_errors="replace", echo=False, timeout=None,
        )
    except pexpect.ExceptionPexpect as exc:
        raise CommandFailed(f"cannot start {argv[0]}: {exc}", hint=f"is {argv[0]} installed?") from None
    if on_spawn:
        on_spawn(child.pid)
    pending = ""
    last_output = time.monotonic()
    try:
        while True:
            if cancel is not None and cancel.is_set():
                _terminate(child)
                raise Cancelled(f"cancelled while running {argv[0]}")
            try:
                chunk = child.read_nonblocking(size=65536, timeout=0.2)
            except pexpect.TIMEOUT:
                if pending and time.monotonic() - last_output > prompt_seconds and _PROMPT.search(clean_line(pending)):
                    _terminate(child)
                    raise CommandFailed(
                        f"{argv[0]} is waiting on a prompt: {clean_line(pending)!r}",
                        hint="the command asked a question nobody can answer during a build; make it non-interactive",
                    )
                continue
            except pexpect.EOF:
                break
            last_output = time.monotonic()
            pending += chunk
            *lines, pending = re.split(r"\r?\n", pending)
            for line in lines:
                emit(line)
        if pending:
            emit(pending)
        # EOF can come a moment before the child has exited; closing then would
        # send it SIGHUP (seen as exit 129 on a busy machine), so reap it first.
        child.wait()
        child.close()
    except BaseException:
        _terminate(child)
        raise
    code = child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)
    result = CommandResult(argv, code, time.monotonic() - started, tail)
    if check and code != 0:
        last = f": {tail[-1]}" if tail else ""
        raise CommandFailed(f"{describe_argv(argv)[:200]} exited with {code}{last}")
    return result


def _terminate(child: pexpect.spawn) -> None:
    """Stop the child's whole session: SIGTERM, a grace period, then SIGKILL."""
    if not child.isalive():
        child.close(force=True)
        return
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and child.isalive():
            time.sleep(0.05)
        if not child.isalive():
            break
    try:
        child.close(force=True)
    except pexpect.ExceptionPexpect:
        pass
