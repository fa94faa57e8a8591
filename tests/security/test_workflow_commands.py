"""Hostile text in a CI log: what emi-tui prints must never be read by GitHub's runner as a workflow command.

A CI job runs `validate` on answer files from a pull request, or `review` on
images and image-id files from elsewhere. The runner reads every line of the
job's log: a line that starts with `::` after blanks (`::error::`,
`::add-mask::`, `::stop-commands::`) is a command, and so is `##[command]`
anywhere in a line (the legacy form, which the runner still reads). Only the
annotations of `--format github` may be commands, and only as emi-tui wrote
them. The attacker chooses an answer file's keys, an image-id's values, an
image's stored answers and file names.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from emi_tui.engine.text import printable

#: A line the runner reads as a command: `::NAME …::` after blanks (.NET's TrimStart), or `##[` anywhere.
COMMAND = re.compile(r"^\s*::.*::|##\[")
FORGED = ["##[error]forged", "::warning::forged", "  ::add-mask::forged", "###[error]forged"]


def emi(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", XDG_CONFIG_HOME=str(cwd / ".no-config"))
    done = subprocess.run([sys.executable, "-m", "emi_tui", *args], cwd=cwd, env=env, check=False, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def commands_in(done: subprocess.CompletedProcess[str], ours: str = "") -> list[str]:
    """The log lines the runner would read as commands, but for emi-tui's own annotations (when `ours`).

    The runner tries the `::` form first: a line that is one of our annotations is read as that, whatever its message holds.
    """
    lines = (done.stdout + done.stderr).splitlines()
    return [line for line in lines if COMMAND.search(line) and not (ours and re.match(r"::(error|warning) [^:]*::", line))]


def _hostile_image_id(folder: Path, value: str) -> Path:
    path = folder / "hostile.image-id"
    path.write_text(f'image_name="{value}"\nimage_version="{value}"\nimage_arch="x86_64"\nimage_file="a.img"\n'
                    'image_stamp="0724-69cf"\nimage_date="20261128115215"\nrecipe_name="debian-based"\n')
    return path


@pytest.mark.parametrize("value", FORGED)
@pytest.mark.parametrize("args", [["--json"], ["--plain"], [], ["--format", "github"]], ids=["json", "plain", "table", "github"])
def test_review_of_a_hostile_image_id_prints_no_workflow_command(tmp_path, value, args):
    path = _hostile_image_id(tmp_path, value)
    done = emi("review", *args, str(path), cwd=tmp_path)
    assert commands_in(done, ours="github" if "github" in args else "") == []
    if args == ["--json"]:
        assert json.loads(done.stdout)[0]["fields"]["image_name"] == value  # the JSON still says what the file says


@pytest.mark.parametrize("key", FORGED)
@pytest.mark.parametrize("fmt", ["json", "github", "text"])
def test_validate_of_a_hostile_answer_file_prints_no_workflow_command(tmp_path, key, fmt):
    (tmp_path / "a.yaml").write_text(f"version: 1\nrecipe: debian-based\n{json.dumps(key)}: 1\n")
    done = emi("validate", "--format", fmt, "a.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert commands_in(done, ours="github" if fmt == "github" else "") == []
    if fmt == "json":
        assert json.loads(done.stdout)[0]["key"] == key


def test_review_of_an_image_with_hostile_stored_answers_prints_no_workflow_command(tmp_path):
    tree = tmp_path / "tree"
    (tree / "etc/emi-tui").mkdir(parents=True)
    _hostile_image_id(tree / "etc", "euca-debian-emi").rename(tree / "etc/image-id")
    (tree / "etc/emi-tui/answers.yaml").write_text("version: 1\n" + "".join(f"{line}\n" for line in FORGED) + "::stop-commands::ours\n")
    image = tmp_path / "euca-debian-2026.11.28-x86_64.img"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", "-d", str(tree), str(image), "8M"], check=True, capture_output=True, timeout=60)
    done = emi("review", "--plain", str(image), cwd=tmp_path)
    assert "answers stored in the image" in done.stdout
    assert commands_in(done) == []


@pytest.mark.parametrize("text", FORGED + ["ok\n  ::error::x", "ok\n::x::\n::y::", "::::", "a::b", "[::1]:80", "::1 GET /"])
def test_printable_shows_workflow_commands_as_text(text):
    shown = printable(text, keep_newlines=True)
    assert not any(COMMAND.search(line) for line in shown.splitlines())
    assert shown.replace("\\x5b", "[").replace("\\x3a", ":") == text  # only the one character is written as an escape
    if not any(COMMAND.search(line) for line in text.splitlines()):
        assert shown == text  # an IPv6 address, or :: inside a line, is no command: left alone
