"""A modify's context: a `JobContext` whose answers and recipe come from the image, plus what a modify works on.

Every module of the modify's steps (naming, steps, shell, teardown)
imports the context from here, and this module imports none of them: the
modify's modules form a tree, not a circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from emi_tui.engine.artifact.survey import ArtifactSurvey
from emi_tui.engine.modify.identity import Identity
from emi_tui.engine.modify.request import ModifyRequest
from emi_tui.engine.run.context import JobContext

#: A file the modify replaced for its own work, as it was: ("link", target), ("file", bytes, mode), or None (absent).
Stashed = tuple[str, str] | tuple[str, bytes, int] | None


@dataclass(kw_only=True)
class ModifyContext(JobContext):
    """The JobContext of a modify: `answers` and `recipe` are settled by the unpack step, from the image itself."""

    request: ModifyRequest
    survey: ArtifactSurvey
    image: Path | None = None  # the working copy of the image
    identity: Identity | None = None
    names: dict[str, Path] = field(default_factory=dict)  # final artifact names
    stash: dict[str, Stashed] = field(default_factory=dict)
    ours: dict[str, bytes] = field(default_factory=dict)
