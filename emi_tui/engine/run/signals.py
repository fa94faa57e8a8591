"""Signals belong to the process, not to one job: SIGINT, SIGTERM and SIGHUP cancel every running job.

Several jobs may run at once, each on a thread of its own (a later issue
builds a whole catalog in parallel). Python lets only the main thread install
a signal handler, so the main thread holds the handlers (`handlers_installed`)
while jobs run, and each job registers its cancel event (`cancelled_by_signals`)
for as long as it runs, teardown included. A signal sets the cancel event of
every registered job: each stops at its next command and tears down. A second
Ctrl-C during a teardown only sets them again; it never cuts the cleanup
short. The handlers stay installed until the last job's teardown has ended;
then the previous handlers come back.

A job run on the main thread (the CLI) holds the handlers itself. A job on
another thread with no holder (the TUI's worker: the app has handlers of its
own that set the job's cancel event) is registered but installs nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: What `signal.signal` returns and takes back: a Python handler, SIG_DFL or SIG_IGN (ints),
#: or None for a handler set outside Python.
Handler = Callable[[int, FrameType | None], object] | int | None


class _Registry:
    """The process's one set of signal handlers and the cancel events of the jobs running now."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        # Replaced whole, never changed in place: the handler reads it without a lock (it may run
        # on the main thread while that thread holds the condition's lock).
        self._jobs: tuple[threading.Event, ...] = ()
        self._holders = 0
        self._previous: dict[int, Handler] = {}

    def handle(self, signum: int, frame: FrameType | None) -> None:
        for cancel in self._jobs:
            cancel.set()

    @property
    def installed(self) -> bool:
        return bool(self._previous)

    def hold(self) -> None:
        """Install the handlers (main thread only), or count one more holder of those installed."""
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("signal handlers can only be installed from the main thread")
        with self._changed:
            if self._holders == 0:
                self._previous = {sig: signal.signal(sig, self.handle) for sig in SIGNALS}
            self._holders += 1

    def release(self) -> None:
        """Drop one holder; the last one waits for every registered job's teardown, then restores the handlers."""
        with self._changed:
            if self._holders == 1:
                # Short waits: a signal arriving meanwhile is handled between them.
                while self._jobs:
                    self._changed.wait(0.2)
                for sig, previous in self._previous.items():
                    signal.signal(sig, signal.SIG_DFL if previous is None else previous)  # None: set outside Python
                self._previous = {}
            self._holders -= 1

    def register(self, cancel: threading.Event) -> None:
        with self._changed:
            self._jobs = (*self._jobs, cancel)

    def unregister(self, cancel: threading.Event) -> None:
        with self._changed:
            jobs = list(self._jobs)
            jobs.remove(cancel)
            self._jobs = tuple(jobs)
            self._changed.notify_all()

    def running(self) -> int:
        return len(self._jobs)


_REGISTRY = _Registry()


@contextmanager
def handlers_installed() -> Iterator[None]:
    """On the main thread, around jobs run on other threads: a signal cancels all of them.

    Leaving the block waits until every job registered meanwhile has finished
    its teardown, so the handlers are never gone while a job still cleans up.
    """
    _REGISTRY.hold()
    try:
        yield
    finally:
        _REGISTRY.release()


@contextmanager
def cancelled_by_signals(cancel: threading.Event) -> Iterator[None]:
    """Around one job, teardown included: SIGINT, SIGTERM and SIGHUP set `cancel`.

    On the main thread the job holds the handlers itself; on another thread it
    relies on a holder (`handlers_installed`) or on its caller's own handlers.
    """
    holding = threading.current_thread() is threading.main_thread()
    if holding:
        _REGISTRY.hold()
    _REGISTRY.register(cancel)
    try:
        yield
    finally:
        _REGISTRY.unregister(cancel)
        if holding:
            _REGISTRY.release()


def handlers_are_installed() -> bool:
    """Whether emi-tui's handlers are in place now (for tests and for a renderer deciding who owns Ctrl-C)."""
    return _REGISTRY.installed


def running_jobs() -> int:
    """How many jobs a signal would cancel now."""
    return _REGISTRY.running()
