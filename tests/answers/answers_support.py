"""What the answer-file tests share: the sample files, a fake workstation's apt sources, check and ok.

The fixtures (a fake workstation for every test here, the shipped recipes)
are in this folder's conftest.py.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from emi_tui.engine.answers.model import Answers, validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook

GOOD = Path(__file__).parent.parent / "data" / "answers" / "good"
TODAY = date(2026, 11, 28)
WORKSTATION_MIRROR = "http://mirror.example/debian"
SECURITY = "http://security.example/debian-security"
GOOD_FILES = sorted(p.name for p in GOOD.glob("*.yaml"))
BASE = "version: 1\nrecipe: debian-based\n"


def fake_apt_root(root: Path, uri: str = WORKSTATION_MIRROR, suites: str = "bookworm bookworm-updates") -> Path:
    """A system root whose apt sources serve `suites` from `uri` (and -security from elsewhere)."""
    parts = root / "etc" / "apt" / "sources.list.d"
    parts.mkdir(parents=True, exist_ok=True)
    (parts / "debian.sources").write_text(
        f"Types: deb\nURIs: {SECURITY}\nSuites: bookworm-security\nComponents: main\n\n"
        f"Types: deb\nURIs: {uri}/\nSuites: {suites}\nComponents: main\n"
    )
    return root


def check(text: str | bytes, book: RecipeBook, today: date | None = TODAY, source: str = "a.yaml"):
    return validate_bytes(text, source, book, today)


def ok(text: str | bytes, book: RecipeBook, today: date | None = TODAY) -> Answers:
    result = check(text, book, today)
    assert result.ok, [str(p) for p in result.problems]
    assert result.problems == []
    return result.answers
