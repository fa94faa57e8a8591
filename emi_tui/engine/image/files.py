"""The small files emi-tui puts into every image, as text.

Pure functions: the build writes what they return, the wizard previews it.
Each file's text lives in a template file in templates/ (see templates.py).
`image_files` gathers everything that applies to one set of metadata
options, keyed by the path inside the image (relative, as in `layout`);
`image_symlinks` lists the links that go with them.
"""

from __future__ import annotations

import re

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.image import layout
from emi_tui.engine.image.rclocal import render_rc_local
from emi_tui.engine.image.templates import render

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
    "wants_udev_names",
]

#: rc-local.service's start timeout, in seconds: rc.local's own worst case is
#: about two minutes (see rclocal.worst_case_seconds); this leaves room for slow
#: disks and still lets a stuck boot finish.
RC_LOCAL_TIMEOUT = 300

_EXT_LABEL = re.compile(r"^[A-Za-z0-9._-]{1,16}$")


def wants_udev_names(metadata: Metadata) -> bool:
    """Whether these options put the udev rule and /sbin/euca-udev into the image (xvd* or vd* disks get sd* names)."""
    return metadata.udev_xvd or metadata.udev_vd


def render_udev_rule(xvd: bool = True, vd: bool = True) -> str:
    """/etc/udev/rules.d/70-euca-udev.rules: every xvd* disk (`xvd`) and every vd* disk (`vd`) also gets its sd* name."""
    return render("70-euca-udev.rules", {"xvd": xvd, "vd": vd})


def render_euca_udev() -> str:
    """/sbin/euca-udev: the name udev links an xvd* or vd* device to (xvda1 -> sda1, vdb -> sdb)."""
    return render("euca-udev.sh")


def render_fstab(label: str = layout.ROOT_LABEL) -> str:
    """/etc/fstab: the root found by its file-system label, whatever the disk is called."""
    if not _EXT_LABEL.match(label):
        raise ValueError(f"{label!r} is not an ext file-system label: up to 16 letters, digits and . _ -")
    return render("fstab", LABEL=label)


def render_hostkey_unit() -> str:
    """The systemd unit that gives each instance its own SSH host keys at first boot."""
    return render(layout.HOSTKEY_UNIT_NAME)


def render_rc_local_dropin() -> str:
    """The rc-local.service drop-in: rc.local runs once the network is up, bounded in time."""
    return render("rc-local-dropin.conf", TIMEOUT=RC_LOCAL_TIMEOUT)


def image_files(metadata: Metadata) -> dict[str, tuple[str, int]]:
    """Path in the image (relative, as in `layout`) -> (content, mode) of every file that applies."""
    files = {
        layout.RC_LOCAL: (render_rc_local(metadata), 0o755),
        layout.RC_LOCAL_UNIT_DROPIN: (render_rc_local_dropin(), 0o644),
        layout.FSTAB: (render_fstab(), 0o644),
        layout.HOSTKEY_UNIT: (render_hostkey_unit(), 0o644),
    }
    if wants_udev_names(metadata):
        files[layout.UDEV_RULE] = (render_udev_rule(xvd=metadata.udev_xvd, vd=metadata.udev_vd), 0o644)
        files[layout.EUCA_UDEV] = (render_euca_udev(), 0o755)
    return files


def image_symlinks() -> dict[str, str]:
    """Link path in the image -> link target: the host-key unit, enabled.

    The target is relative, so that it also resolves when the image is looked
    at from outside (mounted on the workstation), not only once booted.
    """
    return {layout.HOSTKEY_UNIT_LINK: f"../{layout.HOSTKEY_UNIT_NAME}"}
