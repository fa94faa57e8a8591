"""Messages that the TUI's thread workers post to its screens.

A build's events travel in batches (`BuildEvents`), never one message per
line: the UI handles a few dozen messages a second however fast the build
prints. Progress messages can replace an older unhandled one of their kind,
so a slow UI sees the latest figure rather than a backlog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual.message import Message

from emi_tui.engine.run.events import JobEvent


class BuildEvents(Message, bubble=False):
    """A batch of build events, in the order the build emitted them.

    The handler calls `ack()` once it has shown them: until then the batcher
    counts the batch as in flight and holds further batches back.
    """

    def __init__(self, events: Sequence[JobEvent], ack: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self.events = list(events)
        self.ack = ack


class BuildEnded(Message, bubble=False):
    """The build's runner returned (`result`) or raised (`error`); posted after its last batch."""

    def __init__(self, result: Any | None, error: str | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error


class ChecksumProgress(Message, bubble=False):
    """How far the sha256 of one artifact has got."""

    def __init__(self, path: Path, done: int, total: int) -> None:
        super().__init__()
        self.path = path
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ChecksumProgress) and message.path == self.path


class ChecksumDone(Message, bubble=False):
    """The sha256 of one artifact: computed, read from its `.sha256` file, or why there is none."""

    def __init__(self, path: Path, digest: str | None, source: str) -> None:
        super().__init__()
        self.path = path
        self.digest = digest
        self.source = source


class ReviewLoaded(Message, bubble=False):
    """The review entries of some paths (or the error that stopped the review)."""

    def __init__(self, paths: Sequence[Path], entries: Sequence[Any], error: str | None = None) -> None:
        super().__init__()
        self.paths = list(paths)
        self.entries = list(entries)
        self.error = error
