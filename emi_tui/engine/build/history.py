"""The history of builds: the resolved answers of every build, saved before it starts, and how each ended.

Both the wizard and `emi-tui build` save here, so Home can list recent builds
and a failed build can always be retried from its answers. How a build
ended (built, failed, cancelled, or a dry run) is kept beside its answers in
`<answers>.outcome`, one small JSON document written whole
(safefs.write_atomic) and read bounded; an outcome file that is not ours is
taken as no outcome.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from emi_tui.engine import paths
from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.yamlload import load_located_file
from emi_tui.engine.errors import EmiError
from emi_tui.engine.safefs import read_small, write_atomic

#: How a build from the history ended, in the words Home shows.
OUTCOMES = ("built", "failed", "cancelled", "dry run")
OUTCOME_MAX_BYTES = 4096
_STAMPED = re.compile(r"^(\d{8}-\d{6})-(.+)$")


def history_dir() -> Path:
    """Where every build started from the wizard keeps its answers."""
    return paths.data_dir() / "history"


def history_path(now: datetime, answers: Answers) -> Path:
    """history/<timestamp>-<image file stem>.yaml for a build starting `now`."""
    stem = Path(answers.image.file or "image").stem
    return history_dir() / f"{now.strftime('%Y%m%d-%H%M%S')}-{stem}.yaml"


def outcome_path(answers_path: Path) -> Path:
    return answers_path.with_name(answers_path.name + ".outcome")


def record_outcome(answers_path: Path, outcome: str, folder: Path | None = None) -> bool:
    """Keep how the build of `answers_path` ended, when that file is in the history folder; False when not kept."""
    folder = folder or history_dir()
    if outcome not in OUTCOMES or answers_path.parent != folder or not answers_path.is_file():
        return False  # an answer file of the operator's own: nothing is written beside it
    try:
        write_atomic(outcome_path(answers_path), json.dumps({"outcome": outcome}), 0o600)
    except (OSError, EmiError):
        return False
    return True


def read_outcome(answers_path: Path) -> str | None:
    """How the build of `answers_path` ended, or None when nothing (or nothing we wrote) says."""
    data = read_small(outcome_path(answers_path), OUTCOME_MAX_BYTES)
    try:
        document = json.loads(data) if data is not None and len(data) <= OUTCOME_MAX_BYTES else None
    except (ValueError, RecursionError):
        return None
    outcome = document.get("outcome") if isinstance(document, dict) else None
    return outcome if outcome in OUTCOMES else None


@dataclass(frozen=True)
class RecentBuild:
    """One answer file of the history folder, with what it says in one line and how its build ended."""

    path: Path
    summary: str
    outcome: str | None = None  # one of OUTCOMES; None when not recorded (an older build, or one still running)

    @property
    def name(self) -> str:
        """The image's name, without the history file's time stamp and suffix."""
        match = _STAMPED.match(self.path.stem)
        return match.group(2) if match else self.path.stem

    @property
    def started(self) -> datetime | None:
        """When the build started, from the file's name (None when the name carries no time stamp)."""
        match = _STAMPED.match(self.path.stem)
        try:
            return datetime.strptime(match.group(1), "%Y%m%d-%H%M%S") if match else None
        except ValueError:
            return None


def recent_builds(folder: Path | None = None, limit: int = 30) -> list[RecentBuild]:
    """The answer files in the history folder, newest first."""
    folder = folder or history_dir()
    try:
        files = [p for p in folder.glob("*.yaml") if p.is_file()]
    except OSError:
        return []
    files.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    found = []
    for path in files[:limit]:
        data = load_located_file(path).data
        if isinstance(data, dict):
            words = [str(data.get(k)) for k in ("recipe", "release", "arch", "size") if data.get(k) is not None]
            summary = " ".join(words) or "(no recipe)"
        else:
            summary = "(unreadable)"
        found.append(RecentBuild(path, summary, read_outcome(path)))
    return found
