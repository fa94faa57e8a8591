"""Reviewing the image inside an artifact tarball: surveyed, then only the image unpacked, bounded, into a private folder.

The image-level reads (debugfs, without mounting) are artifact.read's; this
module is the artifact-level part. It sits apart from artifact.read because
the survey reads superblocks with that module.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from emi_tui.engine.artifact.extract import extract_surveyed
from emi_tui.engine.artifact.kinds import installed
from emi_tui.engine.artifact.listing import UnsafeArtifact
from emi_tui.engine.artifact.read import ImageFacts, ImageReadError, inspect_image
from emi_tui.engine.artifact.survey import survey_artifact
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.runner import CommandFailed


def read_from_artifact(path: Path) -> list[ImageFacts]:
    """Inspect the one image inside an artifact tarball: one ImageFacts (labelled by its member path).

    The artifact is surveyed first (artifact.survey): links, devices, unsafe
    names and more than one image are refused as bad input (UnsafeArtifact,
    an EmiError) before anything is unpacked or run. Only the image member is
    then extracted, into a private temporary folder (mkdtemp, 0700, under
    TMPDIR) that is gone afterwards, and only when its declared size fits in
    that folder's free space; GNU tar restores it sparse.
    """
    if not installed("tar"):
        raise ImageReadError(f"tar is not installed: install tar to review {path}")
    try:
        survey = survey_artifact(path)
    except UnsafeArtifact:
        raise
    except EmiError as exc:  # not an artifact (no image, unreadable): a failed entry of the review, as any unreadable file
        raise ImageReadError(f"{exc.message}: {exc.hint}" if exc.hint else exc.message) from None
    with tempfile.TemporaryDirectory(prefix="emi-review-") as tmp:
        try:
            extract_surveyed(survey, Path(tmp), [survey.image_member])
        except CommandFailed as exc:
            raise ImageReadError(f"{exc.message} on {path}: is it a regular file on a local disk?") from None
        except UnsafeArtifact:
            raise
        except EmiError as exc:
            raise ImageReadError(f"{exc.message}: {exc.hint}" if exc.hint else exc.message) from None
        image = Path(tmp) / survey.image_member
        return [inspect_image(image, label=survey.image_member)]
