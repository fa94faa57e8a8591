"""The events a job (a build or a modify) emits: the one interface between the engine and its renderers.

The job runner (emi_tui.engine.run.job) calls an `EventSink` with these; the
headless CLI renders them with rich, the TUI turns batches of them into
Textual messages. Neither renderer holds job logic. Events carry flags and
enums (`JobKind`, `StepOutcome`, `JobFailed.cancelled`), never meaning hidden
in the wording of a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Literal, TypedDict

from emi_tui.engine.text import redact_secrets


class JobKind(StrEnum):
    """What a job makes: a new image from an answer file, or a new version of an existing one."""

    BUILD = "build"
    MODIFY = "modify"

    def __str__(self) -> str:
        return self.value


class StepOutcome(StrEnum):
    """How a step ended: it did its work, had nothing to do, or took its result from the cache."""

    DONE = "done"
    SKIPPED = "skipped"
    CACHED = "cached"

    def __str__(self) -> str:
        return self.value


class JobFacts(TypedDict, total=False):
    """What a job's steps learn and later steps (and the renderers) use: each key is set by the step that learns it.

    A build sets the cache and estimate keys and `kernel_files`; a modify sets
    `old_image_id`, `before`, `answers_text` and the package diff; both set the
    image-id, the manifest and what packaging wrote.
    """

    cache_key: str  # the bootstrapped base's cache key (build)
    cache: Literal["hit", "miss"]  # whether the base came from the cache (build)
    estimate_bytes: int  # what the packages need, from the mirror's index (build)
    kernel_files: list[Path]  # the kernel and ramdisk copied out of /boot
    image_id: str  # the new /etc/image-id
    manifest: dict[str, str]  # the installed packages: name -> version
    partials: list[Path]  # the partial artifacts, before they are published
    sha256: str  # the tarball's (or image's) checksum
    artifact_bytes: int  # its size
    old_image_id: str  # the image's /etc/image-id before the modify
    before: dict[str, str]  # the packages installed before the modify: name -> version
    answers_text: str  # the stored answers the modified image carries, lineage included
    added: dict[str, str]  # the modify's package diff: name -> version
    removed: dict[str, str]
    upgraded: dict[str, tuple[str, str]]  # name -> (old version, new version)


@dataclass(frozen=True)
class JobStarted:
    """The plan is fixed: these steps will run, in this order."""

    steps: tuple[str, ...]
    log_path: Path
    answers_path: Path
    kind: JobKind


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
class StepProgress:
    """How far the running step has got, when its output says so (the bootstrap's packages fetched and unpacked).

    `fraction` is of the step's own work (0 to 1); `detail` says it in words
    ("57 of 160 packages fetched, 40 unpacked"); `done` and `total` are the
    counts behind it when there are any.
    """

    step: str
    fraction: float
    detail: str
    done: int | None = None
    total: int | None = None


@dataclass(frozen=True)
class StepFinished:
    step: str
    seconds: float
    outcome: StepOutcome = StepOutcome.DONE
    note: str = ""

    @property
    def skipped(self) -> bool:
        """Whether the step's own work did not run (skipped, or taken from the cache): renderers show both alike."""
        return self.outcome is not StepOutcome.DONE


@dataclass(frozen=True)
class JobFailed:
    """The job stopped: which step, why, and where the full log is."""

    step: str
    message: str
    hint: str
    log_path: Path
    last_lines: tuple[str, ...] = ()
    cancelled: bool = False
    kind: JobKind | None = None  # None only in a renderer's own stand-in for a failure it was not told of


@dataclass(frozen=True)
class JobDone:
    """Everything is written: the artifacts (final names) and the image-id text."""

    artifacts: tuple[Path, ...]
    image_id: str
    seconds: float
    details: JobFacts
    kind: JobKind


JobEvent = JobStarted | StepStarted | OutputLine | StepProgress | StepFinished | JobFailed | JobDone
EventSink = Callable[[JobEvent], None]


def without_secrets(event: JobEvent) -> JobEvent:
    """`event` with every URL's password redacted from its text (the log and the renderers get this one)."""
    if isinstance(event, OutputLine):
        return replace(event, text=redact_secrets(event.text))
    if isinstance(event, StepFinished):
        return replace(event, note=redact_secrets(event.note))
    if isinstance(event, JobFailed):
        return replace(event, message=redact_secrets(event.message), hint=redact_secrets(event.hint))
    return event
