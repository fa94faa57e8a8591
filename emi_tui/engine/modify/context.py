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


@dataclass(frozen=True)
class StashedLink:
    """A file the modify replaced for its own work that was a symbolic link to `target`."""

    target: str


@dataclass(frozen=True)
class StashedFile:
    """A file the modify replaced for its own work that was a regular file: its bytes and permission bits."""

    content: bytes
    mode: int


#: A file the modify replaced for its own work, as it was (None: it was absent).
Stashed = StashedLink | StashedFile | None


@dataclass
class Unpacked:
    """What the unpack step settles: the working copy of the image, and what the image says it is."""

    image: Path
    identity: Identity


@dataclass(kw_only=True)
class ModifyContext(JobContext):
    """The JobContext of a modify: `answers`, `recipe` and `unpacked` are settled by the unpack step, from the image itself."""

    request: ModifyRequest
    survey: ArtifactSurvey
    unpacked: Unpacked | None = None
    names: dict[str, Path] = field(default_factory=dict)  # final artifact names
    stash: dict[str, Stashed] = field(default_factory=dict)
    ours: dict[str, bytes] = field(default_factory=dict)

    @property
    def image(self) -> Path:
        """The working copy of the image (in the work folder); an EmiError before the unpack step."""
        return self._settled_unpack("image").image

    @property
    def identity(self) -> Identity:
        """What the image says it is; grown with it by the grow step. An EmiError before the unpack step."""
        return self._settled_unpack("identity").identity

    def _settled_unpack(self, what: str) -> Unpacked:
        if self.unpacked is None:
            raise self._unsettled(what)
        return self.unpacked
