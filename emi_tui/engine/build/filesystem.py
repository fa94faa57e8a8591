"""Steps 5 to 7: the kernel and ramdisk, the ext3 image, and zerofree."""

from __future__ import annotations

import re
import shutil

from emi_tui.engine.errors import EmiError
from emi_tui.engine.image import layout
from emi_tui.engine.run.context import JobContext
from emi_tui.engine.run.job import StepResult, skipped


def _version_key(name: str) -> list[int | str]:
    # vmlinuz-6.1.0-28-amd64 sorts after vmlinuz-6.1.0-9-amd64
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def kernel(ctx: JobContext) -> StepResult | str:
    if not ctx.answers.kernel:
        ctx.note("kernel: false in the answers: no EKI/ERI written")
        return skipped("skipped (kernel: false)")
    files = ctx.recipe.kernel_files
    if ctx.dry_run:
        ctx.note(f"copy the newest /{files.kernel} and /{files.ramdisk} to kvm-kernel/")
        return "dry run"
    found = {}
    for what, pattern in (("kernel", files.kernel), ("ramdisk", files.ramdisk)):
        candidates = sorted((p for p in ctx.paths.root.glob(pattern) if p.is_file()), key=lambda p: _version_key(p.name))
        if not candidates:
            raise EmiError(f"no {what} matching /{pattern} in the image", hint="the recipe's kernel package did not install one")
        found[what] = candidates[-1]
    ctx.paths.kernel_dir.mkdir(parents=True, exist_ok=True)
    for source in found.values():
        shutil.copy2(source, ctx.paths.kernel_dir / source.name)
        ctx.note(f"copied /{source.relative_to(ctx.paths.root)} ({source.stat().st_size:,} bytes)")
    ctx.facts["kernel_files"] = [ctx.paths.kernel_dir / p.name for p in found.values()]
    return ", ".join(p.name for p in found.values())


def filesystem(ctx: JobContext) -> str:
    size_k = ctx.answers.size_bytes // 1024
    image = ctx.image_path
    if not ctx.dry_run:
        image.unlink(missing_ok=True)
    # -d copies the root into the new filesystem: no loop device, no mount.
    ctx.run(["mke2fs", "-F", "-q", "-t", "ext3", "-L", layout.ROOT_LABEL, "-d", str(ctx.paths.root), str(image), f"{size_k}k"])
    ctx.run(["e2fsck", "-fn", "--", str(image)])
    return f"{ctx.answers.size} ext3, label {layout.ROOT_LABEL}"


def zerofree(ctx: JobContext) -> str:
    ctx.run(["zerofree", "-v", "--", str(ctx.image_path)])
    return "free blocks zeroed"
