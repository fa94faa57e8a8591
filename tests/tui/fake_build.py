"""A stand-in for `emi_tui.engine.build.job.run_build`, and a small App to mount one screen in tests.

`FakeBuild` has run_build's signature and emits the engine's own steps (names
and descriptions from `build_steps()`, read at every run) with realistic
output: it can fail at a step (on its first run only, so Retry succeeds), hold
at a step until cancelled, print slowly, or flood.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen

from emi_tui.engine.answers.model import Answers, resolve
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build import steps as build_steps_module
from emi_tui.engine.build.job import BuildResult
from emi_tui.engine.image.imageid import ImageId
from emi_tui.engine.run.events import (
    JobDone,
    JobFailed,
    JobKind,
    JobStarted,
    OutputLine,
    StepFinished,
    StepOutcome,
    StepProgress,
    StepStarted,
)

#: Sample output for the engine's steps; a step the engine adds later prints generic lines until it gets its own.
OUTPUT = {
    "preflight": ["running as root: yes", "debootstrap 1.0.128+nmu2", "free space in /dev/shm: 7.8 GB", "estimated root size: 612 MB"],
    "bootstrap": [
        "I: Retrieving InRelease",
        "I: Checking Release signature",
        "I: Retrieving Packages",
        "I: Resolving dependencies of required packages...",
        "I: Extracting base-files...",
        "I: Unpacking libc6:amd64...",
    ],
    "chroot": [
        "Reading package lists...",
        "Building dependency tree...",
        "The following NEW packages will be installed:",
        "  openssh-server curl",
        "Unpacking openssh-server (1:9.2p1-2+deb12u3) ...",
        "Setting up curl (7.88.1-10+deb12u8) ...",
    ],
    "hygiene": ["removed /var/cache/apt/archives/*.deb", "removed /etc/ssh/ssh_host_*_key*", "emptied /etc/machine-id", "umount /proc"],
    "kernel": ["copied /boot/vmlinuz-6.1.0-28-amd64 (8,194,048 bytes)", "copied /boot/initrd.img-6.1.0-28-amd64 (33,554,432 bytes)"],
    "filesystem": [
        "mke2fs 1.47.0 (5-Feb-2023)",
        "Creating regular file euca-debian-2026.11.28-x86_64.img",
        "Copying files into the device: done",
        "e2fsck: 41236/85344 files, 169812/340787 blocks",
    ],
    "zerofree": ["zerofree -v euca-debian-2026.11.28-x86_64.img", "171023/340787/340787"],
    "package": ["tar -cf - euca-debian-2026.11.28-x86_64 | pigz -9", "euca-debian-2026.11.28-x86_64.tgz: 312,442,112 bytes"],
}


def engine_steps() -> tuple[tuple[str, str], ...]:
    """(name, description) of every build step, as the engine runs them now."""
    return tuple((step.name, step.description) for step in build_steps_module.build_steps())


LOG_PATH = Path("/var/lib/emi-tui/logs/20261128-210640-4242-euca-debian-2026.11.28-x86_64.log")
#: The image-id the fake build stamps (the snapshots' Review screen lists it too).
STAMPED_ID = ImageId.stamped(
    name="euca-debian-emi",
    version="2026.11.28",
    arch="x86_64",
    file="euca-debian-2026.11.28-x86_64.img",
    recipe="debian-based",
    epoch_seconds=1795900000,
)
IMAGE_ID = STAMPED_ID.render()


#: The fake returns what the engine returns.
FakeResult = BuildResult


class FakeBuild:
    """run_build's signature; records the options of every call in `calls`."""

    def __init__(
        self,
        *,
        lines_per_step: int = 3,
        fail_at: str | None = None,
        fail_times: int = 1,
        hold_at: str | None = None,
        delay: float = 0.0,
        artifacts: list[Path] | None = None,
        step_seconds: float = 75.0,
        skip: tuple[str, ...] = (),
        cache_hit: bool = False,
        progress: dict[str, list[StepProgress]] | None = None,
    ) -> None:
        self.lines_per_step = lines_per_step
        self.fail_at = fail_at
        self.fail_times = fail_times
        self.hold_at = hold_at
        self.delay = delay
        self.artifacts = artifacts or []
        self.step_seconds = step_seconds
        self.skip = skip
        self.cache_hit = cache_hit  # the bootstrap takes the base from the cache (outcome CACHED)
        self.progress = progress or {}  # StepProgress events a step emits after its lines
        self.calls: list[Any] = []
        self.emitted_lines = 0
        self.holding = threading.Event()

    def __call__(self, answers, recipe, sink, cancel: threading.Event, options, answers_path: Path | None = None) -> FakeResult:
        self.calls.append(options)
        steps = engine_steps()
        sink(JobStarted(tuple(name for name, _ in steps), LOG_PATH, answers_path or Path("-"), JobKind.BUILD))
        if getattr(options, "retry", False):
            sink(OutputLine(steps[0][0], "retry: starting again from the cached base"))
            self.emitted_lines += 1
        for index, (name, description) in enumerate(steps):
            sink(StepStarted(name, description, index))
            samples = OUTPUT.get(name) or [f"{name}: working"]
            tail: list[str] = []
            for number in range(self.lines_per_step):
                text = (
                    samples[number % len(samples)]
                    if self.lines_per_step <= len(samples)
                    else f"{samples[number % len(samples)]} [{number}]"
                )
                sink(OutputLine(name, text))
                self.emitted_lines += 1
                tail.append(text)
                if self.delay:
                    time.sleep(self.delay)
                if cancel.is_set():
                    return self._stopped(sink, name, tail, cancelled=True)
            for event in self.progress.get(name, ()):
                sink(event)
            if name == self.hold_at:
                self.holding.set()
                cancel.wait()
                sink(OutputLine(name, "terminating the running command"))
                self.emitted_lines += 1
                return self._stopped(sink, name, tail, cancelled=True)
            if name == self.fail_at and len(self.calls) <= self.fail_times:
                return self._stopped(sink, name, tail, cancelled=False)
            outcome = StepOutcome.SKIPPED if name in self.skip else StepOutcome.DONE
            if name == "bootstrap" and self.cache_hit:
                outcome = StepOutcome.CACHED
            sink(StepFinished(name, self.step_seconds, outcome, note="from cache" if name == "bootstrap" else ""))
        seconds = self.step_seconds * len(steps)
        facts = {"kernel_files": [Path("/work/kvm-kernel/vmlinuz-6.1.0-28-amd64"), Path("/work/kvm-kernel/initrd.img-6.1.0-28-amd64")]}
        sink(JobDone(tuple(self.artifacts), IMAGE_ID, seconds, facts, JobKind.BUILD))
        return FakeResult(True, list(self.artifacts), IMAGE_ID, LOG_PATH, seconds=seconds, facts=facts)

    def _stopped(self, sink, step: str, tail: list[str], cancelled: bool) -> FakeResult:
        if cancelled:
            message, hint = "cancelled", ""
        else:
            message = "apt-get install exited with status 100"
            hint = "E: Unable to locate package openssh-servr: check packages.add in the answers"
        sink(JobFailed(step, message, hint, LOG_PATH, tuple(tail[-12:]), cancelled, JobKind.BUILD))
        return FakeResult(False, [], "", LOG_PATH, failed_step=step, message=message, hint=hint)


def sample_answers(output_dir: str = "./images", kernel: bool = True) -> tuple[Answers, Any]:
    """Resolved answers for the debian-based recipe (a fixed date and mirror: no workstation lookups)."""
    recipe = RecipeBook().get("debian-based")
    answers = Answers.model_validate(
        {"version": 1, "recipe": "debian-based", "mirror": "http://mirror.example/debian", "kernel": kernel, "output": {"dir": output_dir}}
    )
    return resolve(answers, recipe, date(2026, 11, 28)), recipe


class ScreenApp(App):
    """A bare App that shows one screen: screens are tested without the wizard."""

    def __init__(self, make_screen: Callable[[], Screen], theme: str | None = None) -> None:
        super().__init__()
        self._make_screen = make_screen
        self._theme_name = theme
        self.screen_under_test: Screen | None = None
        self.dismissed: list[Any] = []

    def on_mount(self) -> None:
        if self._theme_name:
            self.theme = self._theme_name
        self.screen_under_test = self._make_screen()
        self.push_screen(self.screen_under_test, self.dismissed.append)


def async_test(test: Callable[..., Any]) -> Callable[..., Any]:
    """Runs an async test function on its own event loop (no pytest-asyncio here)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(test(*args, **kwargs))

    return run


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Let the app run until `condition()` holds (the build runs in a thread).

    `timeout` is a hang guard, not a speed target: a loaded CI machine may take seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the screen")
        await pilot.pause(0.02)
    await pilot.pause()


def build_screen_app(fake: FakeBuild, **kwargs) -> ScreenApp:
    """The build screen alone, running `fake` on the sample answers."""
    from emi_tui.tui.screens.job.build import BuildScreen  # here, so that fakes load before the screens they stand in for

    answers, recipe = sample_answers()
    return ScreenApp(lambda: BuildScreen(answers, recipe, Path("answers.yaml"), runner=fake, **kwargs))


def static_text(screen, selector: str) -> str:
    """What the Static at `selector` shows, as plain text."""
    from textual.widgets import Static

    return str(screen.query_one(selector, Static).render())
