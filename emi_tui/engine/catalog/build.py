"""Building a whole catalog: every image by `run_build`, bases shared, jobs in parallel, then the catalog's files.

`run_catalog` is the one entry point of the CLI (`emi-tui catalog build`) and
of the wizard's catalog screen. It starts the first image of each base first;
the others of a base start once that image's bootstrap is done (the base is
then stored in the cache, or about to be: the cache's per-key lock makes them
wait for it). At most `jobs` images build at once, each on a thread of its
own, each a whole `run_build` job with its own teardown. One failure does not
stop the others unless `fail_fast`; a cancel (SIGINT, SIGTERM, SIGHUP, or the
caller's event) stops every running build, which each tear down as one build
does. Outcomes are kept in the output folder (catalog.state), so
`retry_failed` builds only what is not built yet. When every image is built,
EMI-IDs, SHA256SUMS and the release note are written beside the artifacts.

Every event is passed to `sink` under one lock, from the builds' threads:
`CatalogStarted`, then per image `ImageStarted`, its build's own events
wrapped in `ImageEvent`, and `ImageFinished`; `CatalogFinished` last.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.build.job import BuildOptions, BuildResult, run_build
from emi_tui.engine.catalog.collect import previous_manifests, released
from emi_tui.engine.catalog.plan import CatalogPlan, JobsChoice, PlannedImage, default_jobs, make_plan
from emi_tui.engine.catalog.resolve import ResolvedCatalog
from emi_tui.engine.catalog.state import CatalogState, ImageState, Outcome, read_state, write_state
from emi_tui.engine.catalog.write import ReleasedImage, write_catalog_files
from emi_tui.engine.errors import EmiError
from emi_tui.engine.image.imageid import now_epoch
from emi_tui.engine.run.events import EventSink, JobEvent, StepFinished
from emi_tui.engine.run.signals import cancelled_by_signals, handlers_installed

#: What runs one image's build: `run_build`'s signature (a test passes a stand-in that runs no command).
BuildFunction = Callable[[Answers, Recipe, EventSink, threading.Event, BuildOptions, None, int], BuildResult]


@dataclass(frozen=True)
class CatalogOptions:
    """How `run_catalog` builds: how many at once, what stops it, which images."""

    jobs: int | None = None  # None: default_jobs
    fail_fast: bool = False
    retry_failed: bool = False  # build only the images not built yet (by the state in the output folder)
    only: tuple[str, ...] = ()  # build only these headings (a CI job builds one)
    since: Path | None = None  # a previous catalog's folder: the release note lists each image's package changes
    work_root: Path | None = None
    bootstrapper: str | None = None


@dataclass(frozen=True)
class CatalogStarted:
    """The plan is fixed: `building` will be built (in this order), `already_built` are kept from an earlier run."""

    plan: CatalogPlan
    jobs: JobsChoice
    building: tuple[str, ...]
    already_built: tuple[str, ...]


@dataclass(frozen=True)
class ImageStarted:
    heading: str


@dataclass(frozen=True)
class ImageEvent:
    """One event of an image's own build (a step, a line of its log, its progress)."""

    heading: str
    event: JobEvent


@dataclass(frozen=True)
class ImageFinished:
    """An image's build ended: built, failed, or cancelled (`result` is None for an image cancelled before it started)."""

    heading: str
    outcome: Outcome
    message: str
    result: BuildResult | None


@dataclass
class CatalogResult:
    """How the catalog build ended: each image's outcome and, when all were built, the catalog's files."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    released: list[ReleasedImage] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o == "built" for o in self.outcomes.values()) and bool(self.written)

    def headings(self, outcome: Outcome) -> list[str]:
        return [h for h, o in self.outcomes.items() if o == outcome]


@dataclass(frozen=True)
class CatalogFinished:
    result: CatalogResult


CatalogEvent = CatalogStarted | ImageStarted | ImageEvent | ImageFinished | CatalogFinished
CatalogSink = Callable[[CatalogEvent], None]


class _Run:
    """The state of one catalog build, shared by the scheduling loop and the builds' threads."""

    def __init__(self, sink: CatalogSink, plan: CatalogPlan, folder: Path, cancel: threading.Event) -> None:
        self.lock = threading.Lock()
        self._sink = sink
        self.plan, self.folder, self.cancel = plan, folder, cancel
        self.state: CatalogState = read_state(folder)
        self.bases_ready: set[str] = set()
        self.last_epoch = 0

    def next_epoch(self) -> int:
        """The instant an image is stamped with: now, but never the second of another image of this run.

        Two images started in the same second would carry the same image_stamp, which names one image.
        """
        with self.lock:
            self.last_epoch = max(now_epoch(), self.last_epoch + 1)
            return self.last_epoch

    def emit(self, event: CatalogEvent) -> None:
        with self.lock:
            self._sink(event)

    def image_sink(self, planned: PlannedImage) -> EventSink:
        def sink(event: JobEvent) -> None:
            if planned.bootstraps_base and isinstance(event, StepFinished) and event.step == "bootstrap":
                with self.lock:
                    self.bases_ready.add(planned.base.name)
            self.emit(ImageEvent(planned.heading, event))
        return sink

    def record(self, planned: PlannedImage, outcome: Outcome, image_id: str = "", message: str = "") -> None:
        with self.lock:
            self.state.images[planned.heading] = ImageState(outcome, planned.artifact, image_id, message)
            write_state(self.folder, self.state)
            if planned.bootstraps_base:
                self.bases_ready.add(planned.base.name)  # built or not, the others of its base no longer wait


def _build_one(run: _Run, planned: PlannedImage, build: BuildFunction, options: CatalogOptions) -> ImageFinished:
    run.emit(ImageStarted(planned.heading))
    answers: Answers = planned.image.answers
    recipe: Recipe = planned.image.recipe
    build_options = BuildOptions(work_root=options.work_root, bootstrapper=options.bootstrapper)
    result = build(answers, recipe, run.image_sink(planned), run.cancel, build_options, None, run.next_epoch())
    outcome: Outcome = "built" if result.ok else ("cancelled" if result.cancelled else "failed")
    message = "" if result.ok else f"{result.failed_step}: {result.message}"
    run.record(planned, outcome, result.image_id, message)
    return ImageFinished(planned.heading, outcome, message, result)


def _to_build(plan: CatalogPlan, state: CatalogState, folder: Path, options: CatalogOptions) -> tuple[list[PlannedImage], list[str]]:
    """The images this run builds, in plan order, and those kept from an earlier run (retry_failed)."""
    unknown = [h for h in options.only if plan.image(h) is None]
    if unknown:
        raise EmiError(f"the catalog has no image {unknown[0]!r}", hint=f"its images: {', '.join(p.heading for p in plan.images)}")
    chosen = [p for p in plan.images if not options.only or p.heading in options.only]
    if not options.retry_failed:
        return chosen, []
    kept = [p.heading for p in chosen if state.built(p.heading, folder)]
    return [p for p in chosen if p.heading not in kept], kept


def run_catalog(
    catalog: ResolvedCatalog, sink: CatalogSink, cancel: threading.Event | None = None, options: CatalogOptions | None = None,
    build: BuildFunction = run_build, plan: CatalogPlan | None = None,
) -> CatalogResult:
    """Build every image of `catalog` (see the module's docstring); never raises for a failed image (it is an event)."""
    options = options or CatalogOptions()
    cancel = cancel or threading.Event()
    began = time.monotonic()
    plan = plan or make_plan(catalog)
    folder = catalog.folder
    since = previous_manifests(options.since) if options.since is not None else None  # a bad --since is said before any build
    run = _Run(sink, plan, folder, cancel)
    todo, kept = _to_build(plan, run.state, folder, options)
    choice = JobsChoice(options.jobs, f"{options.jobs} job{'s' if options.jobs != 1 else ''} at once, as asked") if options.jobs else default_jobs(plan)
    result = CatalogResult(outcomes=dict.fromkeys(kept, "built"))
    building = {p.heading for p in todo}  # kept images are not in it: their bases count as ready too
    run.bases_ready |= {p.base.name for p in plan.images if p.bootstraps_base and p.heading not in building}
    run.emit(CatalogStarted(plan, choice, tuple(p.heading for p in todo), tuple(kept)))
    with ExitStack() as stack:
        if threading.current_thread() is threading.main_thread():
            stack.enter_context(handlers_installed())  # a signal cancels every build; leaving waits for their teardowns
        stack.enter_context(cancelled_by_signals(cancel))  # a signal between two builds stops the next from starting
        _schedule(run, todo, choice.jobs, build, options, result)
    result.cancelled = cancel.is_set() and not (options.fail_fast and result.headings("failed"))  # a fail-fast stop is a failure
    if all(result.outcomes.get(p.heading) == "built" for p in plan.images) and not options.only:
        result.released = [released(folder, p, run.state.images[p.heading].image_id) for p in plan.images]
        result.written = write_catalog_files(folder, catalog.title, result.released, since)
    result.seconds = time.monotonic() - began
    run.emit(CatalogFinished(result))
    return result


def _schedule(run: _Run, todo: list[PlannedImage], jobs: int, build: BuildFunction, options: CatalogOptions, result: CatalogResult) -> None:
    """Start each image when a slot is free and its base is ready; collect outcomes until all have ended."""
    pending = list(todo)
    running: dict[Future[ImageFinished], PlannedImage] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="catalog") as pool:
        while pending or running:
            if not run.cancel.is_set():
                for planned in list(pending):
                    if len(running) >= jobs:
                        break
                    with run.lock:  # nothing running means nothing to wait for: a base never stored does not hold the rest back
                        ready = planned.bootstraps_base or planned.base.name in run.bases_ready or not running
                    if ready:
                        pending.remove(planned)
                        running[pool.submit(_build_one, run, planned, build, options)] = planned
            elif pending:  # cancelled: what has not started never will
                for planned in pending:
                    run.record(planned, "cancelled", message="cancelled before it started")
                    result.outcomes[planned.heading] = "cancelled"
                    run.emit(ImageFinished(planned.heading, "cancelled", "cancelled before it started", None))
                pending = []
            if not running:
                continue
            done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                planned = running.pop(future)
                finished = _finished(future, planned, run)
                result.outcomes[planned.heading] = finished.outcome
                run.emit(finished)
                if finished.outcome == "failed" and options.fail_fast:
                    run.cancel.set()


def _finished(future: Future[ImageFinished], planned: PlannedImage, run: _Run) -> ImageFinished:
    """The image's ImageFinished; a bug in a build (it raised) is a failure of that image, not of the catalog."""
    try:
        return future.result()
    except Exception as exc:  # run_build returns failures; one that raises is an internal error, kept to this image
        message = f"internal error: {type(exc).__name__}: {exc}"
        run.record(planned, "failed", message=message)
        return ImageFinished(planned.heading, "failed", message, None)
