"""Hostile things planted at a path of a tree that an image is made from: links out of it, sparse giants, special files."""

from __future__ import annotations

import os
from pathlib import Path


def plant_escape(path: Path, kind: str, secret: Path, up: str, size: int) -> bool:
    """Plant one of the kinds every hostile-image test shares at `path`; False when `kind` is not one of them.

    `up` is enough "../" to climb out of the tree from `path`'s folder; a link
    chain's hops sit beside `path`, the last one pointing at `secret`.
    """
    depth = up.count("../")
    if kind == "absolute link":
        path.symlink_to(secret)
    elif kind == "escaping link":
        path.symlink_to(f"{up}{secret.relative_to('/')}")
    elif kind == "link chain":
        for hop in range(depth):
            (path.parent / f"hop{hop}").symlink_to(f"hop{hop + 1}" if hop + 1 < depth else str(secret))
        path.symlink_to("hop0")
    elif kind == "sparse":
        with open(path, "wb") as handle:
            handle.truncate(size)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        return False
    return True
