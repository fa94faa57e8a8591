"""The plan of a catalog: its jobs, the bases they share, and how big and how long each image will be.

Images that share a recipe, release, arch and mirror share one bootstrapped
base (the build cache keys bases by them, emi_tui.engine.build.cache): the
first image of each base bootstraps it, the others start once it is stored and
take it from the cache. Expected times come from the last builds' step
timings (emi_tui.engine.build.timings); the steps that write the image scale
with its size. `default_jobs` says how many images build at once, and why.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from emi_tui.engine.build.package import output_names
from emi_tui.engine.build.steps import build_steps
from emi_tui.engine.build.timings import expected_seconds, read_history
from emi_tui.engine.catalog.resolve import CatalogImage, ResolvedCatalog
from emi_tui.engine.run.events import JobKind
from emi_tui.engine.run.job import choose_work_root
from emi_tui.engine.sizes import STANDARD, human, parse_size

#: The build's steps, in order (emi_tui.engine.build.steps.build_steps).
BUILD_STEPS = tuple(step.name for step in build_steps())
#: Steps whose work grows with the image's size (the timings are mostly of 1.3G builds).
SIZED_STEPS = ("filesystem", "zerofree", "package")
#: Seconds to unpack a cached base instead of bootstrapping it.
CACHED_BASE_SECONDS = 5.0
#: What a build holds in memory besides its work folder: the bootstrap, apt and the compressor.
JOB_MEMORY = 1024**3
#: Room a build's work folder needs besides the image itself: the root tree and the staged tarball.
JOB_SPACE_EXTRA = 2 * 1024**3


class PlannedJobJson(TypedDict):
    """One job of `catalog plan --format json`: what a CI matrix fans out over."""

    heading: str
    recipe: str
    release: str
    arch: str
    size: str
    image_file: str
    artifact: str
    base: str
    bootstraps_base: bool
    estimated_seconds: float
    estimated_bytes: int


@dataclass(frozen=True)
class Base:
    """One bootstrapped base, and the images built from it (the first one bootstraps it)."""

    recipe: str
    release: str
    arch: str
    mirror: str
    images: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.recipe} {self.release} {self.arch}"


@dataclass(frozen=True)
class PlannedImage:
    """One image of the plan: its job, its base and what it is expected to take."""

    image: CatalogImage
    base: Base
    bootstraps_base: bool
    seconds: float
    installed_bytes: int

    @property
    def heading(self) -> str:
        return self.image.heading

    def files(self, folder: Path) -> dict[str, Path]:
        """What its build writes into `folder`, by kind (tarball, sha256, manifest, answers, log): the build's own names."""
        return output_names(self.image.answers, folder)

    @property
    def artifact(self) -> str:
        """The artifact's file name (the tarball)."""
        return self.files(Path())["tarball"].name

    def to_json(self) -> PlannedJobJson:
        a = self.image.answers
        return {
            "heading": self.heading, "recipe": a.recipe, "release": a.resolved_release, "arch": a.arch, "size": a.size,
            "image_file": a.image.resolved_file, "artifact": self.artifact, "base": self.base.name,
            "bootstraps_base": self.bootstraps_base, "estimated_seconds": round(self.seconds, 1), "estimated_bytes": self.installed_bytes,
        }


@dataclass
class CatalogPlan:
    """The jobs of a catalog, in the order they start, and the bases they share."""

    images: list[PlannedImage] = field(default_factory=list)
    bases: list[Base] = field(default_factory=list)

    def image(self, heading: str) -> PlannedImage | None:
        return next((p for p in self.images if p.heading == heading), None)

    def serial_seconds(self) -> float:
        """Every image one after another."""
        return sum(p.seconds for p in self.images)

    def wall_seconds(self, jobs: int) -> float:
        """The expected wall time with `jobs` images at once: bases first, each image in the first free slot after its base."""
        slots = [0.0] * max(1, jobs)
        base_ready: dict[str, float] = {}
        for planned in self.images:  # the bootstrapping images come first (see make_plan)
            slot = min(range(len(slots)), key=slots.__getitem__)
            start = max(slots[slot], 0.0 if planned.bootstraps_base else base_ready.get(planned.base.name, 0.0))
            slots[slot] = start + planned.seconds
            if planned.bootstraps_base:
                base_ready[planned.base.name] = start + planned.seconds
        return max(slots)

    def to_json(self) -> list[PlannedJobJson]:
        return [p.to_json() for p in self.images]


BaseKey = tuple[str, str, str, str, tuple[str, ...]]


def base_of(image: CatalogImage) -> BaseKey:
    """What makes two images share a bootstrapped base (the inputs of the build cache's key but the tool)."""
    a = image.answers
    return (a.recipe, a.resolved_release, a.arch, a.resolved_mirror, tuple(sorted(image.recipe.base_for(a.arch))))


def image_seconds(image: CatalogImage, bootstraps: bool, expected: Mapping[str, float]) -> float:
    """The expected seconds of one image's build from the steps' `expected` timings: the sized steps scaled, the bootstrap cached for all but the first."""
    scale = max(1.0, image.answers.size_bytes / parse_size(STANDARD))
    total = 0.0
    for step, seconds in expected.items():
        if step == "bootstrap" and not bootstraps:
            seconds = CACHED_BASE_SECONDS
        total += seconds * scale if step in SIZED_STEPS else seconds
    return total


def make_plan(catalog: ResolvedCatalog, history: Mapping[str, Mapping[str, list[float]]] | None = None) -> CatalogPlan:
    """The plan of `catalog`: the first image of each base first (they bootstrap), then the rest, each in catalog order."""
    history = read_history() if history is None else history
    expected = expected_seconds(JobKind.BUILD, BUILD_STEPS, history)  # the same for every image
    groups: dict[BaseKey, list[CatalogImage]] = {}
    for image in catalog.images:
        groups.setdefault(base_of(image), []).append(image)
    plan = CatalogPlan()
    leaders: list[PlannedImage] = []
    followers: list[PlannedImage] = []
    for key, images in groups.items():
        base = Base(key[0], key[1], key[2], key[3], tuple(i.heading for i in images))
        plan.bases.append(base)
        for index, image in enumerate(images):
            planned = PlannedImage(image, base, index == 0, image_seconds(image, index == 0, expected), image.recipe.estimated_bytes)
            (leaders if index == 0 else followers).append(planned)
    plan.images = leaders + followers
    return plan


@dataclass(frozen=True)
class JobsChoice:
    """How many images build at once, and the one line that says why."""

    jobs: int
    reason: str


def _available_memory() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def default_jobs(plan: CatalogPlan, cores: int | None = None, memory: int | None = None, free: dict[Path, int] | None = None) -> JobsChoice:
    """As many jobs as the cores, the memory and the work folder's free space allow, and no more than the images.

    A build in tmpfs keeps its image and root in memory, so there memory and
    space are one budget; elsewhere each is counted on its own.
    """
    cores = cores if cores is not None else (os.cpu_count() or 1)
    memory = memory if memory is not None else _available_memory()
    largest = max((p.image.answers.size_bytes for p in plan.images), default=parse_size(STANDARD))
    work = choose_work_root(largest)
    if free is None:
        probe = next((p for p in (work, *work.parents) if p.exists()), Path("/"))
        free = {work: shutil.disk_usage(probe).free}
    space = free.get(work, 0)
    per_job_space = largest + JOB_SPACE_EXTRA
    by_memory = max(1, memory // JOB_MEMORY) if memory else cores
    by_space = max(1, space // per_job_space)
    images = max(1, len(plan.images))
    jobs = max(1, min(cores, by_memory, by_space, images))
    limits = {"cores": cores, "memory": by_memory, "space": by_space, "images": images}
    bound = min(limits, key=lambda k: (limits[k], list(limits).index(k)))
    reason = (f"{jobs} job{'s' if jobs != 1 else ''} at once: {cores} cores, {human(memory)} of memory free ({human(JOB_MEMORY)} a job), "
              f"{human(space)} free in {work} ({human(per_job_space)} a job), {images} image{'s' if images != 1 else ''}; "
              f"bounded by the {bound}")
    return JobsChoice(jobs, reason)
