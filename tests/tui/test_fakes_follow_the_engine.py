"""The TUI tests' fake build and fake modify report the engine's own steps, never a copy of them.

A hand-copied step list drifts: the modify's fake once reported an "identity"
step the engine does not have. Each fake is run with a recording sink and
what it announces (the plan, then each step with its description) must be the
engine's list, also after that list changes.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).parent))

from fake_build import FakeBuild, sample_answers
from modify_fakes import FakeModify

from emi_tui.engine.build import steps as build_steps_module
from emi_tui.engine.modify import steps as modify_steps_module
from emi_tui.engine.run.events import JobStarted, StepStarted


def announced(run) -> tuple[list[str], list[tuple[str, str]]]:
    """What a fake run tells its sink: the plan's step names, and each started step with its description."""
    events: list = []
    run(events.append)
    plan = [list(e.steps) for e in events if isinstance(e, JobStarted)]
    assert len(plan) == 1
    return plan[0], [(e.step, e.description) for e in events if isinstance(e, StepStarted)]


def run_fake_build(sink) -> None:
    answers, recipe = sample_answers()
    FakeBuild(lines_per_step=1)(answers, recipe, sink, threading.Event(), SimpleNamespace(retry=False))


def run_fake_modify(sink) -> None:
    FakeModify()(SimpleNamespace(artifact=Path("euca-debian-2026.01.02-x86_64.tgz")), sink, threading.Event())


def engine_list(steps) -> tuple[list[str], list[tuple[str, str]]]:
    return [step.name for step in steps], [(step.name, step.description) for step in steps]


def test_the_fake_build_reports_the_engines_build_steps():
    assert announced(run_fake_build) == engine_list(build_steps_module.build_steps())


def test_the_fake_modify_reports_the_engines_modify_steps():
    assert announced(run_fake_modify) == engine_list(modify_steps_module.modify_steps())


def test_the_fakes_follow_a_change_of_the_engines_lists(monkeypatch):
    real_build, real_modify = build_steps_module.build_steps(), modify_steps_module.modify_steps()
    sign = build_steps_module.Step("sign", "sign the artifacts", lambda ctx: None)
    build = [*real_build[:-1], sign, real_build[-1]]
    modify = [dataclasses.replace(step, description=f"now: {step.description}") for step in real_modify if step.name != "shell"]
    monkeypatch.setattr(build_steps_module, "build_steps", lambda: list(build))
    monkeypatch.setattr(modify_steps_module, "modify_steps", lambda: list(modify))
    assert announced(run_fake_build) == engine_list(build)
    assert announced(run_fake_modify) == engine_list(modify)
