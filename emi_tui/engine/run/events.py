"""The events a build emits: the one interface between the engine and its renderers.

The build (emi_tui.engine.build.job) calls an `EventSink` with these; the headless
CLI renders them with rich, the TUI turns batches of them into Textual
messages. Neither renderer holds build logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Union


@dataclass(frozen=True)
class JobStarted:
    """The plan is fixed: these steps will run, in this order."""

    steps: tuple[str, ...]
    log_path: Path
    answers_path: Path


@dataclass(frozen=True)
class StepStarted:
    step: str
    description: str
    index: int


@dataclass(frozen=True)
class OutputLine:
    """One line of a command's output (or a note of emi-tui's own) inside a step."""

    step: str
    text: str


@dataclass(frozen=True)
class StepFinished:
    step: str
    seconds: float
    skipped: bool = False
    note: str = ""


@dataclass(frozen=True)
class JobFailed:
    """The build stopped: which step, why, and where the full log is."""

    step: str
    message: str
    hint: str
    log_path: Path
    last_lines: tuple[str, ...] = ()
    cancelled: bool = False


@dataclass(frozen=True)
class JobDone:
    """Everything is written: the artifacts (final names) and the image-id text."""

    artifacts: tuple[Path, ...]
    image_id: str
    seconds: float
    details: dict = field(default_factory=dict)


JobEvent = Union[JobStarted, StepStarted, OutputLine, StepFinished, JobFailed, JobDone]
EventSink = Callable[[JobEvent], None]
