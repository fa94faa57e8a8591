"""The catalog build's scheduling, outcomes and files, with a stand-in for `run_build` that runs no command.

The stand-in emits what a build emits (its bootstrap step, then JobDone or a failure) and writes what a
build publishes (the artifact, its .sha256 and manifest), so everything around the builds is the real code:
bases first, keep-going, fail-fast, retry-failed, cancel by signal, the state file and the catalog's files.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from emi_tui.engine.answers import model as answers_module
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.artifact.checksum import sha256_file, sha256_line
from emi_tui.engine.build.job import BuildResult
from emi_tui.engine.catalog.build import CatalogOptions, ImageEvent, ImageFinished, ImageStarted, run_catalog
from emi_tui.engine.catalog.plan import default_jobs, make_plan
from emi_tui.engine.catalog.resolve import resolve_bytes
from emi_tui.engine.catalog.state import read_state
from emi_tui.engine.image.imageid import ImageId
from emi_tui.engine.review.review import review_paths
from emi_tui.engine.run.events import JobDone, JobFailed, JobKind, JobStarted, StepFinished, StepStarted
from emi_tui.engine.run.job import choose_work_root
from emi_tui.engine.sizes import parse_size

CATALOG = """catalog: 1
mirror: http://mirror.example/debian
image: {{version: "2026.12.03"}}
output: {{dir: {out}, compress: zstd}}
matrix:
  recipes: [debian-based]
  arches: [x86_64, i386]
  sizes: [1.3G, 4.5G]
"""
EPOCH = 1_764_700_000


@pytest.fixture(autouse=True)
def no_workstation(monkeypatch):
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: "http://mirror.example/debian")


@pytest.fixture
def catalog(tmp_path):
    resolved = resolve_bytes(CATALOG.format(out=tmp_path / "release"), str(tmp_path / "release.yaml"), RecipeBook.named(None))
    assert resolved.ok, resolved.problems
    return resolved


class FakeBuilds:
    """Stands in for run_build: the events and files of a build, failing the files named in `fail`."""

    def __init__(self, fail: set[str] = frozenset(), during=None):
        self.fail, self.during = set(fail), during
        self.order: list[str] = []
        self.epochs: list[int | None] = []
        self.lock = threading.Lock()

    def __call__(self, answers, recipe, sink, cancel, options, answers_path=None, epoch=None):
        name = answers.image.resolved_file
        with self.lock:
            self.order.append(name)
            self.epochs.append(epoch)
            epoch = EPOCH + 100 * len(self.order) if epoch is None else epoch
        log = Path(answers.output.dir) / "x.log"
        sink(JobStarted(("bootstrap", "package"), log, Path("-"), JobKind.BUILD))
        sink(StepStarted("bootstrap", "bootstrap", 0))
        sink(StepFinished("bootstrap", 0.0))
        if self.during is not None:
            self.during(name, cancel)
        if cancel.is_set() or name in self.fail:
            cancelled = cancel.is_set()
            sink(JobFailed("package", "cancelled" if cancelled else "the mirror went away", "", log, (), cancelled, JobKind.BUILD))
            return BuildResult(ok=False, failed_step="package", message="the mirror went away", cancelled=cancelled)
        out = Path(answers.output.dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = name.removesuffix(".img")
        tarball = out / f"{stem}.tar.zst"
        tarball.write_text(f"artifact of {name}")
        (out / f"{stem}.tar.zst.sha256").write_text(sha256_line(sha256_file(tarball), tarball.name))
        (out / f"{stem}.manifest").write_text(f"bash\t5.2\nlinux-image-6.1.0-28-{answers.arch}\t6.1.119-1\n")
        image_id = ImageId.stamped(name=answers.image.resolved_name, version=answers.image.resolved_version, arch=answers.arch,
                                   file=name, recipe=answers.recipe, epoch_seconds=epoch).render()
        sink(JobDone((tarball,), image_id, 0.0, {}, JobKind.BUILD))
        return BuildResult(ok=True, artifacts=[tarball], image_id=image_id)


def _collect(events):
    return lambda event: events.append(event)


def test_every_image_is_built_bases_first_and_the_catalog_is_written(catalog):
    events = []
    builds = FakeBuilds()
    result = run_catalog(catalog, _collect(events), options=CatalogOptions(jobs=2), build=builds)
    assert result.ok and set(result.outcomes.values()) == {"built"}
    # The first image of each base (x86_64 and i386, 1.3G) starts first; each large image starts after its base's bootstrap.
    started = [e.heading for e in events if isinstance(e, ImageStarted)]
    assert started[:2] == ["debian x86_64 12", "debian i386 12"]
    for base, follower in (("debian x86_64 12", "debian large x86_64 12"), ("debian i386 12", "debian large i386 12")):
        bootstrapped = next(i for i, e in enumerate(events) if isinstance(e, ImageEvent) and e.heading == base
                            and isinstance(e.event, StepFinished) and e.event.step == "bootstrap")
        assert events.index(ImageStarted(follower)) > bootstrapped
    assert [p.name for p in result.written] == ["EMI-IDs", "SHA256SUMS", "RELEASE-NOTES.md"]
    entries = review_paths([catalog.folder / "EMI-IDs"])
    assert sorted(e.entry for e in entries) == sorted(result.outcomes)
    assert all(e.passes and e.stamp_check.utc_offset == "+00:00" for e in entries)
    # Images started in the same second still get stamps of their own: a stamp names one image.
    assert len(set(builds.epochs)) == 4 and len({e.fields["image_stamp"] for e in entries}) == 4


def test_one_failure_does_not_stop_the_others_and_retry_failed_builds_only_it(catalog):
    failing = "euca-large-debian-2026.12.03-i386.img"
    first = run_catalog(catalog, lambda e: None, options=CatalogOptions(jobs=2), build=FakeBuilds(fail={failing}))
    assert first.headings("failed") == ["debian large i386 12"] and len(first.headings("built")) == 3
    assert not first.ok and not first.written and not (catalog.folder / "EMI-IDs").exists()
    assert read_state(catalog.folder).images["debian large i386 12"].outcome == "failed"
    again = FakeBuilds()
    second = run_catalog(catalog, lambda e: None, options=CatalogOptions(jobs=2, retry_failed=True), build=again)
    assert again.order == [failing]
    assert second.ok and (catalog.folder / "EMI-IDs").is_file()
    assert len(review_paths([catalog.folder / "EMI-IDs"])) == 4


def test_retry_failed_rebuilds_an_image_whose_artifact_is_gone(catalog):
    run_catalog(catalog, lambda e: None, options=CatalogOptions(jobs=1), build=FakeBuilds())
    (catalog.folder / "euca-debian-2026.12.03-i386.tar.zst").unlink()
    again = FakeBuilds()
    run_catalog(catalog, lambda e: None, options=CatalogOptions(jobs=1, retry_failed=True), build=again)
    assert again.order == ["euca-debian-2026.12.03-i386.img"]


def test_fail_fast_stops_the_images_not_yet_started(catalog):
    events = []
    result = run_catalog(catalog, _collect(events), options=CatalogOptions(jobs=1, fail_fast=True),
                         build=FakeBuilds(fail={"euca-debian-2026.12.03-x86_64.img"}))
    assert result.outcomes["debian x86_64 12"] == "failed"
    assert [h for h, o in result.outcomes.items() if o == "cancelled"] == ["debian i386 12", "debian large x86_64 12", "debian large i386 12"]
    assert not result.cancelled and not result.written
    assert all(e.result is None for e in events if isinstance(e, ImageFinished) and e.outcome == "cancelled")


def test_a_signal_cancels_every_build_and_nothing_is_written(catalog):
    def interrupt(name, cancel):
        if name == "euca-debian-2026.12.03-x86_64.img":
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C: the catalog's handler sets the builds' cancel
            assert cancel.wait(10)

    result = run_catalog(catalog, lambda e: None, options=CatalogOptions(jobs=1), build=FakeBuilds(during=interrupt))
    assert result.cancelled and not result.written
    assert set(result.outcomes.values()) == {"cancelled"}
    assert not (catalog.folder / "EMI-IDs").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers are given back


def test_only_builds_the_named_image_and_writes_no_catalog(catalog):
    builds = FakeBuilds()
    result = run_catalog(catalog, lambda e: None, options=CatalogOptions(only=("debian i386 12",)), build=builds)
    assert builds.order == ["euca-debian-2026.12.03-i386.img"] and not result.written


def test_plan_shares_bases_and_estimates_the_catalog_below_one_after_another(catalog):
    plan = make_plan(catalog, history={})
    assert [b.name for b in plan.bases] == ["debian-based bookworm x86_64", "debian-based bookworm i386"]
    assert [p.bootstraps_base for p in plan.images] == [True, True, False, False]
    cold, cached = plan.images[0].seconds, plan.images[2].seconds
    assert cached < cold  # the bootstrap is taken from the cache
    assert plan.wall_seconds(2) < plan.serial_seconds()
    jobs = plan.to_json()
    assert [j["heading"] for j in jobs] == ["debian x86_64 12", "debian i386 12", "debian large x86_64 12", "debian large i386 12"]
    assert jobs[2]["base"] == "debian-based bookworm x86_64" and jobs[2]["artifact"] == "euca-large-debian-2026.12.03-x86_64.tar.zst"


def test_default_jobs_is_bounded_by_cores_memory_and_space_and_says_which(catalog):
    plan = make_plan(catalog, history={})
    gib = 1024**3
    work = choose_work_root(parse_size("4.5G"))  # where the largest image would build
    free = {work: 500 * gib}
    assert default_jobs(plan, 8, 64 * gib, free).jobs == 4 and "bounded by the images" in default_jobs(plan, 8, 64 * gib, free).reason
    assert default_jobs(plan, 2, 64 * gib, free).jobs == 2 and "bounded by the cores" in default_jobs(plan, 2, 64 * gib, free).reason
    assert default_jobs(plan, 8, 3 * gib, free).jobs == 3 and "bounded by the memory" in default_jobs(plan, 8, 3 * gib, free).reason
    tight = {work: 8 * gib}
    assert default_jobs(plan, 8, 64 * gib, tight).jobs == 1 and "bounded by the space" in default_jobs(plan, 8, 64 * gib, tight).reason


def _built_elsewhere(catalog, tmp_path, builds=None):
    """The catalog's images built by CI jobs into folders of their own: two folders, two images each."""
    folders = [tmp_path / "job-a", tmp_path / "job-b"]
    for index, image in enumerate(make_plan(catalog, history={}).images):
        answers = image.image.answers.model_copy(update={"output": image.image.answers.output.model_copy(update={"dir": str(folders[index % 2])})})
        (builds or FakeBuilds())(answers, image.image.recipe, lambda e: None, threading.Event(), None)
    return folders


def _image_id_beside(artifact: Path) -> bytes:
    """Stands in for reading /etc/image-id inside the tarball: the stand-in build's JobDone text, kept beside it."""
    return (artifact.parent / (artifact.name + ".image-id")).read_bytes()


class KeepingBuilds(FakeBuilds):
    def __call__(self, answers, recipe, sink, cancel, options, answers_path=None, epoch=None):
        result = super().__call__(answers, recipe, sink, cancel, options, answers_path, epoch)
        (result.artifacts[0].parent / (result.artifacts[0].name + ".image-id")).write_text(result.image_id)
        return result


def test_collect_merges_artifacts_built_elsewhere_into_one_catalog(catalog, tmp_path):
    from emi_tui.engine.catalog.collect import collect

    folders = _built_elsewhere(catalog, tmp_path, KeepingBuilds())
    collected = collect(make_plan(catalog, history={}), folders, catalog.folder, read_image_id=_image_id_beside)
    assert not collected.problems
    names = {p.name for p in catalog.folder.iterdir()}
    assert {i.artifact for i in collected.images} <= names and {f"{i.stem}.manifest" for i in collected.images} <= names
    assert [i.heading for i in collected.images] == [p.heading for p in make_plan(catalog, history={}).images]


def test_collect_refuses_an_artifact_whose_image_id_is_not_its_entrys(catalog, tmp_path):
    from emi_tui.engine.catalog.collect import collect

    folders = _built_elsewhere(catalog, tmp_path, KeepingBuilds())
    wrong = folders[0] / "euca-debian-2026.12.03-x86_64.tar.zst.image-id"
    wrong.write_text(wrong.read_text().replace('image_arch="x86_64"', 'image_arch="i386"'))
    collected = collect(make_plan(catalog, history={}), folders, catalog.folder, read_image_id=_image_id_beside)
    assert collected.problems == [f"debian x86_64 12: {folders[0] / 'euca-debian-2026.12.03-x86_64.tar.zst'} is not this entry's image: "
                                  "image_arch is 'i386', the entry says 'x86_64'"]
    assert not catalog.folder.exists()  # nothing is copied unless every artifact is good


def test_collect_refuses_an_artifact_that_does_not_match_its_checksum(catalog, tmp_path):
    from emi_tui.engine.catalog.collect import collect

    folders = _built_elsewhere(catalog, tmp_path, KeepingBuilds())
    (folders[1] / "euca-debian-2026.12.03-i386.tar.zst").write_text("damaged")
    collected = collect(make_plan(catalog, history={}), folders, catalog.folder, read_image_id=_image_id_beside)
    assert collected.problems == [f"debian i386 12: {folders[1] / 'euca-debian-2026.12.03-i386.tar.zst'} does not match its "
                                  "euca-debian-2026.12.03-i386.tar.zst.sha256: copy it again"]


def test_collect_refuses_two_artifacts_with_one_stamp(catalog, tmp_path):
    from emi_tui.engine.catalog.collect import collect

    class SameSecond(KeepingBuilds):
        def __call__(self, answers, recipe, sink, cancel, options, answers_path=None, epoch=None):
            return super().__call__(answers, recipe, sink, cancel, options, answers_path, EPOCH)

    folders = _built_elsewhere(catalog, tmp_path, SameSecond())
    collected = collect(make_plan(catalog, history={}), folders, catalog.folder, read_image_id=_image_id_beside)
    assert len(collected.problems) == 3 and all("is also debian x86_64 12's" in p for p in collected.problems)


def test_a_state_file_that_is_not_ours_is_ignored_and_everything_is_built(catalog):
    catalog.folder.mkdir(parents=True)
    (catalog.folder / ".emi-tui-catalog.json").write_text('{"format": 1, "images": {"debian x86_64 12": {"outcome": "built", "artifact": 7}}}')
    builds = FakeBuilds()
    run_catalog(catalog, lambda e: None, options=CatalogOptions(jobs=1, retry_failed=True), build=builds)
    assert len(builds.order) == 4
