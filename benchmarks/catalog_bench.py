"""The catalog benchmark: four images (x86_64 and i386, 1.3G and 4.5G, zstd) released as a catalog, against the
same four built one after another, against one cold x86_64 1.3G build; each with an empty cache, in one run.

Target (issue 19): the catalog in <= 2.2x one cold build, and faster than one after another.
`make bench BENCH=catalog` (root, a mirror in the apt sources; about half an hour on 2 cores).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from timed_build import timed_build

from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.catalog.build import CatalogOptions, run_catalog
from emi_tui.engine.catalog.plan import default_jobs, make_plan
from emi_tui.engine.catalog.resolve import resolve_bytes

IMAGES = [("x86_64", "1.3G"), ("i386", "1.3G"), ("x86_64", "4.5G"), ("i386", "4.5G")]
ANSWERS = "version: 1\nrecipe: debian-based\narch: {arch}\nsize: {size}\nimage: {{version: '{version}'}}\noutput: {{dir: {out}, compress: zstd}}\n"
CATALOG = """catalog: 1
image: {{version: "{version}"}}
output: {{dir: {out}, compress: zstd}}
matrix:
  recipes: [debian-based]
  arches: [x86_64, i386]
  sizes: [1.3G, 4.5G]
"""


def _empty_cache(tmp: Path, name: str) -> None:
    os.environ["EMI_TUI_CACHE_DIR"] = str(tmp / f"cache-{name}")


def main() -> list[tuple[str, str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="emi-bench-catalog-", dir="/var/tmp") as scratch:
        tmp = Path(scratch)
        _empty_cache(tmp, "cold")
        cold, _, _ = timed_build(ANSWERS.format(arch="x86_64", size="1.3G", version="2026.03.01", out=tmp / "cold"), "cold build")

        _empty_cache(tmp, "serial")
        began = time.monotonic()
        for arch, size in IMAGES:
            timed_build(ANSWERS.format(arch=arch, size=size, version="2026.03.02", out=tmp / "serial"), f"serial {arch} {size}")
        serial = time.monotonic() - began

        _empty_cache(tmp, "catalog")
        catalog = resolve_bytes(CATALOG.format(version="2026.03.03", out=tmp / "catalog"), str(tmp / "release.yaml"), RecipeBook())
        assert catalog.ok, catalog.problems
        plan = make_plan(catalog)
        choice = default_jobs(plan)
        began = time.monotonic()
        result = run_catalog(catalog, lambda event: None, threading.Event(), CatalogOptions(), plan=plan)
        released = time.monotonic() - began
        if not result.ok:
            raise SystemExit(f"the catalog failed: {result.outcomes}")
    return [
        ("one cold build (x86_64 1.3G, zstd)", f"{cold:.1f} s", "", "empty cache"),
        ("4 images one after another", f"{serial:.1f} s", f"{serial / cold:.2f}x cold", "empty cache; the large images reuse the bases"),
        ("4 images as a catalog", f"{released:.1f} s", f"{released / cold:.2f}x cold (target <= 2.2x), {released / serial:.2f}x one after another",
         choice.reason),
    ]


if __name__ == "__main__":
    for row in main():
        print(" | ".join(row))
