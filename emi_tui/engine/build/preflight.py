"""Step 1: refuse early, before anything is downloaded, with the fix for each problem."""

from __future__ import annotations

import os
import shutil

from emi_tui.engine.answers.model import effective_packages
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.answers.trust import trust_warnings
from emi_tui.engine.artifact.compress import compressor, program_for
from emi_tui.engine.build.aptlists import fetch_shared_index, package_index
from emi_tui.engine.build.bootstrapper import (
    DEBOOTSTRAP_PICKS,
    MERGED_USR_PACKAGE,
    BootstrapPlan,
    choose_bootstrapper,
    compatibility_includes,
)
from emi_tui.engine.build.context import BuildContext
from emi_tui.engine.build.emulation import emulation_note, emulation_problem, is_foreign
from emi_tui.engine.build.estimate import PackageIndex, estimate, usable_bytes
from emi_tui.engine.build.folderprobe import probe_folder
from emi_tui.engine.build.mirrorprobe import NETWORK_TIMEOUT_S, fetch_problem
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.context import JobContext
from emi_tui.engine.sizes import human
from emi_tui.engine.text import redact_secrets

# tool -> the Debian package that provides it
TOOLS = {
    "debootstrap": "debootstrap", "mmdebstrap": "mmdebstrap", "mke2fs": "e2fsprogs", "e2fsck": "e2fsprogs", "zerofree": "zerofree",
    "tar": "tar", "chroot": "coreutils", "unshare": "util-linux", "mount": "mount", "umount": "mount", "dnf": "dnf", "yum": "yum",
}


def required_tools(ctx: BuildContext) -> list[str]:
    # The Debian family's bootstrapper is settled (and checked) with the mirror: it may fall back to debootstrap.
    bootstrap = [] if ctx.recipe.family == "deb" else [ctx.recipe.bootstrap]
    tools = [*bootstrap, "mke2fs", "e2fsck", "zerofree", "tar", "unshare", "mount", "umount"]
    if ctx.use_cache:
        tools.append("zstd")
    return tools


def run(ctx: BuildContext) -> str:
    for warning in trust_warnings(ctx.answers, ctx.recipe):
        ctx.note(f"warning: {warning}")  # first, so that the plan and the build log show them above all else
    if not ctx.dry_run:
        unreachable = unreachable_mirror(ctx.recipe, ctx.answers.resolved_mirror, ctx.answers.resolved_release, timeout=15)
        if unreachable:  # first: nothing else matters for a recipe that cannot be built here
            raise EmiError(*unreachable)
    problems: list[tuple[str, str]] = []
    if os.geteuid() != 0 and not ctx.dry_run:
        problems.append(("emi-tui must run as root to bootstrap, chroot and mount", "run it with sudo"))
    for tool in required_tools(ctx):
        if shutil.which(tool) is None:
            package = TOOLS.get(tool, tool)
            problems.append((f"{tool} is not installed", f"apt-get install {package}"))
    refusal = ctx.recipe.release_refusal(ctx.answers.arch, ctx.answers.resolved_release)
    if refusal:
        problems.append((refusal, "set release: in the answer file"))
    emulation = emulation_problem(ctx.answers.arch)
    if emulation:
        problems.append(emulation)
    elif is_foreign(ctx.answers.arch):
        ctx.note(f"emulation: {emulation_note(ctx.answers.arch)}")
    keyring = ctx.recipe.keyring
    if keyring and not ctx.dry_run and not os.path.isfile(keyring):
        problems.append((f"the {ctx.recipe.distro} archive keyring {keyring} is not on this workstation",
                         f"install the {ctx.recipe.distro} archive keyring there (it verifies the mirror's packages)"))
    chosen = compressor(ctx.answers.output.compress)
    if chosen.programs and program_for(chosen.name) is None:
        problems.append((f"no {chosen.name} compressor is installed", f"apt-get install {chosen.package}"))
    if problems:
        raise EmiError("; ".join(p for p, _ in problems), hint="; ".join(h for _, h in problems))
    note = _check_mirror_and_size(ctx) if ctx.recipe.family == "deb" else _check_rpm_mirror(ctx)
    _check_space(ctx)
    return note


def unreachable_mirror(recipe: Recipe, mirror: str, release: str, timeout: float = NETWORK_TIMEOUT_S) -> tuple[str, str] | None:
    """(message, hint) when `recipe` needs a mirror the operator names (Ubuntu, CentOS) and the one named does not answer.

    Such a recipe cannot be built on a workstation that reaches none of its
    mirrors: said in one line, before anything is downloaded. Recipes with a
    default mirror get the mirror checks' own, more detailed, messages.
    """
    if recipe.default_mirror is not None:
        return None
    base = mirror.rstrip("/")
    url = f"{base}/dists/{release}/InRelease" if recipe.family == "deb" else f"{base}/{release}/"
    why = fetch_problem(url, timeout=timeout)
    if why is None:
        return None
    return (f"{recipe.name} cannot be built here: no {recipe.distro} mirror answers: {redact_secrets(url)} {why}",
            f"set mirror: to a {recipe.distro} mirror this workstation reaches; none is configured here")


def space_needs(estimate_bytes: int | None, size_bytes: int) -> tuple[int, int]:
    """(work folder, output folder) bytes a build needs: the root and the image's data (sparse); the compressed tarball.

    Without an estimate (offline, or before the index is read) the image's size stands in for it.
    """
    work = 2 * estimate_bytes + 256 * 1024**2 if estimate_bytes else size_bytes + 1024**3
    return work, estimate_bytes or size_bytes


def _check_space(ctx: JobContext) -> None:
    """Each folder can be written (or made) and has the room the build needs; a folder that cannot is refused, dry run or not."""
    work_need, output_need = space_needs(ctx.facts.get("estimate_bytes"), ctx.answers.size_bytes)
    for folder, need, what, fix in ((ctx.paths.work, work_need, "work folder", "--work-dir"), (ctx.paths.output, output_need, "output folder", "the output folder")):
        probe = probe_folder(folder)
        if not probe.ok:
            raise EmiError(f"the {what} cannot be used: {probe.problem}", hint=f"{probe.fix} ({fix})")
        ctx.note(f"{what} {folder}: {human(probe.free_bytes)} free, needs about {human(need)}")
        if probe.free_bytes < need and not ctx.dry_run:
            raise EmiError(f"the {what} {folder} has {human(probe.free_bytes)} free; the build needs about {human(need)}",
                           hint=f"free some space, or choose another folder ({fix})")


def _check_mirror_and_size(ctx: BuildContext) -> str:
    answers, recipe = ctx.answers, ctx.recipe
    mirror, release = answers.resolved_mirror, answers.resolved_release
    component, arch = recipe.components[0], recipe.arches[answers.arch]
    ctx.note(f"mirror: {mirror}")
    if ctx.dry_run:
        ctx.note(f"would read {mirror.rstrip('/')}/dists/{release}/InRelease and the package index to estimate the size")
        _settle_bootstrapper(ctx, None)
        return "dry run"
    shared = fetch_shared_index(mirror, release, component, arch, recipe.keyring)
    ctx.shared_index = shared
    ctx.note(f"package index: {release} {component} {arch}, checked against the mirror's InRelease"
             + ("" if shared.verified else " (its signature was not checked, so apt downloads the index again)"))
    index = package_index(shared)
    _settle_bootstrapper(ctx, index)
    roots = [*index.required, "apt", *recipe.base_for(answers.arch), *ctx.bootstrap_plan.compatibility]
    ctx.base_packages = len(index.closure(roots)) or None
    wanted = recipe.base_for(answers.arch) + effective_packages(answers, recipe)
    removed = [p for p in recipe.trim + answers.packages.remove if p not in answers.packages.add]
    guess = estimate(index, wanted, removed)
    if guess.missing:
        names = "; ".join(f"{name!r}{hint}" for name, hint in guess.missing)
        raise EmiError(f"not in {release} {component}: {names}", hint="fix packages.add in the answer file")
    capacity = usable_bytes(answers.size_bytes)
    ctx.facts["estimate_bytes"] = guess.needed_bytes
    message = f"needs ~{human(guess.needed_bytes)} ({guess.packages} packages); the {answers.size} root holds {human(capacity)} usable"
    ctx.note(message)
    if guess.needed_bytes > capacity:
        raise EmiError(message, hint="remove packages or choose 4.5G")
    return f"~{human(guess.needed_bytes)} of {human(capacity)}, {ctx.bootstrap_plan.tool}"


def _settle_bootstrapper(ctx: BuildContext, index: PackageIndex | None) -> None:
    """Choose the bootstrapper and say which and why (the first thing an operator asks when a bootstrap is slow)."""
    recipe = ctx.recipe
    chosen = choose_bootstrapper(recipe, ctx.requested_bootstrapper, index)
    base = recipe.base_for(ctx.answers.arch)
    compatibility = tuple(compatibility_includes(index, base)) if chosen.tool == "mmdebstrap" else ()
    merged_usr = chosen.tool == "mmdebstrap" and (index is None or MERGED_USR_PACKAGE in index.sizes_kb)
    ctx.bootstrap_plan = BootstrapPlan(chosen.tool, compatibility, merged_usr)
    ctx.note(f"bootstrapper: {chosen.tool}: {chosen.reason}")
    if compatibility:
        ctx.note(f"bootstrapper: also asks for {', '.join(compatibility)}, which debootstrap's resolver would install")
    elif index is None and chosen.tool == "mmdebstrap":
        ctx.note(f"bootstrapper: a real run also asks for what debootstrap's resolver would install ({', '.join(DEBOOTSTRAP_PICKS)} where the index has it)")
    if shutil.which(chosen.tool) is None and not ctx.dry_run:
        raise EmiError(f"{chosen.tool} is not installed", hint=f"apt-get install {chosen.tool}")


def _check_rpm_mirror(ctx: JobContext) -> str:
    url = f"{ctx.answers.resolved_mirror.rstrip('/')}/{ctx.answers.release}/"
    if ctx.dry_run:
        ctx.note(f"would check that {url} answers")
        return "dry run"
    probe_url(url)
    return "mirror answers"


def probe_url(url: str) -> None:
    """EmiError, in words, unless `url` answers (a build waits longer for it than the readiness checks do)."""
    why = fetch_problem(url, timeout=15)
    if why:
        raise EmiError(f"the mirror {redact_secrets(url)} {why}", hint="check the network and the mirror's address")
