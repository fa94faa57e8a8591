"""Bootstrappers side by side: debootstrap and mmdebstrap, with and without eatmydata, unsafe-io and a tmpfs.

`make bench BENCH=bootstrap`. Every variant bootstraps the debian-based
recipe's base (its base packages and the cloud kernel) from the workstation's
own mirror, one after the other in one run, after one warm-up that fills the
page cache and the mirror's. Each variant's tree is then compared with
debootstrap's: the same `dpkg-query -W`, and file differences only where
image_content gives a reason. "as emi-tui runs it" is the argv of
emi_tui.engine.build.distro (no Recommends, the merged-usr hook, lsb-base
asked for), with what the bootstrap step removes afterwards removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from image_content import BASE_DIFFERENCES, IMAGE_DIFFERENCES, compare

from emi_tui.engine.answers.mirror import workstation_mirror
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build.bootstrapper import DEBOOTSTRAP_PICKS, MERGED_USR_HOOKS
from emi_tui.engine.build.distro import MMDEBSTRAP_LEFTOVERS

EATMYDATA_HOOKS = "/usr/share/mmdebstrap/hooks/eatmydata"
REFERENCE = "debootstrap (tmpfs)"


def _variants(base: list[str], keyring: str) -> dict[str, tuple[list[str], str]]:
    """name -> (argv before RELEASE TARGET MIRROR, the parent folder of the target)."""
    include = f"--include={','.join(base)}"
    deb = ["debootstrap", "--variant=minbase", "--arch=amd64", "--components=main", include, f"--keyring={keyring}"]
    plain = ["mmdebstrap", "--mode=root", "--variant=minbase", "--architectures=amd64", "--components=main", include, f"--keyring={keyring}"]
    emi = [*plain[:-2], f"--include={','.join([*base, *DEBOOTSTRAP_PICKS])}", f"--keyring={keyring}",
           '--aptopt=APT::Install-Recommends "false"', f"--hook-dir={MERGED_USR_HOOKS}"]
    unsafe, eatmydata = "--dpkgopt=force-unsafe-io", f"--hook-dir={EATMYDATA_HOOKS}"
    return {
        REFERENCE: (deb, "/dev/shm"),
        "debootstrap + eatmydata (tmpfs)": (["eatmydata", *deb], "/dev/shm"),
        "mmdebstrap, plain (tmpfs)": (plain, "/dev/shm"),
        "mmdebstrap as emi-tui runs it (tmpfs)": ([*emi, unsafe], "/dev/shm"),
        "  the same without unsafe-io (tmpfs)": (emi, "/dev/shm"),
        "  the same + eatmydata (tmpfs)": ([*emi, unsafe, eatmydata], "/dev/shm"),
        "  the same on disk": ([*emi, unsafe], "/var/tmp"),
        "  the same on disk without unsafe-io": (emi, "/var/tmp"),
    }


def _bootstrap(argv: list[str], target: Path, release: str, mirror: str) -> float:
    began = time.monotonic()
    subprocess.run([*argv, release, str(target), mirror], check=True, capture_output=True)
    seconds = time.monotonic() - began
    if "--hook-dir=" + MERGED_USR_HOOKS in argv:  # as the bootstrap step does after mmdebstrap
        for left in MMDEBSTRAP_LEFTOVERS:
            (target / left).unlink(missing_ok=True)
    return seconds


def main() -> list[tuple[str, str, str, str]]:
    recipe = RecipeBook().get("debian-based")
    release = recipe.default_release
    mirror = workstation_mirror(recipe.releases)
    if mirror is None:
        raise SystemExit("no Debian mirror in this workstation's apt sources")
    variants = _variants(recipe.base_for("x86_64"), recipe.keyring or "")
    rows, trees, times = [], {}, {}
    scratch = {parent: Path(tempfile.mkdtemp(prefix="emi-bootbench-", dir=parent)) for parent in ("/dev/shm", "/var/tmp")}
    try:
        warm = scratch["/dev/shm"] / "warm-up"
        _bootstrap(variants["mmdebstrap, plain (tmpfs)"][0], warm, release, mirror)
        shutil.rmtree(warm)
        for index, (name, (argv, parent)) in enumerate(variants.items()):
            trees[name] = scratch[parent] / f"v{index}"
            times[name] = _bootstrap(argv, trees[name], release, mirror)
        for name, seconds in times.items():
            same, explained, unexplained = compare(trees[REFERENCE], trees[name], {**IMAGE_DIFFERENCES, **BASE_DIFFERENCES})
            content = "same packages" if same else "PACKAGES DIFFER"
            content += f", {len(explained)} file differences with a reason"
            content += f", {len(unexplained)} WITHOUT: {unexplained[:3]}" if unexplained else ""
            rows.append((f"bootstrap: {name}", f"{seconds:.1f} s", f"{seconds / times[REFERENCE]:.2f}x debootstrap", content))
    finally:
        for folder in scratch.values():
            shutil.rmtree(folder, ignore_errors=True)
    return rows


if __name__ == "__main__":
    os.environ.setdefault("LC_ALL", "C.UTF-8")
    for row in main():
        print(" | ".join(row), flush=True)
