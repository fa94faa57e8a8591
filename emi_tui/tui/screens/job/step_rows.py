"""What the build screen draws of its steps: each step's state and time, and a dry run's plan.

Kept apart from the screen (emi_tui.tui.screens.job.build), which owns the
running; these only turn what it learned into text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from textual.content import Content

from emi_tui.engine.run.events import JobEvent, OutputLine, StepStarted

#: How a step's state is drawn: icon and theme colour.
STATE_LOOK = {
    "pending": ("·", "$text-muted"),
    "running": ("▶", "$accent"),
    "done": ("✓", "$success"),
    "skipped": ("↷", "$text-muted"),
    "failed": ("✗", "$error"),
    "cancelled": ("■", "$warning"),
}


def format_elapsed(seconds: float) -> str:
    """0:07, 12:34, 1:02:03."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class StepRow:
    """One step as the screen shows it."""

    name: str
    state: str = "pending"
    started: float | None = None
    seconds: float | None = None
    note: str = ""


def render_rows(rows: Iterable[StepRow], now: float) -> Content | str:
    """Every step on a line: its state's icon, its name and its time (running: so far)."""
    rows = list(rows)
    width = max((len(row.name) for row in rows), default=10)
    lines = []
    for row in rows:
        icon, colour = STATE_LOOK[row.state]
        if row.state == "running" and row.started is not None:
            elapsed = format_elapsed(now - row.started)
        elif row.state == "skipped":
            elapsed = "skip"
        elif row.seconds is not None:
            elapsed = format_elapsed(row.seconds)
        else:
            elapsed = ""
        name_style = "bold" if row.state == "running" else ("$text-muted" if row.state == "pending" else "")
        lines.append(Content.assemble((icon, colour), " ", (f"{row.name:<{width}}", name_style), f" {elapsed:>7}"))
    return Content("\n").join(lines) if lines else "waiting for the plan…"


@dataclass
class DryRunPlan:
    """A dry run's plan as it streams: each step's description, and the commands and writes it would do."""

    max_lines: int = 10_000
    steps: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    lines: int = 0

    def feed(self, event: JobEvent) -> None:
        if isinstance(event, StepStarted):
            self.steps.setdefault(event.step, (event.description, []))
        elif isinstance(event, OutputLine) and event.step in self.steps and self.lines < self.max_lines:
            self.steps[event.step][1].append(event.text)
            self.lines += 1

    def text(self) -> str:
        parts = []
        for number, (step, (description, lines)) in enumerate(self.steps.items(), start=1):
            parts.append(f"{number}. {step}: {description}")
            parts.extend(f"   {line}" for line in lines)
        return "\n".join(parts)
