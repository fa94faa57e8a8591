"""Steps 5 to 7: the kernel and ramdisk, the ext3 image, and zerofree."""

from __future__ import annotations

import posixpath
import re

from emi_tui.engine.errors import EmiError
from emi_tui.engine.image import layout
from emi_tui.engine.image.inroot import copy_from_root, regular_matches
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
    # The tree is a build's own, but a modify hands this step a hostile image's root: only regular files
    # found inside the root are copied, never a link, and never more than a kernel may weigh.
    root, found = ctx.paths.root, {}
    for what, pattern in (("kernel", files.kernel), ("ramdisk", files.ramdisk)):
        candidates = sorted(regular_matches(root, pattern), key=lambda inner: _version_key(posixpath.basename(inner)))
        if not candidates:
            raise EmiError(f"no {what} matching /{pattern} in the image", hint="the recipe's kernel package did not install one (a link is not followed)")
        found[what] = candidates[-1]
    ctx.paths.kernel_dir.mkdir(parents=True, exist_ok=True)
    copied = [ctx.paths.kernel_dir / posixpath.basename(inner) for inner in found.values()]
    for inner, dest in zip(found.values(), copied, strict=True):
        size = copy_from_root(root, inner, dest)
        ctx.note(f"copied /{inner} ({size:,} bytes)")
    ctx.facts["kernel_files"] = copied
    return ", ".join(p.name for p in copied)


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
