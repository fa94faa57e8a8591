"""One real build from an answer file's text, timed whole and step by step: what every build benchmark measures."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build.job import BuildOptions, run_build
from emi_tui.engine.run.events import StepFinished


def timed_build(answers_text: str, label: str = "build") -> tuple[float, dict[str, float], Path]:
    """Seconds for the whole build, seconds per step, and the artifact; SystemExit naming `label` when it fails."""
    checked = validate_bytes(answers_text, "bench.yaml", RecipeBook())
    assert checked.ok, checked.problems
    steps: dict[str, float] = {}

    def sink(event: object) -> None:
        if isinstance(event, StepFinished):
            steps[event.step] = event.seconds

    began = time.monotonic()
    result = run_build(checked.answers, checked.recipe, sink, threading.Event(), BuildOptions())
    if not result.ok:
        raise SystemExit(f"{label} failed in {result.failed_step}: {result.message} (log {result.log_path})")
    return time.monotonic() - began, steps, result.artifacts[0]
