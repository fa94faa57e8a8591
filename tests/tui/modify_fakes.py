"""Stand-ins for the modify's slow parts in the wizard's tests: reading an artifact, and run_modify itself.

`FakeModify` emits the engine's own modify steps (names and descriptions from
`modify_steps()`, read at every run), so the screens are tested with the plan
the real modify reports.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from emi_tui.engine.artifact.read import HygieneCheck
from emi_tui.engine.modify import steps as modify_steps_module
from emi_tui.engine.modify.job import ArtifactSurvey, ModifyResult
from emi_tui.engine.review.review import Finding, ReviewEntry
from emi_tui.engine.review.stampcheck import StampCheck
from emi_tui.engine.run.events import JobDone, JobFailed, JobKind, JobStarted, OutputLine, StepFinished, StepStarted
from emi_tui.tui.state.modify_state import ArtifactLook

OLD_ID = 'image_name="euca-debian-emi"\nimage_version="2026.01.02"\nrecipe_name="debian-based"\n'
NEW_ID = 'image_name="euca-debian-emi"\nimage_version="2026.11.28"\nrecipe_name="debian-based"\n'
#: The image's stored answers: htop added, sudo trimmed, the metadata as the build had it.
STORED = """\
version: 1
recipe: debian-based
release: bookworm
arch: x86_64
size: 1.3G
packages:
  add: [htop]
  remove: [sudo]
metadata:
  ssh_key: root
"""


def fake_reader(stored: str | None = STORED, error: str | None = None, fields: dict | None = None):
    """An artifact_reader answering for any path: a 1.3 GB gzip tarball with these stored answers."""
    calls: list[str] = []

    def read(text: str) -> ArtifactLook:
        calls.append(text)
        if error:
            return ArtifactLook(text, error=error)
        survey = ArtifactSurvey(Path(text), "tarball", "gzip", "euca/euca.img", ["euca"], 1300 * 1024**2)
        found = fields or {"image_name": "euca-debian-emi", "image_version": "2026.01.02", "recipe_name": "debian-based"}
        hygiene = [HygieneCheck("no shell history", True, "none"), HygieneCheck("no package caches", False, "found /var/cache/apt/archives/htop.deb")]
        entry = ReviewEntry(text, None, found, StampCheck(False), [Finding("image_version", "warning", "image_version disagrees with image_date")],
                            hygiene, stored)
        return ArtifactLook(text, survey=survey, entries=[entry])

    read.calls = calls  # type: ignore[attr-defined]
    return read


def engine_steps() -> tuple[tuple[str, str], ...]:
    """(name, description) of every modify step, as the engine runs them now."""
    return tuple((step.name, step.description) for step in modify_steps_module.modify_steps())


class FakeModify:
    """A run_modify that emits a modify's events; `hold` waits for the cancel event, `fail` fails in a step."""

    def __init__(self, hold: bool = False, fail: str | None = None) -> None:
        self.requests: list = []
        self.hold, self.fail = hold, fail
        self.cancel: threading.Event | None = None
        self.emitted_lines = 0

    def __call__(self, request, sink, cancel):
        self.requests.append(request)
        self.cancel = cancel
        steps = engine_steps()
        log = Path("/tmp/modify.log")
        sink(JobStarted(tuple(name for name, _ in steps), log, Path("-"), JobKind.MODIFY))
        for index, (step, description) in enumerate(steps):
            sink(StepStarted(step, description, index))
            for n in range(50):
                sink(OutputLine(step, f"{step} line {n}"))
                self.emitted_lines += 1
            if self.hold:
                while not cancel.wait(0.01):
                    pass
                sink(JobFailed(step, "cancelled", "", log, cancelled=True, kind=JobKind.MODIFY))
                return ModifyResult(False, failed_step=step, message="cancelled", cancelled=True, log_path=log)
            if step == self.fail:
                sink(JobFailed(step, "apt-get install failed", "check the package name", log, kind=JobKind.MODIFY))
                return ModifyResult(False, failed_step=step, message="apt-get install failed", log_path=log)
            time.sleep(0.01)
            sink(StepFinished(step, 1.0))
        new = request.artifact.with_name("euca-debian-2026.11.28-x86_64.tgz")
        details = {"old_image_id": OLD_ID, "added": {"rsync": "3.2.7-1"}, "removed": {}, "upgraded": {}}
        sink(JobDone((new,), NEW_ID, 3.0, details, JobKind.MODIFY))
        return ModifyResult(True, [new], OLD_ID, NEW_ID, added={"rsync": "3.2.7-1"}, removed={"sudo": "1.9.13"},
                            upgraded={"libc6": ("2.36-9", "2.36-9+deb12u9")}, seconds=3.0)
