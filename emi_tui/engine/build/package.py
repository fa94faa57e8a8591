"""Step 8: the tarball, in the layout of Eucalyptus's own starter images, and what goes beside it.

    <stem>.tgz                 <stem>/<stem>.img  and  <stem>/kvm-kernel/{vmlinuz,initrd.img}-<version>
    <stem>.tgz.sha256          sha256sum format
    <stem>.manifest            name<TAB>version of every installed package
    <stem>.answers.yaml        the resolved answers used
    <stem>.build.log           the full log (written when the build ends)

Every file is written under a hidden partial name and renamed only when the
whole build has succeeded (see `publish`), so the output folder never holds
half an image. Other users may write to the output folder, so a partial's name
holds a token no one can guess, and every partial is created new, never through
a symlink (emi_tui.engine.safefs): a planted link is neither followed nor kept.
"""

from __future__ import annotations

import os
import secrets
import shutil
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.storage import render_stored_answers
from emi_tui.engine.artifact.checksum import sha256_file, sha256_line, sidecar_path
from emi_tui.engine.artifact.compress import compressor, program_for, tar_argv
from emi_tui.engine.artifact.manifest import MANIFEST_SUFFIX, render_manifest
from emi_tui.engine.run.context import JobContext
from emi_tui.engine.safefs import copy_new, reserved, write_new

#: Unguessable by other users, the same for every partial of this process; the pid stays last for `emi-tui cleanup`.
_PARTIAL_TOKEN = secrets.token_hex(8)


def artifact_names(ctx: JobContext) -> dict[str, Path]:
    """Final names of everything the build writes into the output folder."""
    return output_names(ctx.answers, ctx.paths.output)


def output_names(answers: Answers, out: Path) -> dict[str, Path]:
    """Final names of everything a build of `answers` writes into `out` (a catalog finds each image's files by them)."""
    stem = answers.image.resolved_file.removesuffix(".img")
    tarball = out / f"{stem}{compressor(answers.output.compress).suffix}"
    return {
        "tarball": tarball,
        "sha256": sidecar_path(tarball),
        "manifest": out / f"{stem}{MANIFEST_SUFFIX}",
        "answers": out / f"{stem}.answers.yaml",
        "log": out / f"{stem}.build.log",
    }


def partial_name(final: Path) -> Path:
    """The hidden name `final` is written under until the job has succeeded."""
    return final.with_name(f".{final.name}.{_PARTIAL_TOKEN}.partial-{os.getpid()}")


def run(ctx: JobContext) -> str:
    names = artifact_names(ctx)
    stem = ctx.image_stem
    folder = ctx.paths.staging / stem
    program = program_for(ctx.answers.output.compress)
    partial = partial_name(names["tarball"])
    ctx.facts["partials"] = [partial_name(p) for p in names.values()]
    ctx.note(f"layout: {stem}/{ctx.answers.image.file}" + (f", {stem}/kvm-kernel/" if ctx.answers.kernel else ""))
    if not ctx.dry_run:
        ctx.undo.push("remove the partial artifacts", lambda: discard_partials(ctx, names))  # published ones are gone already
        ctx.paths.output.mkdir(parents=True, exist_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(ctx.image_path, folder / ctx.answers.image.resolved_file)
        if ctx.answers.kernel and ctx.paths.kernel_dir.is_dir():
            shutil.copytree(ctx.paths.kernel_dir, folder / "kvm-kernel")
    with written_by_command(ctx, partial):
        ctx.run(tar_argv(str(ctx.paths.staging), stem, str(partial), program))
    if ctx.dry_run:
        for final in names.values():
            ctx.note(f"write {partial_name(final).name}, then rename it to {final}")
        return "dry run"
    write_companions(ctx, names, partial)
    return f"{partial.stat().st_size / 1024**2:,.0f} MB with {program or 'no compression'}"


def written_by_command(ctx: JobContext, partial: Path) -> AbstractContextManager[None]:
    """Around the command that writes `partial` by name: the file is made first, and checked to be ours after."""
    return nullcontext() if ctx.dry_run else reserved(partial)


def write_companions(ctx: JobContext, names: dict[str, Path], partial: Path, answers_text: str | None = None) -> str:
    """Write the .sha256, manifest and answers partials for the finished `partial`; returns its sha256."""
    digest = sha256_file(partial)
    write_new(partial_name(names["sha256"]), sha256_line(digest, names["tarball"].name))
    write_new(partial_name(names["manifest"]), render_manifest(ctx.facts.get("manifest", {})))
    write_new(partial_name(names["answers"]), answers_text if answers_text is not None else render_stored_answers(ctx.answers))
    ctx.facts["sha256"] = digest
    ctx.facts["artifact_bytes"] = partial.stat().st_size
    ctx.note(f"{names['tarball'].name}: {partial.stat().st_size:,} bytes, sha256 {digest}")
    return digest


def publish(ctx: JobContext, log_path: Path, names: dict[str, Path] | None = None) -> list[Path]:
    """Copy the log in, then rename every partial to its final name (the tarball last).

    `names` defaults to `artifact_names(ctx)`; modify passes its own (a bare .img in place of the tarball).
    """
    names = names or artifact_names(ctx)
    copy_new(log_path, partial_name(names["log"]))
    order = ["sha256", "manifest", "answers", "log", "tarball"]
    for what in order:
        os.replace(partial_name(names[what]), names[what])
    return [names[what] for what in ["tarball", "sha256", "manifest", "answers", "log"]]


def discard_partials(ctx: JobContext, names: dict[str, Path] | None = None) -> None:
    """Remove whatever partial files this build left in the output folder."""
    for final in (names or artifact_names(ctx)).values():
        partial_name(final).unlink(missing_ok=True)
