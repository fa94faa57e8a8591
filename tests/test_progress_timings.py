"""Issue 16, defect 9 (engine side): step timings kept in the data folder, weighted progress, the bootstrap's package counts."""

from __future__ import annotations

import json
import os
from pathlib import Path

from emi_tui.engine.build.progress import JobProgress, PackageCounter
from emi_tui.engine.build.timings import DEFAULT_SECONDS, MAX_BYTES, RecordingSink, expected_seconds, read_history, record
from emi_tui.engine.run.events import JobDone, JobKind, JobStarted, OutputLine, StepFinished, StepOutcome, StepProgress, StepStarted

STEPS = tuple(DEFAULT_SECONDS[JobKind.BUILD])

DEBOOTSTRAP = [
    "I: Retrieving InRelease", "I: Retrieving Packages", "I: Retrieving adduser 3.134", "I: Validating adduser 3.134",
    "I: Retrieving apt 2.6.1", "I: Retrieving libdb5.3 5.3.28", "I: Extracting libdb5.3...", "I: Unpacking required packages...",
    "I: Unpacking adduser... ", "I: Configuring required packages...", "I: Configuring adduser...",
]
APT = ["Get:1 http://mirror.example/debian bookworm/main amd64 curl amd64 7.88.1 [315 kB]", "Unpacking curl (7.88.1) ...", "Setting up curl (7.88.1) ..."]


def test_timings_are_recorded_and_their_median_is_expected(tmp_path: Path):
    path = tmp_path / "data" / "step-timings.json"
    assert expected_seconds(JobKind.BUILD, STEPS, read_history(path)) == {s: float(v) for s, v in DEFAULT_SECONDS[JobKind.BUILD].items()}
    for seconds in (40.0, 50.0, 90.0):
        assert record(JobKind.BUILD, {"bootstrap": seconds}, path)
    chroot = float(DEFAULT_SECONDS[JobKind.BUILD]["chroot"])
    assert expected_seconds(JobKind.BUILD, ("bootstrap", "chroot"), read_history(path)) == {"bootstrap": 50.0, "chroot": chroot}
    assert path.stat().st_mode & 0o777 == 0o600
    for seconds in range(1, 10):
        record(JobKind.BUILD, {"bootstrap": float(seconds)}, path)
    assert read_history(path)["build"]["bootstrap"] == [5.0, 6.0, 7.0, 8.0, 9.0]  # bounded: the last five runs


def test_a_bad_timings_file_gives_the_defaults(tmp_path: Path):
    path = tmp_path / "step-timings.json"
    for text in ("not json", "[]", '{"format": 2, "kinds": {}}', json.dumps({"format": 1, "kinds": {"build": {"bootstrap": ["x", -1, 1e308, True]}}})):
        path.write_text(text)
        assert read_history(path) == {}, text
    path.write_text(json.dumps({"format": 1, "kinds": {"build": {"bootstrap": [30.0]}}}) + " " * MAX_BYTES)
    assert read_history(path) == {}  # too big to be ours
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"format": 1, "kinds": {"build": {"bootstrap": [30.0]}}}))
    path.unlink()
    os.symlink(target, path)
    assert read_history(path) == {}  # never read through a link
    assert record(JobKind.BUILD, {"bootstrap": 12.0}, path)
    assert not path.is_symlink() and json.loads(target.read_text())["kinds"]["build"]["bootstrap"] == [30.0]


def test_a_real_build_records_only_the_steps_that_did_their_work(tmp_path: Path):
    path = tmp_path / "t.json"
    seen: list = []
    sink = RecordingSink(seen.append, path)
    sink(JobStarted(("preflight", "bootstrap"), tmp_path / "x.log", tmp_path / "a.yaml", JobKind.BUILD))
    sink(StepFinished("preflight", 2.0))
    sink(StepFinished("bootstrap", 3.0, StepOutcome.CACHED))
    sink(JobDone((), "", 5.0, {}, JobKind.BUILD))
    assert len(seen) == 4
    assert read_history(path) == {"build": {"preflight": [2.0]}}


def test_progress_is_weighted_by_expected_time_and_uses_the_steps_own_count():
    now = [0.0]
    table = {"preflight": 3.0, "bootstrap": 60.0, "chroot": 20.0, "package": 17.0}
    progress = JobProgress(lambda kind, steps: {s: table[s] for s in steps}, clock=lambda: now[0])
    progress.feed(JobStarted(tuple(table), Path("x.log"), Path("a"), JobKind.BUILD))
    progress.feed(StepStarted("preflight", "", 0))
    now[0] = 3.0
    progress.feed(StepFinished("preflight", 3.0))
    progress.feed(StepStarted("bootstrap", "", 1))
    total = sum(table.values())
    now[0] = 33.0  # 30 s into a 60 s bootstrap, no count yet: half of it by time
    assert abs(progress.fraction() - (3 + 30) / total) < 1e-6
    progress.feed(StepProgress("bootstrap", 0.75, "120 of 158 packages fetched"))
    assert abs(progress.fraction() - (3 + 45) / total) < 1e-6
    assert progress.detail == "120 of 158 packages fetched"
    # 30 s for three quarters: 10 s more for the bootstrap, then the other steps' defaults.
    assert abs(progress.eta() - (10 + total - 63)) < 1e-6
    now[0] = 1000.0  # a step that overruns stays below its end until it ends
    assert progress.fraction() < (3 + 60) / total


def test_the_bootstrap_output_becomes_package_counts():
    for lines, total, expected in ((DEBOOTSTRAP, 3, "3 of 3 packages fetched, 2 unpacked, 1 set up"), (APT, 1, "1 of 1 packages fetched, 1 unpacked, 1 set up")):
        events: list = []
        counter = PackageCounter(events.append, "bootstrap", total)
        for line in lines:
            counter(OutputLine("bootstrap", line))
        progress = [e for e in events if isinstance(e, StepProgress)]
        assert progress and progress[-1].detail == expected, lines
        assert [e.fraction for e in progress] == sorted(e.fraction for e in progress)
        assert sum(isinstance(e, OutputLine) for e in events) == len(lines)  # every line still passes through


def test_mmdebstraps_phases_move_the_bootstrap_on():
    events: list = []
    counter = PackageCounter(events.append, "bootstrap", 158)
    for line in ("I: downloading packages with apt...", "I: extracting archives...", "I: installing remaining packages inside the chroot..."):
        counter(OutputLine("bootstrap", line))
    last = [e for e in events if isinstance(e, StepProgress)][-1]
    assert last.fraction == 0.7 and last.detail == "setting up the other packages (158 packages)"


#: mmdebstrap --verbose, as a real run printed it (the mirror's address replaced): the index lines name no package.
MMDEBSTRAP_VERBOSE = (
    "I: downloading packages with apt...",
    "Get:1 http://mirror.example/debian bookworm InRelease [151 kB]",
    "Get:2 http://mirror.example/debian bookworm/main amd64 Packages [8790 kB]",
    "Get:1 http://mirror.example/debian bookworm/main amd64 gcc-12-base amd64 12.2.0-14+deb12u1 [37.6 kB]",
    "Get:2 http://mirror.example/debian bookworm/main amd64 libc6 amd64 2.36-9+deb12u14 [2759 kB]",
    "I: extracting archives...",
    "I: installing essential packages...",
    "Unpacking gcc-12-base:amd64 (12.2.0-14+deb12u1) ...",
    "Unpacking libc6:amd64 (2.36-9+deb12u14) ...",
    "Setting up gcc-12-base:amd64 (12.2.0-14+deb12u1) ...",
)


def test_mmdebstrap_verbose_shows_its_phase_and_counts_its_packages():
    events: list = []
    counter = PackageCounter(events.append, "bootstrap", 4)
    for line in MMDEBSTRAP_VERBOSE:
        counter(OutputLine("bootstrap", line))
    last = [e for e in events if isinstance(e, StepProgress)][-1]
    assert last.detail == "setting up the essential packages: 2 of 4 packages fetched, 2 unpacked, 1 set up"
    assert last.done == 2 and last.total == 4


def test_mmdebstrap_is_asked_for_apts_and_dpkgs_own_lines(tmp_path, monkeypatch, capsys):
    import os
    import shutil

    import pytest

    from emi_tui.cli import main

    if shutil.which("mmdebstrap") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have mmdebstrap")
        pytest.skip("needs mmdebstrap (the plan falls back to debootstrap without it)")
    answers = tmp_path / "a.yaml"
    answers.write_text(f"version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\noutput:\n  dir: {tmp_path / 'out'}\n")
    monkeypatch.setenv("EMI_TUI_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["build", "--dry-run", "--offline", str(answers)]) == 0
    command = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("$ mmdebstrap "))
    # Without --verbose mmdebstrap draws progress bars and no line per package: there would be nothing to count.
    assert " --verbose " in command


def test_the_bootstrap_step_streams_its_output_through_the_package_counter(monkeypatch):
    from types import SimpleNamespace

    from emi_tui.engine.build import bootstrap as bootstrap_step
    from emi_tui.engine.build.bootstrapper import BootstrapPlan

    events: list = []
    ctx = SimpleNamespace(
        bootstrap_plan=BootstrapPlan("debootstrap"), shared_index=None, base_packages=3, dry_run=False, step="bootstrap", emit=events.append,
        recipe=SimpleNamespace(family="deb", base_for=lambda arch: ["adduser"]), answers=SimpleNamespace(arch="x86_64"),
    )
    ctx.note = lambda text: ctx.emit(OutputLine(ctx.step, text))  # as JobContext.note: through whatever ctx.emit is now

    class Family:
        def bootstrap(self, ctx, packages, plan):
            for line in DEBOOTSTRAP:
                ctx.note(line)

    monkeypatch.setattr(bootstrap_step, "family_of", lambda ctx: Family())
    bootstrap_step._bootstrap(ctx)
    assert ctx.emit == events.append  # the counter is gone once the bootstrap returns
    progress = [e for e in events if isinstance(e, StepProgress)]
    assert progress[-1].detail == "3 of 3 packages fetched, 2 unpacked, 1 set up" and progress[-1].total == 3
