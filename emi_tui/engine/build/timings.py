"""How long each step of a job is expected to take: the last builds' step timings, kept in the data folder.

The progress of a running job (emi_tui.engine.build.progress) weighs each step
by its expected time, so a 60-second bootstrap counts for more than a
one-second hygiene step. A finished build (or modify) records how long each
step that did its work took; the expected time of a step is the median of its
last few runs, or a default from `DEFAULT_SECONDS` when there is no history.

The file is only a hint: it is read bounded (`MAX_BYTES`), through no
symlink, and anything in it that is not what we wrote (not JSON, a wrong
shape, a time that is not a plain positive number) is ignored, so the
defaults apply. It is replaced whole (safefs.write_atomic: a new unguessable
name created with O_EXCL|O_NOFOLLOW, then renamed), and a failure to write it
never fails a build.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

from emi_tui.engine import paths
from emi_tui.engine.build.history import record_outcome
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.events import EventSink, JobDone, JobEvent, JobFailed, JobKind, JobStarted, StepFinished, StepOutcome
from emi_tui.engine.safefs import read_small, write_atomic

FORMAT = 1
MAX_BYTES = 64 * 1024
KEEP = 5  # runs remembered per step
MAX_STEP_NAME = 40
MAX_SECONDS = 24 * 3600.0

#: Seconds each step takes when no history says better: the logs of debian-based builds on a 2-core workstation,
#: rounded up (a cold bootstrap: about 20 s with mmdebstrap, 50 s with debootstrap; a chroot with added packages: more).
DEFAULT_SECONDS: dict[JobKind, dict[str, float]] = {
    JobKind.BUILD: {
        "preflight": 2, "bootstrap": 40, "chroot": 10, "hygiene": 1, "kernel": 1, "filesystem": 1, "zerofree": 1, "package": 6,
    },
    JobKind.MODIFY: {
        "preflight": 1, "unpack": 2, "grow": 1, "mount": 1, "packages": 10, "script": 1, "metadata": 1, "shell": 1,
        "image-id": 1, "kernel": 1, "hygiene": 1, "check": 1, "zerofree": 1, "package": 6,
    },
}
UNKNOWN_STEP_SECONDS = 5.0


def timings_path() -> Path:
    """The step timings file in the user's data folder (~/.local/share/emi-tui/step-timings.json)."""
    return paths.data_dir() / "step-timings.json"


def _plain_seconds(value: object) -> float | None:
    """`value` when it is a plausible duration in seconds, else None."""
    if type(value) not in (int, float):
        return None
    seconds = float(value)  # type: ignore[arg-type]
    return seconds if math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS else None


def read_history(path: Path | None = None) -> dict[str, dict[str, list[float]]]:
    """kind -> step -> the last runs' seconds, from the timings file; {} when it is missing or not ours."""
    data = read_small(path or timings_path(), MAX_BYTES)
    if data is None or len(data) > MAX_BYTES:
        return {}
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(document.get("kinds"), dict):
        return {}
    history: dict[str, dict[str, list[float]]] = {}
    for kind, steps in document["kinds"].items():
        if kind not in JobKind.__members__.values() or not isinstance(steps, dict):
            continue
        for step, runs in steps.items():
            if not isinstance(step, str) or len(step) > MAX_STEP_NAME or not isinstance(runs, list):
                continue
            kept = [s for s in (_plain_seconds(r) for r in runs[-KEEP:]) if s is not None]
            if kept:
                history.setdefault(kind, {})[step] = kept
    return history


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def expected_seconds(kind: JobKind, steps: Iterable[str], history: Mapping[str, Mapping[str, list[float]]] | None = None) -> dict[str, float]:
    """Each of `steps`' expected seconds: the median of its recorded runs, else its default."""
    recorded = (history or {}).get(str(kind), {})
    defaults = DEFAULT_SECONDS.get(kind, {})
    return {step: _median(list(recorded[step])) if recorded.get(step) else float(defaults.get(step, UNKNOWN_STEP_SECONDS)) for step in steps}


def from_history(kind: JobKind, steps: Iterable[str]) -> dict[str, float]:
    """Each of `steps`' expected seconds from the timings file (a JobProgress's `expected`)."""
    return expected_seconds(kind, steps, read_history())


def record(kind: JobKind, seconds: Mapping[str, float], path: Path | None = None) -> bool:
    """Add one job's step timings to the file; False (and nothing said) when it cannot be written."""
    path = path or timings_path()
    history = read_history(path)
    steps = history.setdefault(str(kind), {})
    for step, took in seconds.items():
        if len(step) <= MAX_STEP_NAME and _plain_seconds(took) is not None:
            steps[step] = [*steps.get(step, []), round(float(took), 2)][-KEEP:]
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"format": FORMAT, "kinds": history}, indent=1, sort_keys=True), 0o600)
    except (OSError, EmiError):
        return False
    return True


class RecordingSink:
    """An EventSink (of a real build) that passes every event on and records how long its steps took, and how it ended.

    Only steps that did their work count: a step taken from the cache or
    skipped says nothing about how long its work takes. How it ended is kept
    beside its answers when they are in the history folder (history.record_outcome).
    """

    def __init__(self, sink: EventSink, path: Path | None = None) -> None:
        self.sink = sink
        self.path = path
        self.kind: JobKind | None = None
        self.seconds: dict[str, float] = {}
        self.answers_path: Path | None = None

    def __call__(self, event: JobEvent) -> None:
        if isinstance(event, JobStarted):
            self.kind, self.seconds, self.answers_path = event.kind, {}, event.answers_path
        elif isinstance(event, StepFinished) and event.outcome is StepOutcome.DONE:
            self.seconds[event.step] = event.seconds
        elif isinstance(event, JobDone):
            if self.seconds:
                record(event.kind, self.seconds, self.path)
            self._ended("built")
        elif isinstance(event, JobFailed):
            self._ended("cancelled" if event.cancelled else "failed")
        self.sink(event)

    def _ended(self, outcome: str) -> None:
        if self.answers_path is not None:
            record_outcome(self.answers_path, outcome)
