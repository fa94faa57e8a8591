"""Runs a build off the UI thread and hands its events to a screen in batches.

The build calls its sink for every line it reads (thousands a second while
apt unpacks). `EventBatcher` is that sink: it buffers events, and a flusher
thread posts them as one `BuildEvents` message once `interval` seconds have
passed since the first buffered event or `max_batch` events are waiting, as
toolong's watcher does with lines. Back-pressure keeps memory and the UI's
queue bounded: at most `max_in_flight` batches wait for the screen, and once
`max_buffer` events are buffered the build itself waits.

Batches are also `min_gap` seconds apart. Measured on a flood: without the
gap the UI loop never idles and a key press waits 40-200 ms behind batches
and repaints; with 50 ms it waits a few ms, and the screen still takes
40,000 lines a second, far more than any build prints.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from textual.message import Message

from emi_tui.engine.run.events import JobEvent
from emi_tui.tui.messages import BuildEnded, BuildEvents

Runner = Callable[..., Any]
"""`run_build(answers, recipe, sink, cancel, options, answers_path=…) -> BuildResult` or a stand-in."""

Deliver = Callable[[list[JobEvent], Callable[[], None]], bool]


def default_runner() -> Runner:
    """The real engine, imported on first use so that screens load without the build steps."""
    from emi_tui.engine.build.job import run_build

    return run_build


def build_options(dry_run: bool = False, retry: bool = False) -> Any:
    """The engine's BuildOptions for a run started from the TUI."""
    from emi_tui.engine.build.job import BuildOptions

    return BuildOptions(dry_run=dry_run, retry=retry)


class EventBatcher:
    """An EventSink that turns a stream of events into a few bounded batches.

    Call it from the build thread; `deliver(events, ack)` is called from the
    flusher thread and returns False when nobody will handle the batch (the
    screen is gone). `abandoned()` says the consumer went away: back-pressure
    stops, and `cancel` is set so that the build stops and cleans up.
    """

    def __init__(
        self,
        deliver: Deliver,
        *,
        interval: float = 0.05,
        max_batch: int = 2000,
        max_buffer: int = 8000,
        max_in_flight: int = 1,
        min_gap: float = 0.05,
        cancel: threading.Event | None = None,
        abandoned: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.max_batch = max_batch
        self.max_buffer = max(max_buffer, max_batch)
        self.max_in_flight = max_in_flight
        self.min_gap = min_gap
        self.batches = 0
        self.events = 0
        self.peak_buffer = 0
        self._deliver = deliver
        self._cancel = cancel
        self._abandoned = abandoned
        self._clock = clock
        self._cond = threading.Condition()
        self._buffer: list[JobEvent] = []
        self._first_at = 0.0  # when the oldest buffered event arrived
        self._in_flight = 0
        self._last_sent = float("-inf")
        self._closing = False
        self._thread = threading.Thread(target=self._flush_loop, name="emi-tui-batcher", daemon=True)

    def start(self) -> EventBatcher:
        self._thread.start()
        return self

    def __call__(self, event: JobEvent) -> None:
        with self._cond:
            while len(self._buffer) >= self.max_buffer and not self._gone():
                self._cond.wait(0.1)
            if not self._buffer:
                self._first_at = self._clock()
                self._cond.notify_all()  # the flusher starts timing this batch
            self._buffer.append(event)
            if len(self._buffer) > self.peak_buffer:
                self.peak_buffer = len(self._buffer)
            if len(self._buffer) >= self.max_batch:
                self._cond.notify_all()

    def close(self) -> None:
        """Deliver whatever is buffered, then stop the flusher (call once the build has returned)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()

    def _gone(self) -> bool:
        if self._abandoned():
            if self._cancel is not None and not self._cancel.is_set():
                self._cancel.set()
            return True
        return False

    def _make_ack(self) -> Callable[[], None]:
        done = False

        def ack() -> None:
            nonlocal done
            with self._cond:
                if not done:  # a second ack of one batch must not open room for another
                    done = True
                    self._in_flight -= 1
                    self._cond.notify_all()

        return ack

    def _next_batch(self) -> list[JobEvent] | None:
        with self._cond:
            while True:
                if self._buffer:
                    now = self._clock()
                    waited = now - self._first_at
                    ready = len(self._buffer) >= self.max_batch or waited >= self.interval or self._closing
                    gap = self.min_gap - (now - self._last_sent)
                    if ready and gap > 0 and not self._closing:
                        self._cond.wait(gap)
                        continue
                    if ready and (self._in_flight < self.max_in_flight or self._gone()):
                        batch = self._buffer[: self.max_batch]
                        # What stays behind keeps its arrival time, so it goes out next without waiting again.
                        del self._buffer[: self.max_batch]
                        self._in_flight += 1
                        self._last_sent = now
                        self._cond.notify_all()  # the build may be waiting for room
                        return batch
                    timeout = 0.1 if ready else max(0.001, self.interval - waited)
                elif self._closing:
                    return None
                else:
                    timeout = 0.1
                self._cond.wait(timeout)
                self._gone()

    def _flush_loop(self) -> None:
        while (batch := self._next_batch()) is not None:
            self.batches += 1
            self.events += len(batch)
            ack = self._make_ack()
            if not self._deliver(batch, ack):
                ack()


def run_build_job(
    post: Callable[[Message], bool],
    *,
    answers: Any,
    recipe: Any,
    answers_path: Path | None,
    options: Any,
    cancel: threading.Event,
    runner: Runner | None = None,
    abandoned: Callable[[], bool] = lambda: False,
    **batching: Any,
) -> EventBatcher:
    """Run one build on this (worker) thread: batches of events, then one `BuildEnded`.

    `post` is a screen's `post_message` (thread-safe in Textual). `BuildEnded`
    is posted after the last batch, so the screen has every event by then.
    """
    runner = runner or default_runner()
    return run_in_batches(post, lambda sink: runner(answers, recipe, sink, cancel, options, answers_path=answers_path),
                          cancel=cancel, abandoned=abandoned, **batching)


def run_in_batches(
    post: Callable[[Message], bool], call: Callable[[EventBatcher], Any], *, cancel: threading.Event,
    abandoned: Callable[[], bool] = lambda: False, **batching: Any,
) -> EventBatcher:
    """Run `call(sink)` (the engine) on this worker thread with an EventBatcher as its sink, then post `BuildEnded`."""
    batcher = EventBatcher(
        lambda events, ack: post(BuildEvents(events, ack)), cancel=cancel, abandoned=abandoned, **batching
    ).start()
    result, error = None, None
    try:
        result = call(batcher)
    except Exception as exc:  # the engine reports failures as events; anything raised is shown, not lost
        error = f"{type(exc).__name__}: {exc}"
    finally:
        batcher.close()
    post(BuildEnded(result, error))
    return batcher


#: A BuildScreen job: job(post, cancel, abandoned, retry, **batching) runs the engine on the worker thread.
Job = Callable[..., Any]


def default_modify_runner(request: Any, sink: Any, cancel: threading.Event) -> Any:
    """The real modify engine, imported on first use."""
    from emi_tui.engine.modify.job import run_modify

    return run_modify(request, sink, cancel)


def modify_job(request: Any, runner: Callable[..., Any] | None = None) -> Job:
    """A job that runs `run_modify(request)`; a retry starts again from the (untouched) original artifact.

    Bad input the wizard did not catch (an artifact changed since it was read)
    comes back from the engine as an EmiError: it is shown as the failure, with its hint.
    """
    run = runner or default_modify_runner

    def job(post: Callable[[Message], bool], cancel: threading.Event, abandoned: Callable[[], bool], retry: bool, **batching: Any) -> EventBatcher:
        return run_in_batches(post, lambda sink: _refused_or_run(run, request, sink, cancel), cancel=cancel, abandoned=abandoned, **batching)

    return job


def _refused_or_run(run: Callable[..., Any], request: Any, sink: Any, cancel: threading.Event) -> Any:
    from emi_tui.engine.errors import EmiError
    from emi_tui.engine.modify.job import ModifyResult

    try:
        return run(request, sink, cancel)
    except EmiError as exc:
        return ModifyResult(ok=False, failed_step="check", message=exc.message, hint=exc.hint, bad_artifact=True)


def terminal_handover(app: Any) -> Callable[[], AbstractContextManager[None]]:
    """A `ModifyRequest.shell_wrapper` for the TUI: the app suspends itself while the shell has the terminal.

    The shell step runs on the worker thread, but suspending and resuming the
    app must happen on its own loop: both go through `call_from_thread`.
    Repaints are held back meanwhile (`batch_update`): a suspended driver's
    writer no longer drains its bounded queue, so the log and the step timer
    repainting behind the shell would block the app's loop for good.
    """

    @contextmanager
    def handed_over() -> Iterator[None]:
        held, suspension = app.batch_update(), app.suspend()

        def step_aside() -> None:
            held.__enter__()
            try:
                suspension.__enter__()
            except BaseException:  # no terminal to hand over: paint again, and the shell step fails with the reason
                held.__exit__(None, None, None)
                raise

        def come_back() -> None:
            try:
                suspension.__exit__(None, None, None)
            finally:
                held.__exit__(None, None, None)

        app.call_from_thread(step_aside)
        try:
            yield
        finally:
            app.call_from_thread(come_back)

    return handed_over
