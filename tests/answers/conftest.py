"""Fixtures of the answer-file tests: validation reads a fake workstation's apt sources, never /etc/apt."""

from __future__ import annotations

import pytest
from answers_support import fake_apt_root

from emi_tui.engine import paths
from emi_tui.engine.answers import mirror as mirror_module
from emi_tui.engine.answers import model as answers_module
from emi_tui.engine.answers.recipes import RecipeBook


@pytest.fixture(autouse=True)
def workstation(tmp_path, monkeypatch):
    """Validation reads this fake workstation's apt sources, never the real /etc/apt."""
    root = fake_apt_root(tmp_path / "workstation")
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: mirror_module.workstation_mirror(releases, root=root))
    return root


@pytest.fixture(scope="module")
def book() -> RecipeBook:
    book = RecipeBook([paths.shipped_dir("recipes")])
    assert book.problems == []
    return book
