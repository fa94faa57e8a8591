"""`emi-tui modify ARTIFACT [CHANGES]`: the headless renderer of a modify's events.

It renders exactly as `emi-tui build` does (a live view on a terminal, one
line per step elsewhere, the plan for --dry-run) and steps aside while an
interactive `--shell` has the terminal. Heavy imports wait until `run`, so
that building the command line stays cheap.
"""

from __future__ import annotations

import argparse
import textwrap
from contextlib import contextmanager
from pathlib import Path

from emi_tui.engine.artifact.kinds import BUILT_SUFFIXES
from emi_tui.engine.errors import EmiError, ExitCode
from emi_tui.engine.modify.trust import TRUST_STATEMENT

DESCRIPTION = f"""\
Modify an existing image (as root): a copy of it is loop-mounted and changed
in a chroot, then cleaned, stamped with a new /etc/image-id (the old one is
kept in /etc/emi-tui/history), checked, zerofreed and repacked in the same
layout. The original is never changed.

ARTIFACT is a {BUILT_SUFFIXES} built by emi-tui or laid out like the
Eucalyptus starter images (NAME/NAME.img, kvm-kernel/), or a bare ext2/3/4 .img.

{textwrap.fill('Trust: ' + TRUST_STATEMENT, 78)}
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `modify` to the `emi-tui` command line."""
    parser = subparsers.add_parser(
        "modify", help="change an existing image: packages, a script, a shell; re-stamp and repack",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT")
    parser.add_argument("--upgrade", action="store_true", help="apply every update (apt-get full-upgrade, or yum update)")
    parser.add_argument("--add", nargs="+", action="extend", default=[], metavar="PKG", help="install these packages")
    parser.add_argument("--remove", nargs="+", action="extend", default=[], metavar="PKG", help="purge these packages")
    parser.add_argument("--run", type=Path, metavar="SCRIPT", help="copy SCRIPT into the image and run it in the chroot")
    parser.add_argument("--answers", type=Path, metavar="FILE", help="apply the metadata options of an answer file (regenerates rc.local, the udev rules and the rest)")
    parser.add_argument("--shell", action="store_true", help="an interactive shell inside the image for hand fixes (what is typed goes to a root-only log; the published log only counts the lines)")
    parser.add_argument("--grow", metavar="SIZE", help="enlarge the filesystem first, e.g. 4.5G (shrinking is refused)")
    parser.add_argument("--version", dest="image_version", metavar="V", help="the new image_version (default: today, YYYY.MM.DD)")
    parser.add_argument("--output", type=Path, metavar="DIR", help="where the new artifact goes (default: beside the original)")
    parser.add_argument("--dry-run", action="store_true", help="print every step and command without changing anything; needs no root")
    parser.add_argument("--work-dir", type=Path, metavar="DIR", help="where to work (default: /dev/shm when it has room, else /var/tmp)")
    parser.add_argument("--no-zerofree", action="store_true", help="skip zerofree: only for measuring what it saves, not for images you publish")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every log line instead of the live view")
    return parser


def run(args: argparse.Namespace) -> ExitCode:
    """Run `emi-tui modify` from parsed arguments; returns the exit code."""
    from rich.live import Live

    from emi_tui.commands.build import LiveView, _plain, _plan
    from emi_tui.commands.console import err, out, safe_text
    from emi_tui.engine.answers.model import validate_file
    from emi_tui.engine.answers.recipes import RecipeBook
    from emi_tui.engine.modify.job import ModifyRequest, run_modify
    from emi_tui.engine.run.events import OutputLine

    metadata = None
    if args.answers is not None:
        checked = validate_file(args.answers, RecipeBook())
        if not checked.ok:
            raise EmiError(f"{args.answers} has {len(checked.problems)} problem(s); nothing was modified", problems=checked.problems)
        metadata = checked.answers.metadata
    request = ModifyRequest(
        artifact=args.artifact, upgrade=args.upgrade, add=args.add, remove=args.remove, script=args.run,
        metadata=metadata, answers_file=args.answers, shell=args.shell, grow=args.grow, version=args.image_version,
        output=args.output, dry_run=args.dry_run, zerofree=not args.no_zerofree, work_root=args.work_dir,
    )
    live = None
    in_shell = False

    @contextmanager
    def step_aside():
        nonlocal in_shell
        in_shell = True
        if live is not None:
            live.stop()
        try:
            yield
        finally:
            in_shell = False
            if live is not None:
                live.start()

    def sink(event) -> None:
        if not in_shell:  # the shell's lines are already on the terminal, and in the log
            _plain(event)
            if args.verbose and isinstance(event, OutputLine):
                out.print(safe_text(f"[{event.step}] {event.text}"))

    request.shell_wrapper = step_aside
    # Said before anything runs, so that an operator about to modify an image from elsewhere can still stop.
    err.print(safe_text(("trust: ", "bold yellow"), TRUST_STATEMENT))
    if args.dry_run:
        result = run_modify(request, _plan)
    elif out.is_terminal and not args.verbose:
        view = LiveView()
        with Live(view, console=out, refresh_per_second=8, transient=False) as live:
            result = run_modify(request, view.handle)
    else:
        result = run_modify(request, sink)
    if result.ok and args.dry_run:
        out.print(safe_text("\n", ("plan complete", "green"), f": nothing was run or written (log: {result.log_path})", lines=True))
        return ExitCode.OK
    if result.ok:
        out.print(f"[green]modified[/] in {result.seconds:.0f}s:")
        for path in result.artifacts:
            out.print(safe_text(f"  {path}"))
        ids = "was:\n" + _indent(result.old_image_id or "(no /etc/image-id)") + "now:\n" + _indent(result.new_image_id)
        out.print(safe_text(ids, lines=True), end="")  # the old image-id is the image's own text
        changes = [f"{len(result.added)} added", f"{len(result.removed)} removed", f"{len(result.upgraded)} upgraded"]
        out.print(safe_text(f"packages: {', '.join(changes)}"))
        for name, (old, new) in sorted(result.upgraded.items()):
            out.print(safe_text(f"  ~ {name} {old} -> {new}"))
        for sign, found in (("+", result.added), ("-", result.removed)):
            for name, version in sorted(found.items()):
                out.print(safe_text(f"  {sign} {name} {version}"))
        return ExitCode.OK
    # The message may quote a member name or the image's own text: never markup.
    err.print(safe_text((f"emi-tui: modify {'cancelled' if result.cancelled else 'failed'}", "bold red"), " in step ",
                        (result.failed_step, "bold"), ": ", result.message, lines=True))
    if result.hint:
        err.print(safe_text(f"  hint: {result.hint}", lines=True))
    err.print(safe_text(f"  log: {result.log_path}"))
    err.print(safe_text(f"  the original is unchanged: {args.artifact}"))
    return ExitCode.CANCELLED if result.cancelled else ExitCode.BAD_INPUT if result.bad_artifact else ExitCode.FAILED


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())
