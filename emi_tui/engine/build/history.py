"""The history of builds: the resolved answers of every build, saved before it starts.

Both the wizard and `emi-tui build` save here, so Home can list recent builds
and a failed build can always be retried from its answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from emi_tui.engine import paths
from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.yamlload import load_located_file


def history_dir() -> Path:
    """Where every build started from the wizard keeps its answers."""
    return paths.data_dir() / "history"


def history_path(now: datetime, answers: Answers) -> Path:
    """history/<timestamp>-<image file stem>.yaml for a build starting `now`."""
    stem = Path(answers.image.file or "image").stem
    return history_dir() / f"{now.strftime('%Y%m%d-%H%M%S')}-{stem}.yaml"


@dataclass(frozen=True)
class RecentBuild:
    """One answer file of the history folder, with what it says in one line."""

    path: Path
    summary: str


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
        found.append(RecentBuild(path, summary))
    return found
