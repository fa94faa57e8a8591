"""Step 8: the tarball, in the layout of Eucalyptus's own starter images, and what goes beside it.

    <stem>.tgz                 <stem>/<stem>.img  and  <stem>/kvm-kernel/{vmlinuz,initrd.img}-<version>
    <stem>.tgz.sha256          sha256sum format
    <stem>.manifest            name<TAB>version of every installed package
    <stem>.answers.yaml        the resolved answers used
    <stem>.build.log           the full log (written when the build ends)

Every file is written under a hidden partial name and renamed only when the
whole build has succeeded (see `publish`), so the output folder never holds
half an image.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from emi_tui.engine.answers.storage import render_stored_answers
from emi_tui.engine.artifact.checksum import sha256_file, sha256_line, sidecar_path
from emi_tui.engine.artifact.compress import compressor, program_for, tar_argv
from emi_tui.engine.artifact.manifest import MANIFEST_SUFFIX, write_manifest
from emi_tui.engine.run.context import JobContext


def artifact_names(ctx: JobContext) -> dict[str, Path]:
    """Final names of everything the build writes into the output folder."""
    stem, out = ctx.image_stem, ctx.paths.output
    tarball = out / f"{stem}{compressor(ctx.answers.output.compress).suffix}"
    return {
        "tarball": tarball,
        "sha256": sidecar_path(tarball),
        "manifest": out / f"{stem}{MANIFEST_SUFFIX}",
        "answers": out / f"{stem}.answers.yaml",
        "log": out / f"{stem}.build.log",
    }


def partial_name(final: Path) -> Path:
    return final.with_name(f".{final.name}.partial-{os.getpid()}")


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
    ctx.run(tar_argv(str(ctx.paths.staging), stem, str(partial), program))
    if ctx.dry_run:
        for final in names.values():
            ctx.note(f"write {partial_name(final).name}, then rename it to {final}")
        return "dry run"
    write_companions(ctx, names, partial)
    return f"{partial.stat().st_size / 1024**2:,.0f} MB with {program or 'no compression'}"


def write_companions(ctx: JobContext, names: dict[str, Path], partial: Path, answers_text: str | None = None) -> str:
    """Write the .sha256, manifest and answers partials for the finished `partial`; returns its sha256."""
    digest = sha256_file(partial)
    partial_name(names["sha256"]).write_text(sha256_line(digest, names["tarball"].name))
    write_manifest(partial_name(names["manifest"]), ctx.facts.get("manifest", {}))
    partial_name(names["answers"]).write_text(answers_text if answers_text is not None else render_stored_answers(ctx.answers))
    ctx.facts["sha256"] = digest
    ctx.facts["artifact_bytes"] = partial.stat().st_size
    ctx.note(f"{names['tarball'].name}: {partial.stat().st_size:,} bytes, sha256 {digest}")
    return digest


def publish(ctx: JobContext, log_path: Path, names: dict[str, Path] | None = None) -> list[Path]:
    """Copy the log in, then rename every partial to its final name (the tarball last).

    `names` defaults to `artifact_names(ctx)`; modify passes its own (a bare .img in place of the tarball).
    """
    names = names or artifact_names(ctx)
    shutil.copyfile(log_path, partial_name(names["log"]))
    order = ["sha256", "manifest", "answers", "log", "tarball"]
    for what in order:
        os.replace(partial_name(names[what]), names[what])
    return [names[what] for what in ["tarball", "sha256", "manifest", "answers", "log"]]


def discard_partials(ctx: JobContext, names: dict[str, Path] | None = None) -> None:
    """Remove whatever partial files this build left in the output folder."""
    for final in (names or artifact_names(ctx)).values():
        partial_name(final).unlink(missing_ok=True)
