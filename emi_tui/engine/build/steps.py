"""The build as a flat list of named steps (as mkosi's build_image()).

Each step is a function of a BuildContext. `build_steps` is the order; the
job runner (emi_tui.engine.run.job) runs them one after the other and reports
each as events.
"""

from __future__ import annotations

from emi_tui.engine.build import bootstrap, customize, package, preflight
from emi_tui.engine.build import filesystem as image
from emi_tui.engine.build.context import BuildContext
from emi_tui.engine.run.job import Step

__all__ = ["Step", "build_steps"]


def build_steps() -> list[Step[BuildContext]]:
    return [
        Step("preflight", "check root, tools, free space, the mirror and the estimated size", preflight.run),
        Step("bootstrap", "bootstrap the base system (or take it from the cache)", bootstrap.run),
        Step("chroot", "install and remove packages, write rc.local, udev rules and /etc/image-id", customize.run),
        Step("hygiene", "clean caches, history, host keys and machine-id; unmount", customize.hygiene),
        Step("kernel", "copy the kernel and ramdisk (EKI/ERI) out of /boot", image.kernel),
        Step("filesystem", "make the ext3 image with mke2fs -d and check it", image.filesystem),
        Step("zerofree", "zero the free blocks so the image compresses well", image.zerofree),
        Step("package", "tar and compress; write checksum, manifest, answers and log", package.run),
    ]
