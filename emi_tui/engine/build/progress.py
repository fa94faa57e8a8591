"""How far a running job has got, weighted by each step's expected time, and the time it still needs.

Both renderers (the TUI's build screen and the CLI's live view) feed a
`JobProgress` the job's events and ask it, whenever they redraw, for the
fraction done and the ETA; neither computes progress of its own.

A step counts for its expected seconds (emi_tui.engine.build.timings). While
it runs, its share is what its `StepProgress` events say (the bootstrap's
packages), or else the time it has run against the time it is expected to
take, held below its end until it really ends.

`PackageCounter` reads the bootstrap's output as it streams (debootstrap's
"I: Retrieving/Extracting/Unpacking/Configuring", apt's "Get:N",
"Unpacking", "Setting up", and mmdebstrap's phase lines) and turns it into
`StepProgress` events.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping

from emi_tui.engine.run.events import EventSink, JobEvent, JobKind, JobStarted, OutputLine, StepFinished, StepProgress, StepStarted

#: A running step with no progress of its own is shown at most this far through its share.
TIME_CAP = 0.9


class JobProgress:
    """The progress of one job, fed its events: `fraction()` and `eta()` for the renderers."""

    def __init__(self, expected: Callable[[JobKind, tuple[str, ...]], Mapping[str, float]], clock: Callable[[], float] = time.monotonic) -> None:
        """`expected(kind, steps)` gives each step's expected seconds (timings.expected_seconds over the history)."""
        self._expected_of = expected
        self._clock = clock
        self.expected: dict[str, float] = {}
        self.finished: set[str] = set()
        self.current: str | None = None
        self.started_at = 0.0
        self.step_fraction: float | None = None
        self.detail = ""

    def feed(self, event: JobEvent) -> None:
        if isinstance(event, JobStarted):
            self.expected = {step: max(0.1, float(s)) for step, s in self._expected_of(event.kind, event.steps).items()}
            self.finished, self.current, self.step_fraction, self.detail = set(), None, None, ""
        elif isinstance(event, StepStarted):
            self.current, self.started_at, self.step_fraction, self.detail = event.step, self._clock(), None, ""
            self.expected.setdefault(event.step, 5.0)
        elif isinstance(event, StepProgress) and event.step == self.current:
            self.step_fraction = max(self.step_fraction or 0.0, min(1.0, max(0.0, event.fraction)))
            self.detail = event.detail
        elif isinstance(event, StepFinished):
            self.finished.add(event.step)
            if event.step == self.current:
                self.current, self.step_fraction, self.detail = None, None, ""

    @property
    def started(self) -> bool:
        return bool(self.expected)

    def _within(self, now: float) -> float:
        """How far the running step has got (0 to 1)."""
        if self.current is None:
            return 0.0
        by_time = min(TIME_CAP, (now - self.started_at) / self.expected[self.current])
        return max(self.step_fraction or 0.0, by_time) if self.step_fraction is not None else by_time

    def fraction(self, now: float | None = None) -> float:
        """The share of the job's expected time that is behind it (0 to 1)."""
        total = sum(self.expected.values())
        if not total:
            return 0.0
        now = self._clock() if now is None else now
        done = sum(self.expected[s] for s in self.finished if s in self.expected)
        if self.current is not None and self.current not in self.finished:
            done += self.expected[self.current] * self._within(now)
        return min(1.0, done / total)

    def eta(self, now: float | None = None) -> float | None:
        """Seconds still expected (None before the plan is known)."""
        if not self.expected:
            return None
        now = self._clock() if now is None else now
        left = sum(s for step, s in self.expected.items() if step not in self.finished and step != self.current)
        if self.current is not None:
            expected = self.expected[self.current]
            elapsed = now - self.started_at
            if self.step_fraction:
                # The step's own count says how far it is: its pace so far gives the rest.
                rest = elapsed * (1 - self.step_fraction) / self.step_fraction if elapsed > 1 else expected * (1 - self.step_fraction)
            else:
                rest = expected - elapsed
            left += max(1.0, rest) if self._within(now) < 1 else 0.0
        return max(0.0, left)


def format_eta(seconds: float | None) -> str:
    """"about 1:05 left", "about 12 s left", or "" when it is not known."""
    if seconds is None:
        return ""
    whole = int(round(seconds))
    if whole < 60:
        return f"about {max(whole, 1)} s left"
    hours, rest = divmod(whole, 3600)
    clock = f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
    return f"about {clock} left"


# -- the bootstrap's packages ---------------------------------------------------------------

_FETCHED = re.compile(r"^(?:Get:\d+ \S+ .* (\S+) \S+ \S+ \[|I: Retrieving (\S+) \S+$)")
_UNPACKED = re.compile(r"^(?:I: )?(?:Unpacking|Extracting) (\S+?)(?:\.\.\.$| )")
_CONFIGURED = re.compile(r"^(?:I: )?(?:Setting up|Configuring) (\S+?)(?:\.\.\.$| )")
#: debootstrap's headings ("I: Unpacking required packages...", "I: Configuring the base system..."): no package named.
_HEADING = re.compile(r"^I: \w+ (?:required packages|the base system|core packages)\.\.\.$")
#: mmdebstrap's own phases (apt's and dpkg's lines come between them, with --verbose): how far the step is when each starts.
_PHASES = (
    ("I: downloading packages with apt", 0.05, "downloading the packages"),
    ("I: extracting archives", 0.40, "unpacking the packages"),
    ("I: installing essential packages", 0.55, "setting up the essential packages"),
    ("I: installing remaining packages", 0.70, "setting up the other packages"),
    ("I: cleaning package lists", 0.95, "cleaning up"),
    ("I: success", 1.0, "done"),
)
#: Every line the patterns above read starts with one of these: the rest (most of the log) is passed over at once.
_COUNTED_STARTS = ("Get:", "I: ", "Unpacking ", "Extracting ", "Setting up ", "Configuring ")
#: The bootstrap's share spent fetching, unpacking and setting up packages.
FETCH, UNPACK, CONFIGURE = 0.4, 0.3, 0.3


class PackageCounter:
    """An EventSink wrapper for the bootstrap step: passes every event on, and adds `StepProgress` as its output shows packages.

    `total` is how many packages the base has (the closure of the index's
    required packages and the recipe's base), or None when unknown; the
    fraction then rests on mmdebstrap's phases and the renderer's clock.
    """

    def __init__(self, sink: EventSink, step: str, total: int | None) -> None:
        self.sink = sink
        self.step = step
        self.total = total if total and total > 0 else None
        self.fetched: set[str] = set()
        self.unpacked: set[str] = set()
        self.configured: set[str] = set()
        self.phase = 0.0
        self.phase_name = ""
        self.last: tuple[float, str] | None = None

    def __call__(self, event: JobEvent) -> None:
        self.sink(event)
        if isinstance(event, OutputLine) and event.step == self.step and self._read(event.text):
            self._report()

    def _read(self, line: str) -> bool:
        """Count what `line` says; True when it said something."""
        line = line.strip()
        if not line.startswith(_COUNTED_STARTS) or _HEADING.match(line):
            return False
        for pattern, seen in ((_FETCHED, self.fetched), (_UNPACKED, self.unpacked), (_CONFIGURED, self.configured)):
            match = pattern.match(line)
            if match:
                name = next(group for group in match.groups() if group)
                seen.add(name.split(":")[0])
                return True
        for start, share, name in _PHASES:
            if line.startswith(start) and share > self.phase:
                self.phase, self.phase_name = share, name
                return True
        return False

    def fraction(self) -> float:
        total = self.total or 0
        counted = 0.0
        if total:
            counted = (FETCH * min(len(self.fetched), total) + UNPACK * min(len(self.unpacked), total)
                       + CONFIGURE * min(len(self.configured), total)) / total
        return min(1.0, max(counted, self.phase))

    def detail(self) -> str:
        counts = self._counts()
        if self.phase_name and counts:  # mmdebstrap --verbose: its phase, then apt's and dpkg's packages
            return f"{self.phase_name}: {counts}"
        if self.phase_name:
            return f"{self.phase_name} ({self.total} packages)" if self.total else self.phase_name
        return counts

    def _counts(self) -> str:
        if not (self.fetched or self.unpacked or self.configured):
            return ""
        total = f" of {self.total}" if self.total else ""
        words = [f"{len(self.fetched)}{total} packages fetched"] if self.fetched else [f"packages{total}:"]
        words += [f"{len(self.unpacked)} unpacked"] if self.unpacked else []
        words += [f"{len(self.configured)} set up"] if self.configured else []
        return ", ".join(words).replace(":,", ":")

    def _report(self) -> None:
        fraction, detail = round(self.fraction(), 3), self.detail()
        if (fraction, detail) == self.last:
            return
        self.last = (fraction, detail)
        done = max(len(self.fetched), len(self.unpacked), len(self.configured)) or None
        self.sink(StepProgress(self.step, fraction, detail, done, self.total))
