"""Which program bootstraps a Debian-family base, and why: mmdebstrap when it can keep the image the same, else debootstrap.

Measured side by side (`make bench BENCH=bootstrap`, README "Performance"),
mmdebstrap bootstraps the debian-based base in about half debootstrap's
time: it resolves with apt and downloads in parallel, where debootstrap
resolves in shell and fetches one package after another. eatmydata and
dpkg's force-unsafe-io gave nothing more on tmpfs (fsync costs nothing there);
unsafe-io is kept for a work folder on disk.

Its image must be the one debootstrap makes (the same `dpkg-query -W`), and
two resolver differences would change it, so they are asked for explicitly:
- debootstrap merges /usr and installs usr-is-merged; mmdebstrap does so with
  its merged-usr hook, used only where the release has usr-is-merged
  (elsewhere debootstrap is used, and preflight says so);
- where a dependency names a real package that something already installed
  also provides (openssh-server's lsb-base, provided by sysvinit-utils in
  bookworm), debootstrap installs the real package and apt does not: such
  names are asked for when the release has them (DEBOOTSTRAP_PICKS).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.build.estimate import PackageIndex
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.runner import which

#: Names debootstrap's resolver installs where apt takes an installed provider instead.
DEBOOTSTRAP_PICKS = ("lsb-base",)
MERGED_USR_PACKAGE = "usr-is-merged"
MERGED_USR_HOOKS = "/usr/share/mmdebstrap/hooks/merged-usr"
CHOICES = ("debootstrap", "mmdebstrap")
INSTALL_HINT = {"mmdebstrap": "apt-get install mmdebstrap", "debootstrap": "apt-get install debootstrap"}


@dataclass(frozen=True)
class BootstrapPlan:
    """How the base is bootstrapped: the program, what it is asked for beyond the base, and the lists laid out for apt."""

    tool: str = "debootstrap"
    compatibility: tuple[str, ...] = ()
    merged_usr: bool = False
    seed_lists: Path | None = None  # a folder of apt lists (aptlists.lay_out_lists) for mmdebstrap's apt-get update


@dataclass(frozen=True)
class Bootstrapper:
    """The program that bootstraps the base, and the sentence that says why it was chosen."""

    tool: str
    reason: str


def choose_bootstrapper(recipe: Recipe, requested: str | None, index: PackageIndex | None) -> Bootstrapper:
    """The bootstrapper for `recipe`: `requested` (--bootstrapper) when given, else the recipe's, falling back to debootstrap.

    `index` is the release's package index, or None when it was not read (a dry run).
    """
    if requested:
        if requested not in CHOICES:
            raise EmiError(f"--bootstrapper {requested}: not a bootstrapper emi-tui knows", hint="use debootstrap or mmdebstrap")
        if recipe.family != "deb":
            raise EmiError(f"--bootstrapper {requested}: the {recipe.name} recipe is not Debian-based", hint="leave --bootstrapper out for this recipe")
        if which(requested) is None:
            raise EmiError(f"--bootstrapper {requested}: {requested} is not installed", hint=INSTALL_HINT[requested])
        return Bootstrapper(requested, "asked for with --bootstrapper")
    if recipe.bootstrap != "mmdebstrap":
        return Bootstrapper(recipe.bootstrap, f"the {recipe.name} recipe bootstraps with {recipe.bootstrap}")
    if which("mmdebstrap") is None:
        return Bootstrapper("debootstrap", "mmdebstrap is not installed, so debootstrap (about twice as slow); apt-get install mmdebstrap")
    if index is not None and MERGED_USR_PACKAGE not in index.sizes_kb:
        return Bootstrapper("debootstrap", f"the release has no {MERGED_USR_PACKAGE} package, so mmdebstrap would not merge /usr as debootstrap does")
    return Bootstrapper("mmdebstrap", "mmdebstrap resolves with apt and downloads in parallel: about half debootstrap's time, the same packages")


def compatibility_includes(index: PackageIndex | None, base: list[str]) -> list[str]:
    """What mmdebstrap is asked for beyond `base` so that it installs what debootstrap would.

    A name of DEBOOTSTRAP_PICKS is asked for when it is a real package of the
    release and a package of the base's closure depends on it by that name first.
    """
    if index is None:
        return []
    closure = index.closure(index.required + ["apt"] + base)
    named_first = {group[0] for package in closure for group in index.groups(package) if group}
    return [name for name in DEBOOTSTRAP_PICKS if name in index.sizes_kb and name in named_first]
