"""What the runner tests ask of a process they started: is it gone?"""

from __future__ import annotations


def gone_or_zombie(pid: int) -> bool:
    """True when `pid` no longer runs: it is gone, or a zombie waiting to be reaped."""
    # A killed orphan may linger as a zombie until PID 1 reaps it; it runs no more.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
