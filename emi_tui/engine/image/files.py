"""The small files emi-tui puts into every image, as text.

Pure functions: the build writes what they return, the wizard previews it.
`image_files` gathers everything that applies to one set of metadata
options, keyed by the path inside the image (relative, as in `layout`);
`image_symlinks` lists the links that go with them.
"""

from __future__ import annotations

import re

from emi_tui.engine.image import layout
from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.image.rclocal import render_rc_local

__all__ = [
    "RC_LOCAL_TIMEOUT",
    "image_files",
    "image_symlinks",
    "render_euca_udev",
    "render_fstab",
    "render_hostkey_unit",
    "render_rc_local",
    "render_rc_local_dropin",
    "render_udev_rule",
]

#: rc-local.service's start timeout, in seconds: rc.local's own worst case is
#: about two minutes (see rclocal.worst_case_seconds); this leaves room for slow
#: disks and still lets a stuck boot finish.
RC_LOCAL_TIMEOUT = 300

_EXT_LABEL = re.compile(r"^[A-Za-z0-9._-]{1,16}$")

_HEADER = "# Written by emi-tui."


def render_udev_rule() -> str:
    """/etc/udev/rules.d/70-euca-udev.rules: every xvd* disk also gets its sd* name."""
    return (
        f"{_HEADER} Xen guests see their disks as xvd*; images and\n"
        "# instructions written for sd* names keep working through these links.\n"
        'KERNEL=="xvd*", PROGRAM="/sbin/euca-udev %k", SYMLINK+="%c"\n'
    )


def render_euca_udev() -> str:
    """/sbin/euca-udev: the name udev links an xvd* device to (xvda1 -> sda1)."""
    return f"""\
#!/bin/sh
{_HEADER} Called by /etc/udev/rules.d/70-euca-udev.rules as
# "euca-udev KERNEL-NAME"; prints the sd* name of an xvd* disk or partition
# (xvda -> sda, xvdb1 -> sdb1) and any other name unchanged.
if [ "$#" -ne 1 ]; then
    echo "usage: $0 KERNEL-NAME (for example xvda1)" >&2
    exit 1
fi
case $1 in
    xvd[a-z]*)
        case ${{1#xvd}} in
            *[!a-z0-9]*) printf '%s\\n' "$1" ;;
            *) printf 'sd%s\\n' "${{1#xvd}}" ;;
        esac
        ;;
    *) printf '%s\\n' "$1" ;;
esac
"""


def render_fstab(label: str = layout.ROOT_LABEL) -> str:
    """/etc/fstab: the root found by its file-system label, whatever the disk is called."""
    if not _EXT_LABEL.match(label):
        raise ValueError(f"{label!r} is not an ext file-system label: up to 16 letters, digits and . _ -")
    return f"""\
{_HEADER}
# The root is found by its label: the disk is sda1, xvda1 or vda depending on
# the hypervisor. ephemeral0 and swap are not listed here: /etc/rc.local mounts
# them when the cloud offers them, so that an instance without them still boots.
# No /proc line: systemd mounts /proc (and /sys, /dev, /run) itself.
# <file system>  <mount point>  <type>  <options>  <dump>  <pass>
LABEL={label}  /  ext3  defaults,errors=remount-ro  0  1
"""


def render_hostkey_unit() -> str:
    """The systemd unit that gives each instance its own SSH host keys at first boot."""
    return f"""\
{_HEADER} The image ships without SSH host keys, so that no two
# instances share them: this makes the missing ones before sshd starts, which
# is at the first boot only (the condition is false once they exist).
[Unit]
Description=Generate the SSH host keys of this instance
ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key
Before=ssh.service sshd.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
"""


def render_rc_local_dropin() -> str:
    """The rc-local.service drop-in: rc.local runs once the network is up, bounded in time."""
    return f"""\
{_HEADER} /etc/rc.local talks to the metadata service, so it
# waits for the network; its log lines also go to the console, tagged.
[Unit]
Wants=network-online.target
After=network-online.target

[Service]
# The stock TimeoutSec=0 would let a stuck rc.local hold up the logins ordered
# after it forever; rc.local's own steps take about two minutes at worst.
TimeoutSec={RC_LOCAL_TIMEOUT}
StandardOutput=journal+console
StandardError=journal+console
SyslogIdentifier=emi-rc.local
"""


def image_files(metadata: Metadata) -> dict[str, tuple[str, int]]:
    """Path in the image (relative, as in `layout`) -> (content, mode) of every file that applies."""
    files = {
        layout.RC_LOCAL: (render_rc_local(metadata), 0o755),
        layout.RC_LOCAL_UNIT_DROPIN: (render_rc_local_dropin(), 0o644),
        layout.FSTAB: (render_fstab(), 0o644),
        layout.HOSTKEY_UNIT: (render_hostkey_unit(), 0o644),
    }
    if metadata.udev_xvd:
        files[layout.UDEV_RULE] = (render_udev_rule(), 0o644)
        files[layout.EUCA_UDEV] = (render_euca_udev(), 0o755)
    return files


def image_symlinks() -> dict[str, str]:
    """Link path in the image -> link target: the host-key unit, enabled.

    The target is relative, so that it also resolves when the image is looked
    at from outside (mounted on the workstation), not only once booted.
    """
    return {layout.HOSTKEY_UNIT_LINK: f"../{layout.HOSTKEY_UNIT_NAME}"}
