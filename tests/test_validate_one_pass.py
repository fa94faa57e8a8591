"""`emi-tui validate` reports every problem it can know in one pass: a recipe typo or a missing version hides nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.paths import shipped_dir

BOOK = RecipeBook([shipped_dir("recipes")])


def validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "a.yaml"
    path.write_text(text)
    env = dict(os.environ, COLUMNS="300", NO_COLOR="1", XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run([sys.executable, "-m", "emi_tui", "validate", "a.yaml"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_recipe_typo_does_not_hide_the_package_and_repository_problems(tmp_path):
    done = validate(tmp_path, (
        "version: 1\nrecipe: debain-based\nmirror: http://mirror.example/debian\n"
        'packages:\n  add: [Vim, "curl; rm"]\n'
        'repositories:\n  - line: "deb http://extra.example/debian bookworm ma;in"\n'
    ))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines == [
        "a.yaml:2:9: recipe: no recipe called 'debain-based' (did you mean 'debian-based'?); known: centos-based, debian-based or ubuntu-based",
        "a.yaml:5:9: packages.add[0]: 'Vim' is not a valid Debian package name: Debian names are lower case ('vim')",
        "a.yaml:5:14: packages.add[1]: 'curl; rm' is not a valid Debian package name (lower-case letters, digits and + - . only, at least two characters)",
        "a.yaml:7:11: repositories[0].line: 'ma;in' is not a suite or component name (letters, digits and . _ / + - only)",
        "a.yaml: 4 problems",
    ]


def test_a_missing_version_is_said_once_and_the_rest_is_still_checked(tmp_path):
    done = validate(tmp_path, "recipe: debian-based\nmirror: ftp://mirror.example\npackages:\n  add: [Vim]\n")
    assert done.returncode == 2
    assert sum(": version:" in line for line in done.stderr.splitlines()) == 1, done.stderr
    assert "a.yaml:1:1: version: is required but missing: add `version: 1` at the top" in done.stderr
    assert "a.yaml:2:9: mirror: 'ftp://mirror.example' is not a mirror URL" in done.stderr
    assert "a.yaml:4:9: packages.add[0]: 'Vim' is not a valid Debian package name" in done.stderr
    assert "a.yaml: 3 problems" in done.stderr


def test_with_no_recipe_to_guess_only_names_no_family_allows_are_wrong():
    found = validate_bytes(
        'version: 1\nrecipe: nonesuch\npackages:\n  add: [NetworkManager-tui, "curl;rm", vim]\n', "a.yaml", BOOK,
    )
    messages = [str(p) for p in found.problems]
    assert messages == [
        "a.yaml:2:9: recipe: no recipe called 'nonesuch'; known: centos-based, debian-based or ubuntu-based",
        "a.yaml:4:29: packages.add[1]: 'curl;rm' is not a valid package name (letters, digits and . _ + - only)",
    ]
