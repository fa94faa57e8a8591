"""A build's context: a `JobContext` whose answers come from the operator, plus the cache choice."""

from __future__ import annotations

from dataclasses import dataclass

from emi_tui.engine.run.context import JobContext


@dataclass(kw_only=True)
class BuildContext(JobContext):
    """What the build's own steps work with (shared steps take any `JobContext`)."""

    use_cache: bool = True  # take the base from the cache, and store it there
