"""What a catalog build remembers in its output folder: each image's outcome, so `--retry-failed` rebuilds only what failed.

The file is ours, in a folder the operator chose: it is read bounded and
through no symlink, anything in it of the wrong shape is ignored (the image is
then built again), and it is replaced whole, never written in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from emi_tui.engine.safefs import read_small, write_atomic

STATE_FILE = ".emi-tui-catalog.json"
FORMAT = 1
MAX_BYTES = 1024 * 1024

Outcome = Literal["built", "failed", "cancelled"]
OUTCOMES: tuple[Outcome, ...] = ("built", "failed", "cancelled")


@dataclass
class ImageState:
    """One image's last outcome: how it ended, its artifact's name and, when built, its image-id text."""

    outcome: Outcome
    artifact: str
    image_id: str = ""
    message: str = ""


@dataclass
class CatalogState:
    """Heading -> the image's last outcome, as kept in the catalog's folder."""

    images: dict[str, ImageState] = field(default_factory=dict)

    def built(self, heading: str, folder: Path) -> bool:
        """Whether the image was built and its artifact is still in `folder`."""
        state = self.images.get(heading)
        return state is not None and state.outcome == "built" and bool(state.artifact) and (folder / state.artifact).is_file()


def state_path(folder: Path) -> Path:
    return folder / STATE_FILE


def read_state(folder: Path) -> CatalogState:
    """The folder's catalog state; empty when there is none or it is not ours."""
    data = read_small(state_path(folder), MAX_BYTES)
    state = CatalogState()
    if data is None or len(data) > MAX_BYTES:
        return state
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return state
    if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(document.get("images"), dict):
        return state
    for heading, entry in document["images"].items():
        if not isinstance(entry, dict) or entry.get("outcome") not in OUTCOMES:
            continue
        texts = [entry.get(k, "") for k in ("artifact", "image_id", "message")]
        if all(isinstance(t, str) for t in texts):
            state.images[heading] = ImageState(entry["outcome"], *texts)
    return state


def write_state(folder: Path, state: CatalogState) -> None:
    """Replace the folder's catalog state whole."""
    images = {h: {"outcome": s.outcome, "artifact": s.artifact, "image_id": s.image_id, "message": s.message} for h, s in state.images.items()}
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(state_path(folder), json.dumps({"format": FORMAT, "images": images}, indent=1, sort_keys=True) + "\n")
