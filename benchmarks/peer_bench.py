"""emi-tui's build of the default image against the script an operator would write by hand (issue 15).

Both sides build the debian-based recipe's default package set into a 1.3G
ext3 image with its kernel beside it, tarred and compressed with pigz:
emi-tui through its engine (`timed_build`), the operator with
benchmarks/hand_build.sh (mmdebstrap, apt-get clean, mke2fs -d, zerofree,
the kernel copied out, tar). Every cold emi-tui build gets a new, empty cache
folder: no cached base, no cached package index. One warm-up of each side is
not counted; then each round builds both, the side that goes first
alternating, so that a warming page cache favours neither. Figures are
medians. Then emi-tui's cached rebuilds (the last cold build's cache kept)
are measured against the hand script's cold build, which has no cache to use.
Last, the two sides' package lists are compared.

    python benchmarks/peer_bench.py [ROUNDS] [--no-warm-up]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from timed_build import timed_build

from emi_tui.engine.answers.mirror import workstation_mirror
from emi_tui.engine.answers.recipes import Recipe, RecipeBook
from emi_tui.engine.artifact.manifest import read_manifest
from emi_tui.engine.build.aptlists import fetch_shared_index, package_index
from emi_tui.engine.build.bootstrapper import compatibility_includes

Row = tuple[str, str, str, str]
RECIPE = "debian-based"
ARCH = "x86_64"
HAND_SCRIPT = Path(__file__).resolve().parent / "hand_build.sh"
ANSWERS = "version: 1\nrecipe: debian-based\nimage: {{version: '{version}'}}\noutput: {{dir: {out}, compress: {compress}}}\n{extra}"
#: emi-tui's steps beside the hand script's phases that do the same work (preflight has no counterpart by hand).
STEP_PHASES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("preflight",), ()),
    (("bootstrap",), ("mmdebstrap",)),
    (("chroot", "hygiene"), ("clean", "list")),
    (("kernel",), ("kernel",)),
    (("filesystem",), ("mke2fs",)),
    (("zerofree",), ("zerofree",)),
    (("package",), ("package",)),
)
#: (figure, compressor, extra answers, target as a fraction of the hand script's cold build)
CACHED = (
    ("cached rebuild (zstd)", "zstd", "", 0.2),
    ("cached rebuild (gzip)", "gzip", "", 0.2),
    ("cached rebuild (zstd) adding htop", "zstd", "packages: {add: [htop]}\n", 0.25),
)


def package_set(recipe: Recipe, arch: str = ARCH) -> list[str]:
    """What emi-tui's build leaves installed by name: the base with its kernel, the default list, the trim purged.

    As customize.run does with no package changes in the answers: the default
    list installed on top of the bootstrap's base, then every trimmed name purged.
    """
    wanted = dict.fromkeys(recipe.base_for(arch) + recipe.default_package_list())
    return [name for name in wanted if name not in recipe.trim]


def parse_phases(stderr: str) -> dict[str, float]:
    """phase -> seconds from the hand script's `phase NAME SECONDS` lines (other lines are mmdebstrap's)."""
    phases: dict[str, float] = {}
    for line in stderr.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "phase":
            try:
                phases[words[1]] = float(words[2])
            except ValueError:
                continue
    return phases


def read_listing(text: str) -> dict[str, str]:
    """name -> version of the installed packages in the hand script's `name<TAB>version<TAB>status` listing."""
    installed = {}
    for line in text.splitlines():
        name, version, status = (line.split("\t") + ["", ""])[:3]
        if name and status.startswith("ii"):
            installed[name] = version
    return installed


def compare_packages(emi: dict[str, str], hand: dict[str, str]) -> tuple[bool, str]:
    """Whether both sides installed the same packages at the same versions, and what differs if not."""
    only_emi = sorted(set(emi) - set(hand))
    only_hand = sorted(set(hand) - set(emi))
    versions = sorted(name for name in set(emi) & set(hand) if emi[name] != hand[name])
    if not (only_emi or only_hand or versions):
        return True, f"same {len(emi)} packages, same versions"
    parts = []
    if only_emi:
        parts.append(f"only emi-tui: {', '.join(only_emi)}")
    if only_hand:
        parts.append(f"only the hand script: {', '.join(only_hand)}")
    if versions:
        parts.append("other versions: " + ", ".join(f"{name} {emi[name]} vs {hand[name]}" for name in versions))
    return False, "; ".join(parts)


def median(values: Sequence[float]) -> float:
    """The median of the measured runs (a benchmark with no run is a defect, not a zero)."""
    if not values:
        raise ValueError("no runs to take the median of")
    return statistics.median(values)


def against(ratio: float, target: float, stretch: float | None = None) -> str:
    """`ratio` written against its target (and stretch goal), saying whether it meets them."""
    verdict = "meets" if ratio <= target else "misses"
    text = f"{ratio:.2f}x (target <= {target:g}x, {verdict}"
    if stretch is not None:
        text += f"; stretch <= {stretch:g}x, {'meets' if ratio <= stretch else 'misses'}"
    return text + ")"


def runs(values: Iterable[float]) -> str:
    return ", ".join(f"{value:.1f}" for value in values)


def step_rows(emi_steps: Sequence[dict[str, float]], hand_phases: Sequence[dict[str, float]],
              emi_totals: Sequence[float], hand_totals: Sequence[float]) -> list[Row]:
    """Per matching step: the median seconds of each side and the difference (emi-tui minus hand).

    A last row holds the rest: the time of each run the rows above do not
    account for (a step of emi-tui's not listed in STEP_PHASES; for the hand
    script: mktemp, its cleanup, the process itself).
    """
    rows: list[Row] = []
    listed_steps = [step for steps, _ in STEP_PHASES for step in steps]
    listed_phases = [phase for _, phases in STEP_PHASES for phase in phases]
    emi_named = [sum(run.get(step, 0.0) for step in listed_steps) for run in emi_steps]
    hand_named = [sum(run.get(phase, 0.0) for phase in listed_phases) for run in hand_phases]
    for steps, phases in STEP_PHASES:
        emi = median([sum(run.get(step, 0.0) for step in steps) for run in emi_steps])
        hand = median([sum(run.get(phase, 0.0) for phase in phases) for run in hand_phases]) if phases else 0.0
        name = f"  {'+'.join(steps)} vs {' + '.join(phases) or '(nothing)'}"
        rows.append((name, f"{emi:.1f} s vs {hand:.1f} s", f"{emi - hand:+.1f} s", ""))
    emi_rest = median([total - named for total, named in zip(emi_totals, emi_named, strict=True)])
    hand_rest = median([total - named for total, named in zip(hand_totals, hand_named, strict=True)])
    rows.append(("  the rest (outside these steps)", f"{emi_rest:.1f} s vs {hand_rest:.1f} s", f"{emi_rest - hand_rest:+.1f} s", ""))
    return rows


class Bench:
    """One run's scratch folder, numbering and the inputs both sides share."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        recipe = RecipeBook().get(RECIPE)
        self.release = recipe.default_release
        mirror = workstation_mirror([self.release]) or workstation_mirror(recipe.releases)
        if mirror is None:
            raise SystemExit(f"no apt source on this workstation serves {recipe.distro}: the hand script needs a mirror")
        self.mirror = mirror
        # The names emi-tui also asks mmdebstrap for, so that both install what debootstrap would (lsb-base in bookworm).
        index = package_index(fetch_shared_index(mirror, self.release, recipe.components[0], recipe.arches[ARCH], recipe.keyring))
        self.packages = package_set(recipe) + compatibility_includes(index, recipe.base_for(ARCH))
        self.count = 0
        self.cache: Path | None = None
        self.hand_cold: float | None = None  # the hand script's median cold build, which cached rebuilds are set against

    def _next(self) -> int:
        self.count += 1
        return self.count

    def emi_build(self, compress: str = "gzip", extra: str = "", cold: bool = True) -> tuple[float, dict[str, float], Path]:
        """One emi-tui build (a cold one from a new, empty cache folder); returns seconds, steps and its manifest."""
        number = self._next()
        if cold:
            if self.cache is not None:
                shutil.rmtree(self.cache)  # only the last cold build's cache is kept, for the cached rebuilds
            self.cache = self.scratch / f"cache-{number:02d}"
            self.cache.mkdir()
        assert self.cache is not None, "a cached rebuild needs a cold build first"
        os.environ["EMI_TUI_CACHE_DIR"] = str(self.cache)
        out = self.scratch / f"out-{number:02d}"
        text = ANSWERS.format(version=f"2026.12.{number:02d}", out=out, compress=compress, extra=extra)
        seconds, steps, artifact = timed_build(text, f"emi-tui build {number}")
        manifest = next(out.glob("*.manifest"))
        artifact.unlink()  # the figures are taken; the disk is not the benchmark's
        return seconds, steps, manifest

    def hand_build(self) -> tuple[float, dict[str, float], Path]:
        """One run of the hand script; returns seconds, its phases and its package listing."""
        number = self._next()
        tarball = self.scratch / f"hand-{number:02d}.tgz"
        log = self.scratch / f"hand-{number:02d}.log"
        argv = ["sh", str(HAND_SCRIPT), self.mirror, self.release, str(tarball), ",".join(self.packages)]
        began = time.monotonic()
        with log.open("w") as stderr:
            done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=stderr, check=False)
        seconds = time.monotonic() - began
        text = log.read_text(errors="replace")
        if done.returncode != 0 or not tarball.is_file() or tarball.stat().st_size == 0:
            raise SystemExit(f"hand script build {number} failed (exit {done.returncode}):\n{text[-2000:]}")
        tarball.unlink()
        return seconds, parse_phases(text), tarball.with_name(tarball.name + ".packages")


def cold_rounds(bench: Bench, rounds: int, warm_up: bool) -> list[Row]:
    emi: list[tuple[float, dict[str, float], Path]] = []
    hand: list[tuple[float, dict[str, float], Path]] = []
    if warm_up:
        bench.emi_build()
        bench.hand_build()
    for number in range(rounds):
        order = ("emi", "hand") if number % 2 == 0 else ("hand", "emi")
        for side in order:
            if side == "emi":
                emi.append(bench.emi_build())
            else:
                hand.append(bench.hand_build())
    emi_totals, hand_totals = [run[0] for run in emi], [run[0] for run in hand]
    emi_cold, hand_cold = median(emi_totals), median(hand_totals)
    bench.hand_cold = hand_cold
    rows: list[Row] = [(
        f"cold build, emi-tui vs hand script (median of {rounds}, alternating)",
        f"{emi_cold:.1f} s vs {hand_cold:.1f} s", against(emi_cold / hand_cold, 1.0, 0.9),
        f"emi-tui {runs(emi_totals)} s; hand {runs(hand_totals)} s" + ("" if warm_up else "; no warm-up"),
    )]
    rows += step_rows([run[1] for run in emi], [run[1] for run in hand], emi_totals, hand_totals)
    same, detail = compare_packages(read_manifest(emi[-1][2]), read_listing(hand[-1][2].read_text()))
    rows.append(("packages installed, emi-tui vs hand script", "same" if same else "differ", "", detail))
    return rows


def cached_rounds(bench: Bench, rounds: int) -> list[Row]:
    hand_cold = bench.hand_cold
    assert hand_cold is not None, "the cached rebuilds are set against the cold rounds' hand script"
    rows: list[Row] = []
    measured: dict[str, list[tuple[float, dict[str, float], Path]]] = {}
    for figure, compress, extra, target in CACHED:
        measured[figure] = [bench.emi_build(compress, extra, cold=False) for _ in range(rounds)]
        seconds = [run[0] for run in measured[figure]]
        middle = median(seconds)
        bootstrap = median([run[1].get("bootstrap", 0.0) for run in measured[figure]])
        package = median([run[1].get("package", 0.0) for run in measured[figure]])
        rows.append((
            figure, f"{middle:.1f} s", against(middle / hand_cold, target) + " of the hand script's cold build",
            f"runs {runs(seconds)} s; bootstrap {bootstrap:.1f} s, package {package:.1f} s",
        ))
    rows += gzip_rows(measured["cached rebuild (gzip)"], measured["cached rebuild (zstd)"], hand_cold)
    return rows


def gzip_rows(gzip: Sequence[tuple[float, dict[str, float], Path]], zstd: Sequence[tuple[float, dict[str, float], Path]],
              hand_cold: float) -> list[Row]:
    """Why the gzip rebuild misses its target, in figures: what overlapping could win at best, and what pigz alone costs.

    mke2fs, e2fsck and zerofree must finish before tar can read the image, so
    overlapping them with compression could at best hide their whole time;
    tar already streams into the compressor. What is left is the bound.
    """
    gzip_total = median([run[0] for run in gzip])
    overlappable = median([run[1].get("filesystem", 0.0) + run[1].get("zerofree", 0.0) for run in gzip])
    pigz = median([run[1].get("package", 0.0) for run in gzip])
    zstd_total = median([run[0] for run in zstd])
    zstd_package = median([run[1].get("package", 0.0) for run in zstd])
    return [
        ("  gzip rebuild with mke2fs, e2fsck and zerofree hidden entirely", f"{gzip_total - overlappable:.1f} s",
         against((gzip_total - overlappable) / hand_cold, 0.2) + " of the hand script's cold build",
         f"the most overlapping could win: {overlappable:.1f} s"),
        ("  pigz alone (the package step of the gzip rebuild)", f"{pigz:.1f} s", f"{pigz / hand_cold:.2f}x of the hand script's cold build",
         f"{os.cpu_count()} cores; zstd packs the same folder in {zstd_package:.1f} s"),
        ("  zstd's gain, the wizard's suggestion", f"{zstd_total:.1f} s vs {gzip_total:.1f} s", f"{zstd_total / gzip_total:.2f}x the gzip rebuild",
         f"package step {zstd_package:.1f} s vs {pigz:.1f} s ({zstd_package / pigz:.2f}x)"),
    ]


def main(rounds: int = 3, warm_up: bool = True) -> list[Row]:
    if rounds < 1:
        raise SystemExit("ROUNDS must be at least 1")
    scratch = Path(tempfile.mkdtemp(prefix="emi-bench-peer-", dir="/var/tmp"))
    saved = os.environ.get("EMI_TUI_CACHE_DIR")
    try:
        bench = Bench(scratch)
        rows = cold_rounds(bench, rounds, warm_up)
        rows += cached_rounds(bench, rounds)
        return rows
    finally:
        if saved is None:
            os.environ.pop("EMI_TUI_CACHE_DIR", None)
        else:
            os.environ["EMI_TUI_CACHE_DIR"] = saved
        shutil.rmtree(scratch, ignore_errors=True)


def parse_args(argv: Sequence[str]) -> tuple[int, bool]:
    """ROUNDS and whether to warm up, from `[ROUNDS] [--no-warm-up]`."""
    words = [word for word in argv if word != "--no-warm-up"]
    if len(words) > 1 or (words and not words[0].isdigit()):
        raise SystemExit("usage: python benchmarks/peer_bench.py [ROUNDS] [--no-warm-up]")
    return (int(words[0]) if words else 3), "--no-warm-up" not in argv


if __name__ == "__main__":
    count, warm = parse_args(sys.argv[1:])
    for row in main(count, warm):
        print(" | ".join(row), flush=True)
