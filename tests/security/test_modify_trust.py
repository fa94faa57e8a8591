"""Class 8: `emi-tui modify` says what it trusts before it runs anything, and in its --help.

A modify runs the image's own programs as root, so the operator is told,
before the job starts, that only images from trusted sources should be
modified, and that `review` needs no such trust. Before issue 14 nothing said
so (the wizard's Changes screen is tested in tests/tui/test_modify_wizard.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from emi_tui.commands import modify
from emi_tui.engine.modify import job as modify_job

SAID = ("runs the image's own programs as root", "only images from sources you trust", "review", "without mounting it")


def _said(text: str) -> bool:
    flat = " ".join(text.split())  # --help wraps lines
    return all(words in flat for words in SAID)


@pytest.mark.parametrize("options", [["-v"], ["--dry-run"], ["-v", "--upgrade"], ["-v", "--shell"]])
def test_the_trust_statement_is_printed_before_the_job_starts(printed: Any, monkeypatch: pytest.MonkeyPatch, options: list[str]) -> None:
    seen_before: list[str] = []

    def run_modify(*_: object) -> SimpleNamespace:
        seen_before.append(printed())  # what the operator had read when the job started
        return SimpleNamespace(ok=False, cancelled=True, failed_step="preflight", message="stopped", hint="",
                               log_path=Path("/var/log/emi/modify.log"), bad_artifact=False)

    monkeypatch.setattr(modify_job, "run_modify", run_modify)
    args = modify.add_parser(argparse.ArgumentParser().add_subparsers()).parse_args([*options, "image.tgz"])
    modify.run(args)
    assert seen_before and _said(seen_before[0]), seen_before


def test_modify_help_says_what_it_trusts() -> None:
    shown = subprocess.run([sys.executable, "-m", "emi_tui", "modify", "--help"], capture_output=True, text=True, check=True).stdout
    assert _said(shown), shown
