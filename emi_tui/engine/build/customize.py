"""Steps 3 and 4: change the root inside a chroot, then clean it for publication.

The chroot step installs and removes packages and writes what makes the image
a cloud image (rc.local, udev rules, fstab, /etc/image-id, the stored
answers). The hygiene step removes everything of the build and of this
workstation that must not ship, then unmounts and proves nothing is left.
"""

from __future__ import annotations

import os
from pathlib import Path

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.answers.storage import render_stored_answers
from emi_tui.engine.build.aptlists import lay_out_lists
from emi_tui.engine.build.context import BuildContext
from emi_tui.engine.build.distro import family_of
from emi_tui.engine.errors import EmiError
from emi_tui.engine.image import layout
from emi_tui.engine.image.files import image_files, image_symlinks
from emi_tui.engine.image.imageid import ImageId
from emi_tui.engine.run.context import JobContext
from emi_tui.engine.run.mounts import mounts_under
from emi_tui.engine.text import redact_secrets

POLICY_RC_D = "usr/sbin/policy-rc.d"
POLICY_RC_D_SCRIPT = "#!/bin/sh\n# emi-tui: no daemons during the image build\nexit 101\n"
BUILD_ONLY_FILES = (POLICY_RC_D, "etc/dpkg/dpkg.cfg.d/emi-tui-unsafe-io", "etc/apt/apt.conf.d/90emi-tui")
#: The package sources a build writes; a mirror URL in them may carry a password.
SOURCES = ("etc/apt/sources.list", "etc/apt/sources.list.d/emi-tui-extra-*.list", "etc/yum.repos.d/emi-tui*.repo")
NETWORK_INTERFACES = """\
# Written by emi-tui: the cloud's DHCP server configures the one NIC.
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet dhcp
"""


def image_id_for(ctx: JobContext) -> ImageId:
    image = ctx.answers.image
    return ImageId.stamped(
        name=image.resolved_name, version=image.resolved_version, arch=ctx.answers.arch, file=image.resolved_file,
        recipe=ctx.recipe.name, epoch_seconds=ctx.epoch,
    )


def mount_chroot(ctx: JobContext) -> None:
    """Say how commands run inside the root: nothing of the host is bound in (run.chroot mounts in each command's namespace)."""
    ctx.note("commands inside the root run contained: own mount and PID namespaces (unshare), the root pivoted in, "
             "a fresh /proc, a minimal /dev, no /sys, no capability to mount or make devices; the host's /proc, /sys and /dev are not bound in")


def run(ctx: JobContext) -> str:
    answers, recipe = ctx.answers, ctx.recipe
    family = family_of(ctx)
    mount_chroot(ctx)
    # No daemon may start inside the chroot while packages are installed.
    ctx.write(POLICY_RC_D, POLICY_RC_D_SCRIPT, 0o755)
    family.configure_sources(ctx)
    for index, repository in enumerate(answers.repositories):
        family.add_repository(ctx, index, repository)
    seed_apt_lists(ctx)
    family.refresh(ctx)
    wanted = [p for p in recipe.default_package_list() if p not in answers.packages.remove] + answers.packages.add
    family.install(ctx, list(dict.fromkeys(wanted)))
    unwanted = [p for p in dict.fromkeys(recipe.trim + answers.packages.remove) if p not in answers.packages.add]
    family.purge(ctx, unwanted)
    write_image_files(ctx, answers.metadata)
    if recipe.family == "deb":
        ctx.write("etc/network/interfaces", NETWORK_INTERFACES)
    ctx.write("etc/hostname", "localhost\n")
    ctx.write("etc/hosts", "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n")
    image_id = image_id_for(ctx)
    ctx.write(layout.IMAGE_ID, image_id.render())
    ctx.write(layout.ANSWERS, render_stored_answers(answers))
    ctx.facts["image_id"] = image_id.render()
    manifest = family.installed(ctx)
    ctx.facts["manifest"] = manifest
    return f"{len(manifest)} packages installed" if manifest else ""


def seed_apt_lists(ctx: JobContext) -> None:
    """Lay preflight's checked index into the root's apt lists, so the chroot's `apt-get update` downloads only InRelease."""
    if not isinstance(ctx, BuildContext) or ctx.shared_index is None or ctx.dry_run or ctx.recipe.family != "deb":
        return
    lists = ctx.paths.root / "var/lib/apt/lists"
    if not ctx.leads_inside_root(lists) or lists.is_symlink() or not lists.is_dir():
        return  # the build's own root always has the folder; anything else is left to apt
    if lay_out_lists(ctx.shared_index, lists):
        ctx.note("apt lists: preflight's checked index laid out in the root (apt-get update fetches only InRelease)")


def write_image_files(ctx: JobContext, metadata: Metadata) -> None:
    """Write rc.local, its unit drop-in, fstab, the udev rule and the host-key unit for `metadata` (also used by modify)."""
    for relative, (content, mode) in image_files(metadata).items():
        if relative == layout.RC_LOCAL and ctx.recipe.family == "rpm":
            # systemd on the RHEL family runs /etc/rc.d/rc.local; /etc/rc.local is a link to it there.
            ctx.write("etc/rc.d/rc.local", content, mode)
            ctx.symlink(layout.RC_LOCAL, "rc.d/rc.local")
            continue
        ctx.write(relative, content, mode)
    for relative, target in image_symlinks().items():
        ctx.symlink(relative, target)


def hygiene(ctx: JobContext) -> str:
    removed = clean_root(ctx)
    redact_sources(ctx)
    ctx.write("etc/resolv.conf", "")  # the build used the workstation's; DHCP writes the instance's
    unmount_chroot(ctx)
    return f"{removed} files removed"


def _empty(log: Path) -> None:
    """Drop a log file's contents through no link (it was checked to lie inside the root)."""
    fd = os.open(log, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def clean_root(ctx: JobContext, *, remove_host_keys: bool = True) -> int:
    """Hygiene inside the mounted root, short of resolv.conf and unmounting (shared with modify); returns files removed.

    Host keys are only removed where the image regenerates them (modify keeps
    an old image's keys when it has no hook, rather than make it unreachable).
    """
    for command in ctx.recipe.cleanup:
        ctx.chroot(command)
    for relative in BUILD_ONLY_FILES + layout.ROOT_HISTORY:
        ctx.remove(relative)
    root = ctx.paths.root
    removed = 0
    if not ctx.dry_run:
        patterns = ["var/lib/apt/lists/*_*", "tmp/*", "var/tmp/*", "var/log/**/*.gz", "var/log/**/*.[0-9]"]
        patterns = (["etc/ssh/ssh_host_*"] if remove_host_keys else []) + patterns
        for pattern in patterns:
            for path in root.glob(pattern):
                ctx.remove(str(path.relative_to(root)))
                removed += 1
        for log in root.glob("var/log/**/*"):
            if log.is_file() and not log.is_symlink() and ctx.leads_inside_root(log) and log.stat().st_size:
                _empty(log)  # keep the file (its owner and mode matter), drop the contents
        ctx.note("emptied the files under /var/log")
    else:
        ctx.note("remove /etc/ssh/ssh_host_*, apt lists, /tmp/*, /var/tmp/*, rotated logs; empty /var/log files")
    ctx.write(layout.MACHINE_ID, "", 0o444)
    dbus_id = ctx.paths.root / "var/lib/dbus/machine-id"
    if dbus_id.is_file() and not dbus_id.is_symlink():  # a symlink to /etc/machine-id is fine
        ctx.remove("var/lib/dbus/machine-id")
    return removed


def redact_sources(ctx: JobContext) -> None:
    """Rewrite the package sources the build wrote with each URL's password as *** (the image is published)."""
    if ctx.dry_run:
        ctx.note("write each URL's password in the package sources as ***")
        return
    for pattern in SOURCES:
        for path in sorted(ctx.paths.root.glob(pattern)):
            if path.is_file() and not path.is_symlink():
                text = path.read_text(encoding="utf-8", errors="replace")
                if redact_secrets(text) != text:
                    ctx.write(str(path.relative_to(ctx.paths.root)), redact_secrets(text), path.stat().st_mode & 0o7777)


def unmount_chroot(ctx: JobContext) -> None:
    """Undo the job's mounts (a modify's loop mount) and prove from /proc/self/mountinfo that nothing of ours remains."""
    if ctx.dry_run:
        ctx.note("unmount what the build mounted; check /proc/self/mountinfo")
        return
    stuck = ctx.mounts.close() if ctx.mounts else []
    left = mounts_under(ctx.paths.work)
    if stuck or left:
        raise EmiError(f"still mounted after unmounting: {', '.join(stuck + left)}", hint="a process may still use the root; see `emi-tui cleanup`")
    ctx.note("nothing of this build is mounted (checked /proc/self/mountinfo)")

