"""What a modify trusts, said the same way by the CLI (`emi-tui modify` and its --help), the wizard and the log.

A modify runs the image's own programs as root: its apt and dpkg with their
maintainer scripts, its recipe's cleanup, even on a plain re-stamp (the
package list is read with the image's dpkg-query). They run contained (own
mount and PID namespaces, a fresh /proc, a minimal /dev, no /sys, see
emi_tui.engine.run.chroot), but containment is a second line, not a licence:
only images from trusted sources should be modified. `review` reads an image
without that trust: it never mounts it nor runs anything from it.
"""

from __future__ import annotations

TRUST_STATEMENT = (
    "A modify runs the image's own programs as root (its dpkg or rpm, package scripts and cleanup, even for a re-stamp), "
    "contained in their own namespaces with a fresh /proc and a minimal /dev: modify only images from sources you trust. "
    "`emi-tui review` needs no such trust: it reads an image without mounting it or running anything from it."
)
