"""Package-family specifics behind one interface, chosen by the recipe (as mkosi's distribution registry).

The build steps say "bootstrap", "install", "purge", "manifest"; a `Family`
knows the argv that means for apt/debootstrap or for dnf/yum.
"""

from __future__ import annotations

from pathlib import Path

from emi_tui.engine.answers.keyrings import Keyring, KeyringError, read_keyring
from emi_tui.engine.answers.model import Repository
from emi_tui.engine.build.bootstrapper import MERGED_USR_HOOKS, BootstrapPlan
from emi_tui.engine.build.emulation import is_foreign
from emi_tui.engine.errors import EmiError
from emi_tui.engine.image.inroot import regular_matches
from emi_tui.engine.run.chroot import chroot_argv
from emi_tui.engine.run.context import CHROOT_ENV, JobContext
from emi_tui.engine.run.runner import run_captured

#: Masked before the kernel is installed, so the initramfs keeps the kernel's
#: NIC name (eth0, which /etc/network/interfaces configures); masking it later
#: without rebuilding the initramfs leaves an image that boots with no network.
#: (mmdebstrap's setup hook masks it the same way.)
NAME_POLICY_MASK = "etc/systemd/network/99-default.link"
SETUP_HOOK = Path(__file__).resolve().parent / "hooks" / "mmdebstrap-setup.sh"
#: A constant: the hook's path and the lists folder reach it through the environment, never through a shell string.
SETUP_HOOK_COMMAND = 'sh "$EMI_TUI_SETUP_HOOK" "$1"'
#: What mmdebstrap leaves that debootstrap does not, removed so that both bases are the same: its apt and
#: dpkg options (the build writes its own, and hygiene removes those), and apt's marks of the packages it
#: installed as dependencies (debootstrap installs through dpkg and marks none).
MMDEBSTRAP_LEFTOVERS = ("etc/apt/apt.conf.d/99mmdebstrap", "etc/dpkg/dpkg.cfg.d/99mmdebstrap", "var/lib/apt/extended_states")
#: Listing the installed packages reads the package database: seconds, even for a big image.
QUERY_SECONDS = 300.0
APT_OPTIONS = ["-o", "APT::Color=0", "-o", "Dpkg::Use-Pty=0", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]


class Family:
    """How one package family bootstraps, installs and cleans an image root."""

    name = ""

    def bootstrap_tool(self, ctx: JobContext) -> str:
        return ctx.recipe.bootstrap

    def bootstrap(self, ctx: JobContext, packages: list[str], plan: BootstrapPlan) -> None:
        raise NotImplementedError

    def configure_sources(self, ctx: JobContext) -> None:
        raise NotImplementedError

    def add_repository(self, ctx: JobContext, index: int, repository: Repository) -> None:
        raise NotImplementedError

    def refresh(self, ctx: JobContext) -> None:
        raise NotImplementedError

    def install(self, ctx: JobContext, packages: list[str]) -> None:
        raise NotImplementedError

    def purge(self, ctx: JobContext, packages: list[str]) -> None:
        raise NotImplementedError

    def installed(self, ctx: JobContext) -> dict[str, str]:
        """name -> version of every installed package (the manifest)."""
        raise NotImplementedError


class Deb(Family):
    """Debian and Ubuntu: debootstrap, apt-get, dpkg."""

    name = "deb"

    def bootstrap(self, ctx: JobContext, packages: list[str], plan: BootstrapPlan) -> None:
        if plan.tool == "mmdebstrap":
            self._mmdebstrap(ctx, packages, plan)
            return
        recipe, answers = ctx.recipe, ctx.answers
        ctx.symlink(NAME_POLICY_MASK, "/dev/null")
        argv = [
            "debootstrap", "--variant=minbase", f"--arch={recipe.arches[answers.arch]}",
            f"--components={','.join(recipe.components)}", f"--include={','.join(packages)}",
        ]
        if recipe.keyring:
            argv.append(f"--keyring={recipe.keyring}")
        # A foreign arch's packages cannot be configured from here: debootstrap only unpacks them (--foreign),
        # and configures them with its second stage inside the root, where qemu-user runs their scripts.
        foreign = is_foreign(answers.arch)
        ctx.run([*argv, *(["--foreign"] if foreign else []), answers.resolved_release, str(ctx.paths.root), answers.resolved_mirror])
        if foreign:
            ctx.chroot(["/debootstrap/debootstrap", "--second-stage"])

    def _mmdebstrap(self, ctx: JobContext, packages: list[str], plan: BootstrapPlan) -> None:
        """mmdebstrap in root mode, made to install what debootstrap would (emi_tui.engine.build.bootstrapper)."""
        recipe, answers = ctx.recipe, ctx.answers
        argv = [
            "mmdebstrap", "--mode=root", "--variant=minbase", f"--architectures={recipe.arches[answers.arch]}",
            f"--components={','.join(recipe.components)}", f"--include={','.join([*packages, *plan.compatibility])}",
            # debootstrap installs no Recommends; unsafe-io only matters for a work folder on disk.
            '--aptopt=APT::Install-Recommends "false"', "--dpkgopt=force-unsafe-io",
            f"--setup-hook={SETUP_HOOK_COMMAND}",
            # apt's and dpkg's own lines (Get:, Unpacking, Setting up) instead of progress bars: the log shows each
            # package, and the progress counts them (emi_tui.engine.build.progress).
            "--verbose",
        ]
        if plan.merged_usr:
            argv.append(f"--hook-dir={MERGED_USR_HOOKS}")
        if recipe.keyring:
            argv.append(f"--keyring={recipe.keyring}")
        # INITRD=No: the kernel's postinst makes no ramdisk, so the initramfs-tools trigger at the end has none to
        # update either; it is made once below, when every package is configured, where it used to be made twice.
        env = {"EMI_TUI_SETUP_HOOK": str(SETUP_HOOK), "EMI_TUI_SEED_LISTS": str(plan.seed_lists or ""), "INITRD": "No"}
        ctx.run([*argv, "--", answers.resolved_release, str(ctx.paths.root), answers.resolved_mirror], env=env)
        for left in MMDEBSTRAP_LEFTOVERS:
            ctx.remove(left)
        make_ramdisks_once(ctx)

    def configure_sources(self, ctx: JobContext) -> None:
        components = " ".join(ctx.recipe.components)
        ctx.write("etc/apt/sources.list", f"deb {ctx.answers.mirror} {ctx.answers.release} {components}\n")
        # dpkg need not fsync every file of a throw-away build root; removed again by hygiene.
        ctx.write("etc/dpkg/dpkg.cfg.d/emi-tui-unsafe-io", "force-unsafe-io\n")
        # No translations: the build reads no package descriptions, and they are a second index download.
        ctx.write("etc/apt/apt.conf.d/90emi-tui", 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAcquire::Languages "none";\n')

    def add_repository(self, ctx: JobContext, index: int, repository: Repository) -> None:
        line = repository.line
        if repository.key:
            keyring = read_checked_keyring(repository.key)
            key_name = f"emi-tui-extra-{index}{keyring.suffix}"  # apt reads an armored keyring only as .asc
            install_keyring(ctx, keyring, f"etc/apt/keyrings/{key_name}")
            kind, rest = line.split(None, 1)
            if not rest.startswith("["):
                line = f"{kind} [signed-by=/etc/apt/keyrings/{key_name}] {rest}"
        ctx.write(f"etc/apt/sources.list.d/emi-tui-extra-{index}.list", line + "\n")

    def refresh(self, ctx: JobContext) -> None:
        ctx.chroot(["apt-get", *APT_OPTIONS, "update"])

    def install(self, ctx: JobContext, packages: list[str]) -> None:
        if packages:
            ctx.chroot(["apt-get", *APT_OPTIONS, "install", "-y", "--no-install-recommends", *packages])

    def purge(self, ctx: JobContext, packages: list[str]) -> None:
        if not packages:
            return
        if not ctx.dry_run:
            installed = self.installed(ctx)
            absent = [p for p in packages if p not in installed]
            if absent:
                ctx.note(f"not installed, nothing to remove: {' '.join(absent)}")
            packages = [p for p in packages if p in installed]
        if packages:
            ctx.chroot(["apt-get", *APT_OPTIONS, "purge", "-y", "--auto-remove", *packages])

    def installed(self, ctx: JobContext) -> dict[str, str]:
        output = query(ctx, ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"])
        result = {}
        for line in output.splitlines():
            name, version, status = (line.split("\t") + ["", ""])[:3]
            if status.startswith("ii"):
                result[name] = version
        return result


def make_ramdisks_once(ctx: JobContext) -> None:
    """The ramdisk of every installed kernel and the /initrd.img links, as the kernel's postinst would have made them.

    Measured: the same files in the ramdisk and the same links in / as with
    INITRD unset (README, "Performance"), in one ramdisk build instead of two.
    """
    versions = [name.removeprefix("boot/vmlinuz-") for name in regular_matches(ctx.paths.root, "boot/vmlinuz-*")] if not ctx.dry_run else []
    if not versions and not ctx.dry_run:
        return  # no kernel in this base
    ctx.chroot(["update-initramfs", "-c", "-k", "all"])
    for version in versions or ["VERSION"]:
        ctx.chroot(["linux-update-symlinks", "install", version, f"/boot/vmlinuz-{version}"])


class Rpm(Family):
    """CentOS and friends: dnf (or yum) --installroot."""

    name = "rpm"

    def _tool(self, ctx: JobContext) -> str:
        return ctx.recipe.bootstrap  # dnf or yum

    def bootstrap(self, ctx: JobContext, packages: list[str], plan: BootstrapPlan) -> None:
        answers, root = ctx.answers, str(ctx.paths.root)
        release = answers.resolved_release
        repo_args = []
        for index, component in enumerate(ctx.recipe.components):
            repo_args += [f"--repofrompath=emi-{index},{answers.mirror}/{release}/{component}/{answers.arch}/os/"]
        gpg = ["--setopt=gpgcheck=1", f"--setopt=gpgkey=file://{ctx.recipe.keyring}"] if ctx.recipe.keyring else ["--nogpgcheck"]
        ctx.run([
            self._tool(ctx), "-y", f"--installroot={root}", f"--releasever={release.split('-')[0]}",
            f"--forcearch={ctx.recipe.arches[answers.arch]}", "--disablerepo=*", *repo_args, *gpg,
            "--setopt=install_weak_deps=False", "install", *packages,
        ])

    def configure_sources(self, ctx: JobContext) -> None:
        answers = ctx.answers
        stanzas = []
        for component in ctx.recipe.components:
            stanzas.append(
                f"[emi-{component.lower()}]\nname={component}\nbaseurl={answers.mirror}/{answers.release}/{component}/{answers.arch}/os/\n"
                f"gpgcheck=1\nenabled=1\n"
            )
        ctx.write("etc/yum.repos.d/emi-tui.repo", "\n".join(stanzas))

    def add_repository(self, ctx: JobContext, index: int, repository: Repository) -> None:
        url = repository.line.split(None, 1)[-1] if repository.line.startswith("baseurl") else repository.line.split()[1]
        key = ""
        if repository.key:
            install_keyring(ctx, read_checked_keyring(repository.key), f"etc/pki/rpm-gpg/emi-tui-extra-{index}")
            key = f"gpgkey=file:///etc/pki/rpm-gpg/emi-tui-extra-{index}\n"
        ctx.write(f"etc/yum.repos.d/emi-tui-extra-{index}.repo", f"[emi-extra-{index}]\nname=extra {index}\nbaseurl={url}\nenabled=1\n{key}")

    def refresh(self, ctx: JobContext) -> None:
        ctx.chroot([self._tool(ctx), "-y", "makecache"])

    def install(self, ctx: JobContext, packages: list[str]) -> None:
        if packages:
            ctx.chroot([self._tool(ctx), "-y", "install", "--", *packages])

    def purge(self, ctx: JobContext, packages: list[str]) -> None:
        if packages:
            ctx.chroot([self._tool(ctx), "-y", "remove", "--", *packages])

    def installed(self, ctx: JobContext) -> dict[str, str]:
        output = query(ctx, ["rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n"])
        return dict(line.split("\t", 1) for line in output.splitlines() if "\t" in line)


def read_checked_keyring(key: str) -> Keyring:
    """The keyring at `key`, read once and checked again (it may have changed since the answers were validated)."""
    try:
        return read_keyring(key)
    except KeyringError as exc:
        raise EmiError(str(exc), hint="fix repositories[].key in the answer file") from None


def install_keyring(ctx: JobContext, keyring: Keyring, relative: str) -> None:
    """Write the checked bytes of `keyring` at /`relative` in the root, mode 0644, through no link."""
    ctx.write_bytes(relative, keyring.data, 0o644)


def query(ctx: JobContext, argv: list[str]) -> str:
    """The output of a read-only command inside the root (in a dry run, only recorded)."""
    if ctx.dry_run:
        ctx.chroot(argv)
        return ""
    done = run_captured(chroot_argv(ctx.paths.root, argv), env=CHROOT_ENV, timeout=QUERY_SECONDS, cancel=ctx.cancel)
    if not done.ok:
        raise EmiError(f"{argv[0]} failed inside the image: {(done.stderr or done.stdout).strip()[:300]}", hint="the image's package database may be damaged")
    return done.stdout


FAMILIES: dict[str, Family] = {"deb": Deb(), "rpm": Rpm()}


def family_of(ctx: JobContext) -> Family:
    return FAMILIES[ctx.recipe.family]
