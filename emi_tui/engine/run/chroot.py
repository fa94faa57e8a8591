"""The one way a command runs inside an image's root: contained, not a bare chroot.

A build and a modify run the image's own programs (apt, dpkg, the recipe's
cleanup, a `--run` script, the `--shell`) as root. `chroot_argv` wraps such a
command so that it runs in its own mount and PID namespaces (unshare), with
the image's root pivoted in, a fresh /proc, a minimal /dev and no /sys, and
without the capabilities to mount or make device nodes (see enter_root). The
host's /proc, /sys and /dev are never bound in, so `/proc/<pid>/root` leads
nowhere outside the image. When the command's pid 1 ends, the namespace and
everything mounted in it go with it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from emi_tui.engine.run import enter_root

#: The tools the wrapper needs on the host (preflight checks them): unshare is in util-linux.
CHROOT_TOOLS = ("unshare",)
ENTER_SCRIPT = Path(enter_root.__file__).resolve()


def chroot_argv(root: Path | str, argv: Sequence[str]) -> list[str]:
    """The argv that runs `argv` inside `root`, in fresh mount and PID namespaces (unshare kills it with itself)."""
    return ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private", "--",
            sys.executable, "-I", "-S", str(ENTER_SCRIPT), str(root), "--", *[str(a) for a in argv]]
