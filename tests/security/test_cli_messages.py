"""Names and text from artifacts, images and answer files in the CLI's messages: shown, never markup.

A member name such as "[/]x" crashed `report_error` with a MarkupError, and
"[green]…" recoloured the message; an ESC in an image-id field went to the
terminal raw. Each renderer here is fed generated names.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given

from emi_tui.commands import build, modify, review
from emi_tui.commands.console import report_error
from emi_tui.engine.build.readiness import Readiness
from emi_tui.engine.errors import EmiError, ExitCode, Problem
from emi_tui.engine.modify import job as modify_job
from emi_tui.engine.run.events import OutputLine, StepFinished, StepStarted

from .hostile import SECURITY, assert_shown_safely, hostile_line


@SECURITY
@given(name=hostile_line)
def test_an_error_naming_a_member_is_printed_literally(printed: Any, name: str) -> None:
    printed()
    error = EmiError(f"the artifact holds a member named {name}", hint=f"remove {name} from the artifact",
                     problems=[Problem(name, 1, 1, name, f"bad value {name}")])
    assert report_error(error) == ExitCode.BAD_INPUT
    shown = printed()
    assert_shown_safely(shown, f"the artifact holds a member named {name}", f"remove {name} from the artifact", f"bad value {name}")
    assert shown.splitlines()[-2].startswith("emi-tui: error:")


@SECURITY
@given(text=hostile_line)
def test_step_descriptions_and_output_are_printed_literally(printed: Any, text: str) -> None:
    printed()
    build._plan(StepStarted("extract", f"extract {text}", 0))
    build._plan(OutputLine("extract", f"tar -xf -- {text}"))
    build._plain(StepStarted("extract", f"extract {text}", 0))
    build._plain(StepFinished("extract", 1.0, note=text))
    assert_shown_safely(printed(), f"extract {text}", f"tar -xf -- {text}", text)


def _failed(message: str) -> SimpleNamespace:
    return SimpleNamespace(ok=False, cancelled=False, failed_step="extract", message=message, hint=f"look at {message}",
                           log_path=Path("/var/log/emi/build.log"), bad_artifact=True)


@SECURITY
@given(name=hostile_line)
def test_a_failed_build_or_modify_names_members_literally(printed: Any, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    message = f"member {name} is not a regular file"
    printed()
    monkeypatch.setattr(build, "validate_file", lambda *_: SimpleNamespace(ok=True, answers=None, recipe=None))
    monkeypatch.setattr(build, "check_readiness", lambda *_, **__: Readiness(()))  # nothing to check: the failure is the point
    monkeypatch.setattr(build, "run_build", lambda *_, **__: _failed(message))
    assert build.run(Path("answers.yaml"), False, True, False, None, True) == ExitCode.FAILED
    monkeypatch.setattr(modify_job, "run_modify", lambda *_: _failed(message))
    args = modify.add_parser(argparse.ArgumentParser().add_subparsers()).parse_args(["-v", "image.tgz"])
    assert modify.run(args) == ExitCode.BAD_INPUT
    shown = printed()
    assert_shown_safely(shown, message, f"look at {message}")
    assert shown.count("emi-tui: build failed in step extract: ") == 1 and shown.count("emi-tui: modify failed in step extract: ") == 1


#: An image-id value ends at its closing quote and at anything str.splitlines() takes for a line end; a NUL makes
#: the file binary, which the review reports without showing its fields.
field_value = hostile_line.map(lambda text: "".join(" " if c == "\x00" or len(f"{c}x".splitlines()) > 1 else "'" if c == '"' else c for c in text))


@SECURITY
@given(image_name=field_value, arch=field_value)
def test_review_shows_image_id_fields_literally(printed: Any, tmp_path_factory: Any, image_name: str, arch: str) -> None:
    folder = tmp_path_factory.mktemp("review")
    path = folder / "image-id"
    path.write_text(f'image_name="{image_name}"\nimage_version="2026.01.01"\nimage_arch="{arch}"\n', encoding="utf-8")
    printed()
    review.run([path], as_json=False)
    assert_shown_safely(printed(), image_name, arch)
