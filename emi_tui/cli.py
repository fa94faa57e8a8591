"""The `emi-tui` command: the wizard with no subcommand, headless work with one.

This module never imports Textual at import time: only the branch that opens
the wizard does, so `emi-tui build`, `validate` and `review` run on machines
and in CI without a terminal UI.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from emi_tui import __version__
from emi_tui.engine.artifact.kinds import BUILT_SUFFIXES
from emi_tui.engine.errors import EmiError, ExitCode

DESCRIPTION = """\
Build small Eucalyptus/EC2-style machine images (EMIs).

With no command, opens the wizard. The same engine runs headless:
  emi-tui validate answers.yaml        check an answer file
  emi-tui build answers.yaml           build the image it describes
  emi-tui review images/               review image-id files, catalogs and images
  emi-tui catalog build release.yaml   build a catalog of images and write its EMI-IDs
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emi-tui", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"emi-tui {__version__}")
    parser.add_argument("--answers", type=Path, metavar="FILE", help="open the wizard with the answers of FILE filled in")
    parser.add_argument("--theme", metavar="NAME", help="the wizard's theme (emi-dark, emi-light, emi-contrast or a Textual theme)")
    _recipes_option(parser, None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = commands.add_parser(
        "validate", help="check answer files", description="Check answer files: every problem as FILE:LINE:COL, or FILE: ok and the resolved answers."
    )
    validate.add_argument("files", nargs="*", type=Path, metavar="FILE")
    validate.add_argument("--schema", action="store_true", help="print the JSON Schema of the answer-file format instead")
    validate.add_argument("-q", "--quiet", action="store_true", help="print only FILE: ok, not the resolved answers")
    validate.add_argument("--format", dest="output_format", choices=["text", "json", "github"], default="text",
                          help="text (default); json: one array of problems (file, line, column, key, severity, message); "
                               "github: GitHub Actions annotations (::error file=…,line=…::…)")
    _recipes_option(validate)

    recipes = commands.add_parser(
        "recipes", help="list the recipes", description="List the recipes: the shipped ones, ~/.config/emi-tui/recipes and the --recipes folder."
    )
    recipes.add_argument("names", nargs="*", metavar="NAME", help="show only these recipes")
    _recipes_option(recipes)
    _plain_option(recipes)

    review = commands.add_parser(
        "review",
        help="review image-id files, catalogs and images",
        description="Review /etc/image-id files: loose files, folders (recursively), catalogs, .img images and built artifacts.",
    )
    review.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    review.add_argument("--json", action="store_true", help="print one JSON array, an object per entry (as --format json)")
    review.add_argument("--format", dest="output_format", choices=["text", "json", "github"], default="text",
                        help="text (default); json: as --json; github: each problem and warning as a GitHub Actions annotation")
    review.add_argument("--full-stamp-search", action="store_true",
                        help="search every UTC offset for every stamp; by default a review spends ~1 s on stamps that verify nowhere, then searches the rest at UTC only")
    _plain_option(review)

    build = commands.add_parser(
        "build",
        help="build the image an answer file describes",
        description="Build the image an answer file describes (as root): bootstrap, chroot, hygiene, kernel, ext3 image, zerofree, package.",
    )
    build.add_argument("answers", type=Path, metavar="ANSWERS")
    build.add_argument("--dry-run", action="store_true", help="print every step and command (argv) without running anything; needs no root")
    build.add_argument("--no-cache", action="store_true", help="bootstrap from scratch and do not store the base")
    build.add_argument("--retry", action="store_true", help="start again from the cached base after a failure")
    build.add_argument("--bootstrapper", choices=["mmdebstrap", "debootstrap"],
                       help="bootstrap a Debian-family base with this program (default: mmdebstrap when installed, else debootstrap)")
    build.add_argument("--work-dir", type=Path, metavar="DIR", help="where to build (default: /dev/shm when it has room, else /var/tmp)")
    build.add_argument("--offline", action="store_true",
                       help="do not ask the mirror and the repositories before the build: those checks say \"not checked\" (the folders, space and keyrings are checked anyway)")
    build.add_argument("-v", "--verbose", action="store_true", help="print every log line instead of the live view")
    build.add_argument("--setup-emulation", action="store_true",
                       help="for a foreign arch (aarch64 on x86_64): register qemu-user-static's emulation in binfmt_misc first, and say what changed "
                            "(emi-tui never changes the host's registrations without it)")
    _recipes_option(build)

    serve = commands.add_parser(
        "metadata-serve", help="run an EC2-style metadata service on 127.0.0.1",
        description="Serve the EC2 metadata paths an EMI reads (meta-data, public-keys, block-device-mapping, user-data) on 127.0.0.1, logging each request. "
                    "Session tokens (IMDSv2) as EC2 hands them out, or none (--imds).",
    )
    serve.add_argument("--port", type=int, default=8169, help="the port (default 8169)")
    serve.add_argument("--key", type=Path, metavar="FILE", help="an OpenSSH public key file to serve as public-keys/0")
    serve.add_argument("--user-data", type=Path, metavar="FILE", help="a file to serve as user-data")
    serve.add_argument("--hostname", default="emi-test.localdomain", help="the local-hostname to serve")
    _imds_option(serve)

    boot = commands.add_parser(
        "boot-test", help="boot an image under QEMU and check what rc.local did",
        description="Boot an artifact under QEMU (KVM if it works, else TCG) with a local metadata service and an ephemeral disk, and check: kernel, root, rc.local, SSH key, ephemeral0, user-data, host keys, /etc/image-id; "
                    "/dev/sdb when the image maps vd* disks, and with --root-size that / grew to fill a larger root disk. "
                    "The guest's console is logged in the log folder with the job logs (~/.local/state/emi-tui/logs), never beside the artifact.",
    )
    boot.add_argument("artifact", type=Path, metavar="ARTIFACT", help=f"a built {BUILT_SUFFIXES}, or an .img with --kernel and --ramdisk")
    boot.add_argument("--kernel", type=Path, help="the kernel, for a bare .img")
    boot.add_argument("--ramdisk", type=Path, help="the initramfs, for a bare .img")
    boot.add_argument("--user", default="root", choices=["root", "ec2-user"], help="who should receive the served SSH key (as the image's ssh_key)")
    boot.add_argument("--timeout", type=float, default=240, help="seconds before a hung boot fails (default 240)")
    boot.add_argument("--accel", default="auto", choices=["auto", "kvm", "tcg"], help="auto tries KVM briefly, then TCG")
    boot.add_argument("--root-size", metavar="SIZE",
                      help="give the guest a root disk of SIZE (such as 4G, larger than the image) and check that / grew to fill it")
    boot.add_argument("-v", "--verbose", action="store_true", help="print the whole console (it is logged in the log folder either way)")
    _imds_option(boot)

    cleanup = commands.add_parser(
        "cleanup", help="undo what killed builds left behind",
        description="Find the work folders of dead builds and undo their mounts, loop devices, files and partial artifacts.",
    )
    cleanup.add_argument("-y", "--yes", action="store_true", help="do it without asking")

    from emi_tui.commands import modify  # its heavy imports wait until it runs

    modify.add_parser(commands)

    from emi_tui.commands import catalog

    catalog.add_parser(commands)

    cache = commands.add_parser("cache", help="list or clear the cache of bootstrapped bases", description="The cache of bootstrapped bases.")
    cache.add_argument("action", choices=["list", "clear"])
    _plain_option(cache)

    completion = commands.add_parser(
        "completion", help="print the shell completion script for bash, zsh or fish",
        description="Print the completion script of SHELL: subcommands, options, recipe and theme names, answer files and artifacts. "
                    "For bash: emi-tui completion bash > ~/.local/share/bash-completion/completions/emi-tui",
    )
    completion.add_argument("shell", choices=["bash", "zsh", "fish"], metavar="SHELL", help="bash, zsh or fish")
    return parser


def _plain_option(parser: argparse.ArgumentParser) -> None:
    """--plain: a table's rows as `key: value` records (what a pipe gets anyway), for scripts and narrow terminals."""
    parser.add_argument("--plain", action="store_true", help="print each row as key: value lines, a blank line between rows, instead of a table")


def _imds_option(parser: argparse.ArgumentParser) -> None:
    """--imds v1|v2|v2-required: which requests of the metadata service need a session token."""
    parser.add_argument(
        "--imds", default="v2", choices=["v1", "v2", "v2-required"],
        help="the metadata service's session tokens: v1 has none (its token request gets 405, as a v1-only service's), "
             "v2 offers them and still answers requests without one (the default, EC2's HttpTokens=optional), "
             "v2-required refuses requests without one (HttpTokens=required)",
    )


def _recipes_option(parser: argparse.ArgumentParser, default: object = argparse.SUPPRESS) -> None:
    """--recipes DIR: the only way a folder other than the shipped one and ~/.config/emi-tui/recipes supplies recipes.

    Subcommands default to SUPPRESS so that `emi-tui --recipes DIR build …` and `emi-tui build --recipes DIR …` both work.
    """
    parser.add_argument(
        "--recipes", dest="recipes_dir", type=Path, metavar="DIR", default=default,
        help="also read the recipes in DIR (such as ./recipes); one named like a shipped recipe replaces it, with a warning",
    )


def _dispatch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command == "validate":
        from emi_tui.commands import validate

        if not args.files and not args.schema:
            raise EmiError("validate needs at least one answer file", hint="emi-tui validate answers.yaml (or --schema for the JSON Schema)")
        return validate.run(args.files, args.schema, args.quiet, args.recipes_dir, args.output_format)
    if args.command == "recipes":
        from emi_tui.commands import recipes

        return recipes.run(args.recipes_dir, args.names, args.plain)
    if args.command == "review":
        from emi_tui.commands import review

        return review.run(args.paths, args.json or args.output_format == "json", args.full_stamp_search, args.plain,
                          github=args.output_format == "github")
    if args.command == "build":
        from emi_tui.commands import build

        return build.run(args.answers, args.dry_run, not args.no_cache, args.retry, args.work_dir, args.verbose, args.recipes_dir, args.bootstrapper, args.offline,
                         args.setup_emulation)
    if args.command == "metadata-serve":
        from emi_tui.commands import boot

        return boot.serve(args.port, args.key, args.user_data, args.hostname, args.imds)
    if args.command == "boot-test":
        from emi_tui.commands import boot

        return boot.boot_test(args.artifact, args.kernel, args.ramdisk, args.user, args.timeout, args.accel, args.verbose,
                              args.imds, args.root_size)
    if args.command == "modify":
        from emi_tui.commands import modify

        return modify.run(args)
    if args.command == "catalog":
        from emi_tui.commands import catalog

        return catalog.run(args)
    if args.command == "cleanup":
        from emi_tui.commands import cleanup

        return cleanup.run(args.yes)
    if args.command == "cache":
        from emi_tui.commands import cache

        return cache.run(args.action, args.plain)
    if args.command == "completion":
        from emi_tui.commands import completion

        print(completion.script(parser, args.shell), end="")
        return ExitCode.OK
    return _open_wizard(args)


def _open_wizard(args: argparse.Namespace) -> int:
    if not sys.stdout.isatty() and not sys.stdin.isatty():
        raise EmiError("the wizard needs a terminal", hint="run it in a terminal, or use `emi-tui build ANSWERS` headless")
    from emi_tui.tui.app import run_app  # the only Textual import on this path

    return run_app(answers_path=args.answers, theme=args.theme, recipes_dir=args.recipes_dir)


#: The hidden first word of `emi-tui __complete recipes|themes`, which the completion scripts run for names.
COMPLETE = "__complete"


def _complete(words: list[str]) -> int:
    """Print the names a completion script offers (recipes or themes), one a line; never an error a shell would show."""
    try:
        if words == ["recipes"]:
            from emi_tui.engine.answers.recipes import RecipeBook

            names = RecipeBook.named(None).names()
        elif words == ["themes"]:
            from emi_tui.tui.themes import all_theme_names, load_themes

            names = all_theme_names(load_themes()[0])
        else:
            return ExitCode.BAD_INPUT
        print("\n".join(names))
    except Exception:  # a broken recipe or theme file: offer nothing rather than a traceback inside the shell's prompt
        return ExitCode.FAILED
    return ExitCode.OK


def _output_closed() -> int:
    """The reader of our output went away (`emi-tui review --json | head`): stop quietly, as `cat` would.

    stdout is pointed at /dev/null, so that the interpreter's last flush of
    what is still buffered does not fail again on its way out.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no stdout at all: nothing is left to flush
        pass
    return ExitCode.BROKEN_PIPE


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [COMPLETE]:  # the completion scripts' own call: not a command an operator types, so not in the parser
        return _complete(argv[1:])
    try:
        parser = build_parser()
        args = parser.parse_args(argv)  # --help into a closed pipe fails here
        status = _dispatch(args, parser)
        sys.stdout.flush()  # what is still buffered fails here, not silently at exit
        return status
    except BrokenPipeError:  # every command's output, once, here
        return _output_closed()
    except EmiError as error:
        from emi_tui.commands.console import report_error

        return report_error(error)
    except KeyboardInterrupt:
        print("emi-tui: interrupted", file=sys.stderr)
        return ExitCode.CANCELLED


if __name__ == "__main__":
    sys.exit(main())
