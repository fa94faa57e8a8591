"""`emi-tui cleanup`: undo what dead builds left behind (mounts, loop devices, files)."""

from __future__ import annotations

import sys

from emi_tui.commands.console import err, out, safe_text
from emi_tui.engine.errors import ExitCode
from emi_tui.engine.run.cleanup import clean, find_dead_builds


def run(assume_yes: bool) -> ExitCode:
    dead = find_dead_builds()
    if not dead:
        out.print("nothing to clean up: no dead builds left anything behind")
        return ExitCode.OK
    for build in dead:
        out.print(safe_text((f"dead build {build.pid}", "bold"), f" (work folder {build.work}):"))
        for action in build.actions():
            out.print(safe_text(f"  - {action}"))
    if not assume_yes:
        if not sys.stdin.isatty():
            err.print("emi-tui: error: not a terminal, so nothing was done\n  hint: run `emi-tui cleanup --yes` to do the above")
            return ExitCode.BAD_INPUT
        if input("Do this? [y/N] ").strip().lower() not in ("y", "yes"):
            out.print("nothing was done")
            return ExitCode.FAILED
    failures = []
    for build in dead:
        failures += clean(build, say=lambda line: out.print(safe_text(f"  {line}")))
    for failure in failures:
        err.print(safe_text(f"emi-tui: could not clean up: {failure}"))
    return ExitCode.FAILED if failures else ExitCode.OK
