"""`make bench`: run every benchmark and print one table of figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    only = set(sys.argv[1:])
    table = Table(title="emi-tui benchmarks", title_justify="left")
    for column in ("figure", "measured", "against target", "detail"):
        table.add_column(column)
    suites = []
    if not only or "tui" in only:
        # The TUI flood prints its own table (it runs a headless app of its own).
        subprocess.run([sys.executable, str(Path(__file__).resolve().parent / "tui_log.py")])
    if not only or "inputs" in only:
        import inputs_bench

        suites.append(("inputs", inputs_bench.main))
    if (not only or "build" in only) and os.geteuid() == 0:
        import build_bench

        suites.append(("build", build_bench.main))
    if (not only or "boot" in only) and os.geteuid() == 0:
        import boot_bench

        suites.append(("boot", boot_bench.main))
    if (not only or "modify" in only) and os.geteuid() == 0:
        import modify_bench

        suites.append(("modify", modify_bench.main))
    if "chroot" in only and os.geteuid() == 0:
        # Only when named: two cold builds a round, side by side (`make bench BENCH=chroot`).
        import chroot_bench

        suites.append(("chroot", chroot_bench.main))
    if "bootstrap" in only and os.geteuid() == 0:
        # Only when named: eight bootstraps side by side, about six minutes (`make bench BENCH=bootstrap`).
        import bootstrap_bench

        suites.append(("bootstrap", bootstrap_bench.main))
    if "aarch64" in only and os.geteuid() == 0:
        # Only when named: a cold aarch64 build under qemu-user and its boot under TCG, tens of minutes (`make bench BENCH=aarch64`).
        import aarch64_bench

        suites.append(("aarch64", aarch64_bench.main))
    if "peer" in only and os.geteuid() == 0:
        # Only when named: emi-tui against a hand-written build script, side by side (`make bench BENCH=peer`).
        import peer_bench

        suites.append(("peer", peer_bench.main))
    if "catalog" in only and os.geteuid() == 0:
        # Only when named: a cold build, four builds one after another and the same four as a catalog (`make bench BENCH=catalog`).
        import catalog_bench

        suites.append(("catalog", catalog_bench.main))
    for _name, run in suites:
        for row in run():
            table.add_row(*row)
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
