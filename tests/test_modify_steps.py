"""Single steps of a modify, on a context made by hand (no artifact, no root needed)."""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.image import layout
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


@pytest.mark.parametrize("xvd, vd, kept", [(True, False, True), (False, True, True), (False, False, False)])
def test_the_metadata_step_keeps_the_udev_files_while_either_mapping_is_on(tmp_path: Path, xvd: bool, vd: bool, kept: bool) -> None:
    """Re-rendering an image's files: the udev rule and euca-udev stay for vd* alone too, and go only when both mappings are off."""
    ctx = make_context(tmp_path, lambda event: None)
    root = ctx.paths.root
    for relative in (layout.UDEV_RULE, layout.EUCA_UDEV):  # what the image had before
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("old\n")
    ctx.request = replace(ctx.request, metadata=Metadata(udev_xvd=xvd, udev_vd=vd, grow_root=False))
    steps.metadata(ctx)
    assert (root / layout.UDEV_RULE).exists() is kept and (root / layout.EUCA_UDEV).exists() is kept
    if kept:
        rule = (root / layout.UDEV_RULE).read_text()
        assert ('KERNEL=="vd*"' in rule) is vd and ('KERNEL=="xvd*"' in rule) is xvd
    assert "grow_root:  off" in (root / layout.RC_LOCAL).read_text()
