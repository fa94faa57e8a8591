"""Step 2: the base system, from the cache when an identical base was built before."""

from __future__ import annotations

from contextlib import nullcontext

from emi_tui.engine.build.cache import BaseCache, CacheInputs, cache_inputs, cache_key, extract_argv, store_argv, tool_version
from emi_tui.engine.build.context import BuildContext
from emi_tui.engine.build.distro import family_of
from emi_tui.engine.run.context import JobContext
from emi_tui.engine.run.job import StepResult, from_cache

# Masked before the kernel is installed, so the initramfs keeps the kernel's
# NIC name (eth0, which /etc/network/interfaces configures); masking it later
# without rebuilding the initramfs leaves an image that boots with no network.
NAME_POLICY_MASK = "etc/systemd/network/99-default.link"


def base_inputs(ctx: JobContext) -> CacheInputs:
    recipe, answers = ctx.recipe, ctx.answers
    tool = recipe.bootstrap
    return cache_inputs(
        recipe.name, answers.resolved_release, answers.arch, answers.resolved_mirror, recipe.base_for(answers.arch), tool, tool_version(tool)
    )


def run(ctx: BuildContext) -> StepResult | str:
    cache = BaseCache()
    inputs = base_inputs(ctx)
    key = cache_key(inputs)
    ctx.facts["cache_key"] = key
    if not ctx.dry_run:
        ctx.paths.root.mkdir(parents=True, exist_ok=True)
    if not ctx.use_cache:
        ctx.note("cache: not used (--no-cache)")
        _bootstrap(ctx)
        return "bootstrapped (no cache)"
    with cache.locked(key) if not ctx.dry_run else nullcontext():
        entry = cache.lookup(key)
        if entry is not None:
            ctx.note(f"cache: hit {key} ({entry.tarball}, same recipe, release, arch, mirror, base packages and {inputs['tool_version']})")
            ctx.run(extract_argv(entry.tarball, ctx.paths.root))
            ctx.facts["cache"] = "hit"
            return from_cache(f"from cache {key}")
        ctx.note(f"cache: miss {key}: {cache.explain_miss(inputs)}")
        _bootstrap(ctx)
        partial = cache.temporary_tarball(key)
        try:
            ctx.run(store_argv(ctx.paths.root, partial))
            if not ctx.dry_run:
                cache.commit(key, partial, inputs)
                ctx.note(f"cache: stored {key}")
        finally:
            partial.unlink(missing_ok=True)
        ctx.facts["cache"] = "miss"
        return f"bootstrapped, cached as {key}"


def _bootstrap(ctx: JobContext) -> None:
    if ctx.recipe.family == "deb":
        ctx.symlink(NAME_POLICY_MASK, "/dev/null")
    family_of(ctx).bootstrap(ctx, ctx.recipe.base_for(ctx.answers.arch))

