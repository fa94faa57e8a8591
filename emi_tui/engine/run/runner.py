"""The one way emi-tui runs an external command.

Every command is an argv list (never a shell string), with an environment
built from scratch (`command_env`), not the operator's whole environment.
Four forms share that contract:

- `run_command` streams a long command's output line by line on a pty (the
  build's apt, debootstrap, mke2fs, tar): cancel and a timeout are honoured;
- `run_captured` runs a short query (debugfs, losetup, dumpe2fs, tar -t, QEMU
  tools) with pipes and returns its output, bounded in time and in size;
- `start_process` starts a long-running child that the caller watches and
  stops itself (the QEMU guest of a boot test): a `Process` handle reads its
  output pattern by pattern, and `stop()` ends its whole session and reaps it;
- `run_interactive` hands the operator's terminal to a child (a modify's
  `--shell`) and reports what was typed and shown, line by line, for the log.

Tests that put fake tools first on the children's PATH change
`BASE_ENV["PATH"]` (monkeypatch.setitem); `which` looks a program up on that
same PATH, so a check for a tool agrees with what the child will run.

No other module may call subprocess or spawn a child: a test enforces it. pexpect gives the child
a wide pseudo-terminal, so apt and debootstrap print as they do for a person,
and lets us read output as it comes. A quiet command never times out merely
for being quiet; one that sits on an unfinished line that looks like a
question is failed as "waiting on a prompt". Cancelling (a threading.Event)
terminates the child's whole session.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, AnyStr, TextIO

import pexpect

from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.logtext import TerminalLines, clean_line, describe_argv

PTY_ROWS, PTY_COLUMNS = 50, 200
#: How long an unfinished, question-like line may wait before we call it a prompt.
PROMPT_SECONDS = 30.0
_PROMPT = re.compile(r"(\?\s*$|\[[YyNn]/[YyNn]\]\s*$|\([yn]/[yn]\)\s*$|[Pp]assword[^:]*:\s*$|:\s*$|>\s*$)")


#: What every command gets, whatever the operator's shell has set: a known PATH and a UTF-8 C locale.
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/root",
}
#: The operator's own variables that some tools legitimately need (proxies for a mirror, the terminal).
PASSED_THROUGH = ("TERM", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "TZ")
#: How much of a captured command's output is kept: a query's answer is small; more is a hostile input.
CAPTURE_LIMIT = 16 * 1024 * 1024


def command_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: `BASE_ENV`, the few passed-through variables the operator set, then `extra`."""
    env = dict(BASE_ENV)
    env.update({name: os.environ[name] for name in PASSED_THROUGH if name in os.environ})
    env.update(extra or {})
    return env


def which(program: str) -> str | None:
    """Where `program` is on the children's PATH (not the operator's), or None when it is not there."""
    return shutil.which(program, path=command_env()["PATH"])


class CommandFailed(EmiError):
    """A command exited non-zero, waited on a prompt, or was cancelled."""


class CommandTimedOut(CommandFailed):
    """A command ran past its timeout and was stopped (its message names the command)."""


class Cancelled(EmiError):
    """The operator (or a signal) asked the build to stop."""


@dataclass
class CommandResult:
    argv: list[str]
    exit_code: int
    seconds: float
    tail: list[str]


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
    timeout: float | None = None,
) -> CommandResult:
    """Run `argv`, calling `on_line` for each output line; raise CommandFailed on failure.

    `env` is added to `command_env()`; `timeout` (seconds, None for none) ends
    a command that runs too long as a failure, not a hang.
    """
    argv = [str(a) for a in argv]
    env = command_env(env)
    started = time.monotonic()
    tail: list[str] = []

    def emit(line: str) -> None:
        line = clean_line(line)
        if line:
            tail.append(line)
            del tail[:-40]
            on_line(line)

    try:
        child: pexpect.spawn[str] = pexpect.spawn(
            argv[0], argv[1:], env=env, cwd=cwd, dimensions=(PTY_ROWS, PTY_COLUMNS),
            encoding="utf-8", codec_errors="replace", echo=False, timeout=None,
        )
    except pexpect.ExceptionPexpect as exc:
        raise CommandFailed(f"cannot start {argv[0]}: {exc}", hint=f"is {argv[0]} installed?") from None
    if on_spawn:
        on_spawn(_pid_of(child))
    pending = ""
    last_output = time.monotonic()
    try:
        while True:
            if cancel is not None and cancel.is_set():
                _terminate(child)
                raise Cancelled(f"cancelled while running {argv[0]}")
            if timeout is not None and time.monotonic() - started > timeout:
                _terminate(child)
                raise CommandTimedOut(f"{argv[0]} did not finish within {timeout:g} s", hint=f"the command was: {describe_argv(argv)[:200]}")
            try:
                chunk = child.read_nonblocking(size=65536, timeout=0.2)
            except pexpect.TIMEOUT:
                if pending and time.monotonic() - last_output > prompt_seconds and _PROMPT.search(clean_line(pending)):
                    _terminate(child)
                    raise CommandFailed(
                        f"{argv[0]} is waiting on a prompt: {clean_line(pending)!r}",
                        hint="the command asked a question nobody can answer during a build; make it non-interactive",
                    ) from None
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


def _pid_of(child: pexpect.spawn[AnyStr]) -> int:
    """The child's pid, which pexpect sets before `spawn` returns (its type allows None only for an unstarted one)."""
    assert child.pid is not None, "pexpect.spawn returned without a child"
    return child.pid


def _terminate(child: pexpect.spawn[str]) -> None:
    """Stop the child's whole session: SIGTERM, a grace period, then SIGKILL."""
    if not child.isalive():
        child.close(force=True)
        return
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(_pid_of(child), sig)
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


@dataclass
class Captured:
    """The outcome of `run_captured`: exit code and output (cut at `CAPTURE_LIMIT`, `truncated` says so)."""

    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def first_error_line(self) -> str:
        """The first line of stderr, for a message (or the exit code when it said nothing)."""
        lines = self.stderr.strip().splitlines()
        return lines[0] if lines else f"{self.argv[0]} exited with {self.exit_code}"


def run_captured(
    argv: Sequence[str],
    *,
    timeout: float,
    cancel: threading.Event | None = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    input: bytes | None = None,
    check: bool = False,
    limit: int = CAPTURE_LIMIT,
) -> Captured:
    """Run a short command with pipes and return its output; a timeout or cancel ends it cleanly.

    The child gets its own session, so ending it ends its children too. Output
    past `limit` bytes is dropped (and the command stopped): a query never
    needs that much, and a hostile image must not make emi-tui hold it all.
    Raises CommandFailed when the command cannot start, runs past `timeout`,
    or (with `check`) exits non-zero; Cancelled when `cancel` is set.
    """
    argv = [str(a) for a in argv]
    try:
        child = subprocess.Popen(
            argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=command_env(env), cwd=cwd, start_new_session=True,
        )
    except OSError as exc:
        raise CommandFailed(f"cannot start {argv[0]}: {exc.strerror or exc}", hint=f"is {argv[0]} installed?") from None
    chunks: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
    sizes = {"stdout": 0, "stderr": 0}
    truncated = threading.Event()

    def drain(name: str, stream: IO[bytes]) -> None:
        while block := stream.read(65536):
            if sizes[name] < limit:
                chunks[name].append(block[: limit - sizes[name]])
            sizes[name] += len(block)
            if sizes[name] > limit:
                truncated.set()

    readers = [threading.Thread(target=drain, args=(n, getattr(child, n)), daemon=True) for n in ("stdout", "stderr")]
    for reader in readers:
        reader.start()
    if input is not None and child.stdin is not None:  # stdin is a pipe exactly when there is input
        try:
            child.stdin.write(input)
            child.stdin.close()
        except BrokenPipeError:
            pass
    deadline = time.monotonic() + timeout
    try:
        while child.poll() is None:
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"cancelled while running {argv[0]}")
            if truncated.is_set():
                break
            if time.monotonic() > deadline:
                raise CommandTimedOut(f"{argv[0]} did not finish within {timeout:g} s", hint=f"the command was: {describe_argv(argv)[:200]}")
            time.sleep(0.02)
    finally:
        if child.poll() is None:
            _kill_session(child)
        for reader in readers:
            reader.join(timeout=5)
    code = child.returncode if child.returncode >= 0 else 128 - child.returncode
    result = Captured(
        argv, code, b"".join(chunks["stdout"]).decode("utf-8", "replace"),
        b"".join(chunks["stderr"]).decode("utf-8", "replace"), truncated.is_set(),
    )
    if check and code != 0:
        raise CommandFailed(f"{describe_argv(argv)[:200]} exited with {code}: {result.first_error_line()}")
    return result


def _kill_session(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the child's session, a short grace period, then SIGKILL; always reaped."""
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        try:
            child.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
    child.wait()


#: What `Process.expect` returns when no pattern matched: the time ran out, or the child's output ended.
TIMED_OUT, ENDED = -1, -2


class Process:
    """A long-running child from `start_process`: read its output with `expect`, and always `stop()` it."""

    def __init__(self, child: pexpect.spawn[str], argv: list[str]) -> None:
        self._child, self.argv = child, argv
        #: The text read before the last match, and the match itself.
        self.before, self.after = "", ""

    @property
    def pid(self) -> int:
        return _pid_of(self._child)

    def is_alive(self) -> bool:
        return self._child.isalive()

    def expect(self, patterns: Sequence[str], timeout: float) -> int:
        """Read output until one of `patterns` (regular expressions) matches, for at most `timeout` seconds.

        Returns the index of the pattern that matched (`before` and `after` hold
        the text before it and the match), `TIMED_OUT`, or `ENDED` when the
        child closed its output (it exited; `before` holds what was left).
        """
        try:
            index = self._child.expect(list(patterns), timeout=timeout)
        except pexpect.TIMEOUT:
            return TIMED_OUT
        except pexpect.EOF:
            self.before, self.after = self._child.before or "", ""
            return ENDED
        after = self._child.after  # the matched text: EOF and TIMEOUT, its other values, were raised above
        self.before, self.after = self._child.before or "", after if isinstance(after, str) else ""
        return index

    def stop(self) -> None:
        """End the child's whole session (SIGTERM, a grace period, SIGKILL) and reap it; calling it again does nothing."""
        _terminate(self._child)


def start_process(
    argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: str | None = None, log: TextIO | None = None,
) -> Process:
    """Start `argv` on a pty in its own session, for a caller that watches its output and ends it.

    Nothing here waits for the child or bounds it in time: the caller's
    `expect` calls carry the timeouts, and the caller must `stop()` it on every
    exit path (a `finally`). `env` is added to `command_env()`; `log`, when
    given, receives everything the child prints.
    """
    argv = [str(a) for a in argv]
    try:
        child: pexpect.spawn[str] = pexpect.spawn(
            argv[0], argv[1:], env=command_env(env), cwd=cwd, encoding="utf-8", codec_errors="replace", echo=False, timeout=None,
        )
    except pexpect.ExceptionPexpect as exc:
        raise CommandFailed(f"cannot start {argv[0]}: {exc}", hint=f"is {argv[0]} installed?") from None
    child.logfile_read = log
    return Process(child, argv)


def run_interactive(
    argv: Sequence[str],
    *,
    on_input_line: Callable[[str], None],
    on_output_line: Callable[[str], None],
    env: dict[str, str] | None = None,
    cancel: threading.Event | None = None,
    on_spawn: Callable[[int], None] | None = None,
) -> int:
    """Hand this process's terminal to `argv` on a pty until it exits; returns its exit status (128 + N after signal N).

    For a person at the terminal (a modify's `--shell`): pexpect's interact()
    passes every keystroke to the child and its output to the screen, through
    `TerminalLines` filters that report each typed line to `on_input_line` and
    each line shown to `on_output_line`. The pty takes the terminal's size;
    `env` is added to `command_env()`. Setting `cancel` ends the child (from a
    watcher thread: interact() itself waits on the terminal) and returns; what
    a cancel means is the caller's to say. CommandFailed when it cannot start.
    """
    argv = [str(a) for a in argv]
    size = shutil.get_terminal_size((PTY_COLUMNS, PTY_ROWS))
    try:
        child: pexpect.spawn[bytes] = pexpect.spawn(
            argv[0], argv[1:], env=command_env(env), dimensions=(size.lines, size.columns), timeout=None,
        )
    except pexpect.ExceptionPexpect as exc:
        raise CommandFailed(f"cannot start {argv[0]}: {exc}", hint=f"is {argv[0]} installed?") from None
    if on_spawn:
        on_spawn(_pid_of(child))
    typed, shown = TerminalLines(on_input_line, keys=True), TerminalLines(on_output_line)
    stop, finished = cancel or threading.Event(), threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if stop.wait(0.2):
                child.terminate(force=True)  # interact() sees the end of the pty and returns
                return

    watcher = threading.Thread(target=watch, name="emi-interactive-watch", daemon=True)
    watcher.start()
    try:
        child.interact(escape_character=None, input_filter=typed, output_filter=shown)
        _drain_after_interact(child, shown)
    finally:
        finished.set()
        typed.flush()
        shown.flush()
        child.close(force=True)
        watcher.join()
    return child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)


def _drain_after_interact(child: pexpect.spawn[bytes], shown: Callable[[bytes], bytes]) -> None:
    """Show (and report) what the child printed just before it exited.

    interact() stops copying as soon as the child is no longer alive, so the
    last lines of a child that prints and exits at once ("echo done; exit")
    can still sit in the pty unread; they belong on the screen and in the log.
    """
    while True:
        try:
            data = child.read_nonblocking(size=65536, timeout=0.1)
        except (pexpect.EOF, pexpect.TIMEOUT, OSError):
            return
        try:
            os.write(child.STDOUT_FILENO, shown(data))
        except OSError:
            return
