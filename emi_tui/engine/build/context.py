"""A build's context: a `JobContext` whose answers come from the operator, plus what preflight settles for the build."""

from __future__ import annotations

from dataclasses import dataclass, field

from emi_tui.engine.build.aptlists import SharedIndex
from emi_tui.engine.build.bootstrapper import BootstrapPlan
from emi_tui.engine.run.context import JobContext


@dataclass(kw_only=True)
class BuildContext(JobContext):
    """What the build's own steps work with (shared steps take any `JobContext`)."""

    use_cache: bool = True  # take the base from the cache, and store it there
    requested_bootstrapper: str | None = None  # --bootstrapper; None lets preflight choose
    bootstrap_plan: BootstrapPlan = field(default_factory=BootstrapPlan)  # settled by preflight
    shared_index: SharedIndex | None = None  # preflight's checked index, laid out again for each apt-get update
    base_packages: int | None = None  # how many packages the bootstrap installs, from preflight's index (its progress counts them)
