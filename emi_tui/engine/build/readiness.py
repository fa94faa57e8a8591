"""Will this build work? The checks the wizard's Summary and `build --dry-run` run before anything is built.

Each check says what it looked at and what it found, in words an operator
uses: ok, a warning (the build may go on after a second confirmation), an
error (the build must not start), or "not checked" (it needs the network and
the run is offline: never reported as passed, never a failure).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import Recipe


class CheckStatus(enum.Enum):
    """The outcome of one readiness check."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class Check:
    """One thing looked at before a build: `name` is stable (tests, JSON), `label` is for people."""

    name: str
    label: str
    status: CheckStatus
    message: str
    hint: str = ""
    #: The answer key whose step fixes it (the Summary jumps there), or None.
    key: str | None = None


@dataclass(frozen=True)
class Readiness:
    """Every check of one set of answers, in the order they ran."""

    checks: tuple[Check, ...]

    def with_status(self, status: CheckStatus) -> list[Check]:
        return [check for check in self.checks if check.status is status]

    @property
    def errors(self) -> list[Check]:
        return self.with_status(CheckStatus.ERROR)

    @property
    def warnings(self) -> list[Check]:
        return self.with_status(CheckStatus.WARNING)

    @property
    def can_build(self) -> bool:
        """No errors (warnings still need the operator's second confirmation)."""
        return not self.errors


def check_readiness(answers: Answers, recipe: Recipe, *, offline: bool, work_parent: Path | None = None) -> Readiness:
    """Run every readiness check of `answers` built from `recipe`.

    Local checks (output folder, space, keyrings, package names) always run;
    the mirror and the package index are checked unless `offline`.
    """
    raise NotImplementedError("issue 16: implemented by the readiness work")
