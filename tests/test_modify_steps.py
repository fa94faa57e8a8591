"""Single steps of a modify, on a context made by hand (no artifact, no root needed)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.modify import steps
from emi_tui.engine.modify.context import ModifyContext
from emi_tui.engine.modify.job import ArtifactSurvey, ModifyRequest
from emi_tui.engine.run.context import JobPaths
from emi_tui.engine.run.events import EventSink, OutputLine
from emi_tui.engine.run.runner import Cancelled


def make_context(tmp_path: Path, emit: EventSink) -> ModifyContext:
    image = tmp_path / "euca-debian.img"
    return ModifyContext(
        settled_recipe=RecipeBook().recipes["debian-based"],
        paths=JobPaths(work=tmp_path / "work", output=tmp_path / "out", log=tmp_path / "log"), emit=emit,
        cancel=threading.Event(), request=ModifyRequest(image), survey=ArtifactSurvey(image, "image", "none", "", [], 0),
    )


def test_a_package_database_that_cannot_be_read_leaves_the_manifest_empty(tmp_path: Path) -> None:
    """distro.query raises EmiError when dpkg-query fails inside the image: the modify goes on, with no manifest."""
    if shutil.which("chroot") is None:
        pytest.skip("needs chroot")
    lines: list[str] = []
    ctx = make_context(tmp_path, lambda event: lines.append(event.text) if isinstance(event, OutputLine) else None)
    ctx.paths.root.mkdir(parents=True)  # an image root with no dpkg-query in it: the query fails as on a damaged database
    assert steps._installed(ctx) == {}
    assert any("cannot list the installed packages" in line and "the manifest stays empty" in line for line in lines), lines


def test_a_cancel_while_listing_the_packages_still_cancels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancelled is an EmiError too: the empty-manifest fallback must not swallow it."""

    class Cancelling:
        def installed(self, ctx: object) -> dict[str, str]:
            raise Cancelled("cancelled while running dpkg-query")

    monkeypatch.setattr(steps, "family_of", lambda ctx: Cancelling())
    with pytest.raises(Cancelled):
        steps._installed(make_context(tmp_path, lambda event: None))
