"""Build benchmarks, each figure measured side by side in one run (needs root and a mirror).

- cold build against cached rebuild, with gzip (pigz) and with zstd;
- artifact size against the limit: tar of the image's root, compressed with the same compressor;
- pigz against gzip for the packaging step, on the same staged folder.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from timed_build import timed_build

from emi_tui.engine.artifact.compress import tar_argv

ANSWERS = "version: 1\nrecipe: debian-based\nimage: {{version: '{version}'}}\noutput: {{dir: {out}, compress: {compress}}}\n{extra}"


def _build(tmp: Path, version: str, compress: str, extra: str = "") -> tuple[float, dict[str, float], Path]:
    text = ANSWERS.format(version=version, out=tmp / f"out-{version}-{compress}", compress=compress, extra=extra)
    return timed_build(text)


def _timed(argv: list[str]) -> float:
    began = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - began


def _root_tar_size(tarball: Path, work: Path, program: str) -> tuple[int, int]:
    """Sizes of the image's files as a plain compressed tar: alone, and with the kvm-kernel/ copies the artifact carries."""
    subprocess.run(["tar", "-xf", str(tarball), "-C", str(work)], check=True)
    image = next(work.rglob("*.img"))
    mount = work / "mnt"
    mount.mkdir()
    subprocess.run(["mount", "-o", "loop,ro", str(image), str(mount)], check=True)
    try:
        root_only, with_kernel = work / "root.tar", work / "root-kernel.tar"
        subprocess.run(tar_argv(str(mount), ".", str(root_only), program), check=True)
        argv = tar_argv(str(mount), ".", str(with_kernel), program)
        # A second -C must come before the `--` that ends tar's options, so the names go after it by hand.
        subprocess.run(argv[: argv.index("--")] + [".", "-C", str(image.parent), "kvm-kernel"], check=True)
        return root_only.stat().st_size, with_kernel.stat().st_size
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def main() -> list[tuple[str, str, str, str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="emi-bench-", dir="/var/tmp") as scratch:
        tmp = Path(scratch)
        for compress, program in (("gzip", "pigz"), ("zstd", "zstd")):
            os.environ["EMI_TUI_CACHE_DIR"] = str(tmp / f"cache-{compress}")  # a cold cache for each
            cold, cold_steps, tarball = _build(tmp, "2026.01.01", compress)
            cached, cached_steps, _ = _build(tmp, "2026.01.02", compress, extra="packages: {add: [htop]}\n")
            rows.append((f"cold build ({compress})", f"{cold:.1f} s", "", f"bootstrap {cold_steps['bootstrap']:.1f} s, package {cold_steps['package']:.1f} s"))
            ratio = cached / cold
            rows.append((f"cached rebuild ({compress})", f"{cached:.1f} s", f"{ratio:.2f}x cold (its target is set against the hand script: make bench BENCH=peer)", f"package {cached_steps['package']:.1f} s"))
            work = tmp / f"limit-{compress}"
            work.mkdir()
            root_only, limit = _root_tar_size(tarball, work, program)
            size = tarball.stat().st_size
            rows.append((
                f"artifact size ({compress})", f"{size / 1e6:.1f} MB", f"{size / limit:.3f}x limit {limit / 1e6:.1f} MB (target <= 1.05x)",
                f"limit = tar of the root + kvm-kernel/; root alone {root_only / 1e6:.1f} MB ({size / root_only:.2f}x)",
            ))
            if compress == "gzip":
                staged = work / tarball.name.removesuffix(".tgz")
                pigz = _timed(tar_argv(str(work), staged.name, str(work / "p.tgz"), "pigz"))
                gzip = _timed(tar_argv(str(work), staged.name, str(work / "g.tgz"), "gzip"))
                rows.append(("package with pigz vs gzip", f"{pigz:.1f} s vs {gzip:.1f} s", f"{pigz / gzip:.2f}x (target <= 0.6x)", f"{os.cpu_count()} cores"))
    return rows


if __name__ == "__main__":
    for row in main():
        print(" | ".join(row))
