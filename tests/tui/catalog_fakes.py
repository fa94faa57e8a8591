"""A stand-in for `emi_tui.engine.catalog.build.run_catalog`: the real event types, and a real EMI-IDs at the end.

`FakeCatalogRun` has run_catalog's signature. It emits what a catalog build
emits (CatalogStarted, then per image ImageStarted, its build's events wrapped
in ImageEvent, ImageFinished; CatalogFinished last) and, when every image is
built, writes the catalog's files with the engine's own writer
(`write_catalog_files`), each image stamped: the end screen reviews a real
file. It runs no command. It can fail images (on its first run only: a retry of what failed builds
them), honours `retry_failed` (the images built by an earlier run are kept), and hold after the first
image's log lines until released or cancelled (to look at a running table).
"""

from __future__ import annotations

import threading
from pathlib import Path

from emi_tui.engine.catalog.build import (
    CatalogFinished,
    CatalogOptions,
    CatalogResult,
    CatalogStarted,
    ImageEvent,
    ImageFinished,
    ImageStarted,
)
from emi_tui.engine.catalog.plan import JobsChoice, make_plan
from emi_tui.engine.catalog.write import ReleasedImage, parse_image_id, write_catalog_files
from emi_tui.engine.image.imageid import ImageId
from emi_tui.engine.run.events import JobDone, JobFailed, JobKind, JobStarted, OutputLine, StepFinished, StepStarted

EPOCH = 1_764_700_000
STEPS = ("bootstrap", "package")
LOG = Path("/var/lib/emi-tui/logs/catalog-test.log")


class FakeCatalogRun:
    """Stands in for run_catalog; `calls` records each run's options, `release` lets a held run go on."""

    def __init__(self, fail: set[str] = frozenset(), hold: bool = False) -> None:
        self.fail = set(fail)
        self.hold = hold
        self.release = threading.Event()
        self.holding = threading.Event()
        self.calls: list[CatalogOptions | None] = []
        #: Heading -> its released image, across runs: a retry_failed run keeps them, as the engine's state file does.
        self.built: dict[str, ReleasedImage] = {}

    def __call__(self, catalog, sink, cancel=None, options=None, **_):
        cancel = cancel or threading.Event()
        self.calls.append(options)
        plan = make_plan(catalog, history={})
        jobs = options.jobs if options and options.jobs else 1
        kept = [p.heading for p in plan.images if options and options.retry_failed and p.heading in self.built]
        todo = [p for p in plan.images if p.heading not in kept]
        sink(CatalogStarted(plan, JobsChoice(jobs, f"{jobs} at once"), tuple(p.heading for p in todo), tuple(kept)))
        result = CatalogResult(outcomes=dict.fromkeys(kept, "built"))
        for index, planned in enumerate(todo):
            heading, answers = planned.heading, planned.image.answers
            if cancel.is_set():
                result.outcomes[heading] = "cancelled"
                sink(ImageFinished(heading, "cancelled", "cancelled before it started", None))
                continue
            sink(ImageStarted(heading))
            for event in (JobStarted(STEPS, LOG, Path("-"), JobKind.BUILD), StepStarted("bootstrap", "bootstrap the base", 0),
                          OutputLine("bootstrap", f"I: Retrieving Packages for {heading}")):
                sink(ImageEvent(heading, event))
            if self.hold and index == 0:
                self.holding.set()
                while not (self.release.wait(0.02) or cancel.is_set()):
                    pass
                sink(ImageEvent(heading, OutputLine("bootstrap", f"I: Extracting base-files for {heading}")))
            if cancel.is_set() or (heading in self.fail and len(self.calls) == 1):
                step_failed = JobFailed("bootstrap", "cancelled" if cancel.is_set() else "the mirror went away", "", LOG, (),
                                        cancel.is_set(), JobKind.BUILD)
                sink(ImageEvent(heading, step_failed))
                outcome = "cancelled" if cancel.is_set() else "failed"
                result.outcomes[heading] = outcome
                sink(ImageFinished(heading, outcome, f"bootstrap: {step_failed.message}", None))
                continue
            sink(ImageEvent(heading, StepFinished("bootstrap", 1.0)))
            image_id = ImageId.stamped(name=answers.image.resolved_name, version=answers.image.resolved_version, arch=answers.arch,
                                       file=answers.image.resolved_file, recipe=answers.recipe, epoch_seconds=EPOCH + index).render()
            artifact = planned.artifact
            sink(ImageEvent(heading, JobDone((catalog.folder / artifact,), image_id, 1.0, {}, JobKind.BUILD)))
            result.outcomes[heading] = "built"
            sink(ImageFinished(heading, "built", "", None))
            self.built[heading] = ReleasedImage(heading, parse_image_id(image_id), artifact, "0" * 64, answers.size_bytes, {"bash": "5.2"})
        result.cancelled = cancel.is_set()
        if all(o == "built" for o in result.outcomes.values()):
            catalog.folder.mkdir(parents=True, exist_ok=True)
            result.released = released = [self.built[p.heading] for p in plan.images]
            result.written = write_catalog_files(catalog.folder, "test release", released)
        sink(CatalogFinished(result))
        return result
