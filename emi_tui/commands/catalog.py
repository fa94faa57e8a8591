"""`emi-tui catalog plan|build|collect|schema CATALOG`: release a family of images together, with its EMI-IDs.

The renderer of the engine's catalog build (emi_tui.engine.catalog.build):
one line per image event (started, each step, finished), as CI logs want;
the full log of each image is its build log beside its artifact.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from emi_tui.commands.console import err, out, safe_text
from emi_tui.commands.tables import Column, print_table
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.catalog.build import (
    CatalogEvent,
    CatalogFinished,
    CatalogOptions,
    CatalogStarted,
    ImageEvent,
    ImageFinished,
    ImageStarted,
    run_catalog,
)
from emi_tui.engine.catalog.collect import collect, previous_manifests
from emi_tui.engine.catalog.model import json_schema
from emi_tui.engine.catalog.plan import default_jobs, make_plan
from emi_tui.engine.catalog.resolve import ResolvedCatalog, resolve_file
from emi_tui.engine.catalog.write import write_catalog_files
from emi_tui.engine.errors import EmiError, ExitCode
from emi_tui.engine.run.events import JobFailed, StepFinished, StepStarted
from emi_tui.engine.sizes import human


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `catalog` command and its subcommands."""
    catalog = commands.add_parser(
        "catalog", help="plan, build or collect a catalog of images",
        description="A catalog file lists a family of images (a matrix of recipes × arches × sizes, or entries) with shared settings. "
                    "`build` builds them all, bases shared and in parallel, then writes EMI-IDs, SHA256SUMS and RELEASE-NOTES.md beside the artifacts.",
    )
    actions = catalog.add_subparsers(dest="catalog_action", metavar="ACTION", required=True)
    plan = actions.add_parser("plan", help="print the jobs, shared bases and estimates", description="Print the jobs, the shared bases, and each image's estimated size and time.")
    plan.add_argument("catalog_file", type=Path, metavar="CATALOG")
    plan.add_argument("--format", dest="output_format", choices=["text", "json"], default="text",
                      help="text (default); json: a list of jobs, one per image, for a CI matrix (build one with `catalog build CATALOG --only HEADING`)")
    build = actions.add_parser("build", help="build every image, then write the catalog", description="Build every image of the catalog (as root), then write EMI-IDs, SHA256SUMS and the release note.")
    build.add_argument("catalog_file", type=Path, metavar="CATALOG")
    build.add_argument("--jobs", type=int, metavar="N", help="images built at once (default: what the cores, memory and free space allow, explained)")
    build.add_argument("--fail-fast", action="store_true", help="stop every build at the first failure (default: keep going)")
    build.add_argument("--retry-failed", action="store_true", help="build only the images that failed or were cancelled last time")
    build.add_argument("--only", action="append", default=[], metavar="HEADING", help="build only this image (repeatable; a CI job's share of the matrix)")
    build.add_argument("--since", type=Path, metavar="DIR", help="a previous release's folder: the release note lists each image's package changes")
    build.add_argument("--work-dir", type=Path, metavar="DIR", help="where the builds work (default: /dev/shm when it has room, else /var/tmp)")
    build.add_argument("--offline", action="store_true", help="do not ask the mirror before the builds (the folders, space and keyrings are checked anyway)")
    collect_parser = actions.add_parser("collect", help="merge artifacts built elsewhere into the catalog",
                                        description="Find each image's artifact in DIRs, check its checksum and image-id against its entry, copy it into the catalog's folder and write the catalog's files.")
    collect_parser.add_argument("catalog_file", type=Path, metavar="CATALOG")
    collect_parser.add_argument("folders", type=Path, nargs="+", metavar="DIR")
    collect_parser.add_argument("--since", type=Path, metavar="DIR", help="a previous release's folder, for the package changes")
    schema = actions.add_parser("schema", help="print the catalog file's JSON Schema", description="Print the JSON Schema of the catalog file format.")
    schema.set_defaults(catalog_file=None)
    for parser in (plan, build, collect_parser):
        parser.add_argument("--recipes", dest="recipes_dir", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                            help="also read the recipes in DIR")


def run(args: argparse.Namespace) -> ExitCode:
    if args.catalog_action == "schema":
        print(json.dumps(json_schema(), indent=2))
        return ExitCode.OK
    catalog = _read(args.catalog_file, getattr(args, "recipes_dir", None))
    if args.catalog_action == "plan":
        return _plan(catalog, args.output_format)
    if args.catalog_action == "collect":
        return _collect(catalog, args.folders, args.since)
    if args.jobs is not None and args.jobs < 1:
        raise EmiError(f"--jobs {args.jobs} builds nothing", hint="give 1 or more, or leave it out for the default")
    options = CatalogOptions(jobs=args.jobs, fail_fast=args.fail_fast, retry_failed=args.retry_failed, only=tuple(args.only),
                             since=args.since, work_root=args.work_dir)
    if not _ready(catalog, options, args.offline):
        err.print(safe_text(f"{args.catalog_file}: problems before the build; nothing was built"))
        return ExitCode.BAD_INPUT
    return _build(catalog, options, args.catalog_file)


def _ready(catalog: ResolvedCatalog, options: CatalogOptions, offline: bool) -> bool:
    """The checks `emi-tui build` makes before a build, for each image it will build (each said once); False on any error."""
    from emi_tui.commands.build import report_readiness
    from emi_tui.engine.build.readiness import Readiness, check_readiness

    ok, said = True, set()
    for image in catalog.images:
        if options.only and image.heading not in options.only:
            continue
        readiness = check_readiness(image.answers, image.recipe, offline=offline, work_parent=options.work_root)
        fresh = [c for c in readiness.checks if (c.label, c.message) not in said]
        said |= {(c.label, c.message) for c in readiness.checks}
        report_readiness(Readiness(tuple(fresh)), plan=False)
        ok = ok and readiness.can_build
    return ok


def _read(path: Path, recipes_dir: Path | None) -> ResolvedCatalog:
    catalog = resolve_file(path, RecipeBook.named(recipes_dir))
    if not catalog.ok:
        count = len(catalog.problems)
        raise EmiError(f"{path} has {count} problem{'s' if count != 1 else ''}; nothing was done", problems=catalog.problems,
                       hint=f"emi-tui validate {path} checks it")
    return catalog


def _plan(catalog: ResolvedCatalog, output_format: str) -> ExitCode:
    plan = make_plan(catalog)
    if output_format == "json":
        print(json.dumps(plan.to_json(), indent=2))
        return ExitCode.OK
    choice = default_jobs(plan)
    columns = [Column("image"), Column("file", 2), Column("base", 3), Column("size", 4), Column("estimate")]
    rows: list[list] = []
    for planned in plan.images:
        a = planned.image.answers
        base = f"{'bootstraps' if planned.bootstraps_base else 'reuses'} {planned.base.name}"
        rows.append([planned.heading, planned.artifact, base, f"{human(a.size_bytes)} image, ~{human(planned.installed_bytes)} of packages",
                     f"{planned.seconds / 60:.1f} min"])
    print_table(out, f"{catalog.source}: {len(plan.images)} images from {len(plan.bases)} shared bases", columns, rows)
    out.print(safe_text(f"bases: {'; '.join(f'{b.name} for {len(b.images)} image(s)' for b in plan.bases)}"))
    out.print(safe_text(choice.reason))
    out.print(safe_text(f"expected: {plan.wall_seconds(choice.jobs) / 60:.1f} min with {choice.jobs} job(s) at once; "
                        f"{plan.serial_seconds() / 60:.1f} min one after another"))
    return ExitCode.OK


class _Lines:
    """One line per image event, for terminals and CI logs alike (images build at once: a live table would interleave)."""

    def __call__(self, event: CatalogEvent) -> None:
        if isinstance(event, CatalogStarted):
            out.print(safe_text(event.jobs.reason))
            if event.already_built:
                out.print(safe_text(f"kept from the last run: {', '.join(event.already_built)}"))
            out.print(safe_text(f"building {len(event.building)} image(s): {', '.join(event.building) or 'none'}"))
        elif isinstance(event, ImageStarted):
            out.print(safe_text(("==> ", "bold"), event.heading))
        elif isinstance(event, ImageEvent) and isinstance(event.event, StepStarted):
            out.print(safe_text(f"[{event.heading}] {event.event.step}"))
        elif isinstance(event, ImageEvent) and isinstance(event.event, StepFinished):
            done = "done" if not event.event.skipped else "skipped"
            out.print(safe_text(f"[{event.heading}] {event.event.step}: {done} in {event.event.seconds:.1f}s {event.event.note}"))
        elif isinstance(event, ImageEvent) and isinstance(event.event, JobFailed):
            err.print(safe_text(f"[{event.heading}] log: {event.event.log_path}"))
        elif isinstance(event, ImageFinished):
            style = {"built": "green", "failed": "bold red", "cancelled": "yellow"}[event.outcome]
            took = f" in {event.result.seconds:.0f}s" if event.result else ""
            out.print(safe_text(("<== ", "bold"), event.heading, ": ", (event.outcome, style), took, f": {event.message}" if event.message else ""))
        elif isinstance(event, CatalogFinished):
            for path in event.result.written:
                out.print(safe_text(f"wrote {path}"))


def _build(catalog: ResolvedCatalog, options: CatalogOptions, source: Path) -> ExitCode:
    result = run_catalog(catalog, _Lines(), options=options)
    failed, cancelled = result.headings("failed"), result.headings("cancelled")
    if result.ok:
        out.print(safe_text(("released", "green"), f" {len(result.outcomes)} images in {result.seconds:.0f}s into {catalog.folder}"))
        return ExitCode.OK
    if options.only and not failed and not cancelled:
        out.print(safe_text(f"built {', '.join(options.only)}; collect the catalog with `emi-tui catalog collect {source} DIR…`"))
        return ExitCode.OK
    err.print(safe_text((f"emi-tui: catalog {'cancelled' if result.cancelled else 'not released'}", "bold red"),
                        f": {len(failed)} failed, {len(cancelled)} cancelled; the catalog's files were not written"))
    err.print(safe_text(f"  retry: emi-tui catalog build --retry-failed {source}"))
    return ExitCode.CANCELLED if result.cancelled else ExitCode.FAILED


def _collect(catalog: ResolvedCatalog, folders: list[Path], since: Path | None) -> ExitCode:
    for folder in folders:
        if not folder.is_dir():
            raise EmiError(f"{folder} is not a folder", hint="give the folders the artifacts were built into")
    previous = previous_manifests(since) if since is not None else None
    plan = make_plan(catalog)
    collected = collect(plan, folders, catalog.folder)
    if collected.problems:
        for problem in collected.problems:
            err.print(safe_text(f"emi-tui: {problem}"))
        err.print(safe_text(f"emi-tui: {len(collected.problems)} problem(s); nothing was collected"))
        return ExitCode.BAD_INPUT
    for path in write_catalog_files(catalog.folder, catalog.title, collected.images, previous):
        out.print(safe_text(f"wrote {path}"))
    return ExitCode.OK


