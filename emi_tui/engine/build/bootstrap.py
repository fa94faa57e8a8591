"""Step 2: the base system, from the cache when an identical base was built before.

On a miss the base is bootstrapped (mmdebstrap or debootstrap: see
emi_tui.engine.build.bootstrapper) and stored in the cache by a background
writer from a private copy (emi_tui.engine.build.basewriter), so the build
goes on to the chroot step at once.
"""

from __future__ import annotations

from collections.abc import Callable

from emi_tui.engine.build.aptlists import lay_out_lists
from emi_tui.engine.build.basewriter import BaseWriter
from emi_tui.engine.build.bootstrapper import BootstrapPlan
from emi_tui.engine.build.cache import BaseCache, CacheInputs, cache_inputs, cache_key, extract_argv, tool_version
from emi_tui.engine.build.context import BuildContext
from emi_tui.engine.build.distro import family_of
from emi_tui.engine.build.progress import PackageCounter
from emi_tui.engine.run.job import StepResult, from_cache


def base_inputs(ctx: BuildContext) -> CacheInputs:
    recipe, answers = ctx.recipe, ctx.answers
    tool = ctx.bootstrap_plan.tool if recipe.family == "deb" else recipe.bootstrap
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
        return f"bootstrapped with {inputs['tool']} (no cache)"
    if ctx.dry_run:
        ctx.note(f"cache: look up {key}; on a miss, bootstrap with {inputs['tool']} and store the base in the background")
        _bootstrap(ctx)
        return "dry run"
    release = cache.lock(key, ctx.cancel, lambda: ctx.note(f"cache: another build is bootstrapping or storing base {key}: waiting for it"))
    try:
        entry = cache.lookup(key)
        if entry is not None:
            ctx.note(f"cache: hit {key} ({entry.tarball}, same recipe, release, arch, mirror, base packages and {inputs['tool_version']})")
            ctx.run(extract_argv(entry.tarball, ctx.paths.root))
            ctx.facts["cache"] = "hit"
            release()
            return from_cache(f"from cache {key}")
        ctx.note(f"cache: miss {key}: {cache.explain_miss(inputs)}")
        _bootstrap(ctx)
        _store_in_background(ctx, cache, key, inputs, release)
    except BaseException:
        release()  # not handed to a writer (a second release by the writer does nothing)
        raise
    ctx.facts["cache"] = "miss"
    return f"bootstrapped with {inputs['tool']}, being cached as {key}"


def _store_in_background(ctx: BuildContext, cache: BaseCache, key: str, inputs: CacheInputs, release: Callable[[], None]) -> None:
    """Copy the base whole into the work folder and start the writer; the job's teardown waits for it."""
    snapshot = ctx.paths.work / "base-for-cache"
    ctx.run(["cp", "-a", "--", str(ctx.paths.root), str(snapshot)])
    writer = BaseWriter(cache, key, inputs, snapshot, release)
    writer.start()
    ctx.undo.push("finish storing the base in the cache", lambda: writer.finish(ctx.cancel.is_set(), ctx.note))


def _bootstrap(ctx: BuildContext) -> None:
    plan = ctx.bootstrap_plan
    if ctx.recipe.family == "deb" and plan.tool == "mmdebstrap" and ctx.shared_index is not None and not ctx.dry_run:
        folder = ctx.paths.work / "apt-lists"
        folder.mkdir()
        if lay_out_lists(ctx.shared_index, folder):
            plan = BootstrapPlan(plan.tool, plan.compatibility, plan.merged_usr, folder)
            ctx.note("apt lists: preflight's checked index laid out for mmdebstrap's apt (no second download)")
    # The output streams through a counter that adds the packages fetched and unpacked as progress events.
    emit = ctx.emit
    ctx.emit = PackageCounter(emit, ctx.step, None if ctx.dry_run else ctx.base_packages)
    try:
        family_of(ctx).bootstrap(ctx, ctx.recipe.base_for(ctx.answers.arch), plan)
    finally:
        ctx.emit = emit
