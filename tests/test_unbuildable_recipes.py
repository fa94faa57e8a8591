"""Ubuntu and CentOS stay honest: no mirror of theirs answers here, and a build or dry run says so in one line, before any download."""

from __future__ import annotations

import socket

import pytest

from tests.test_cli_dryrun_checks import emi


@pytest.mark.parametrize(("recipe", "path"), [("ubuntu-based", "/dists/noble/InRelease"), ("centos-based", "/9-stream/")])
def test_a_recipe_whose_mirror_does_not_answer_says_it_cannot_be_built_here_in_one_line(tmp_path, recipe, path):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    answers = tmp_path / "a.yaml"
    answers.write_text(f"version: 1\nrecipe: {recipe}\nmirror: http://127.0.0.1:{port}/mirror\noutput: {{dir: {tmp_path / 'out'}}}\n")
    done = emi(tmp_path, "build", "--dry-run", str(answers))
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("emi-tui: error:")]
    distro = recipe.split("-")[0]
    assert errors == [f"emi-tui: error: Mirror: {recipe} cannot be built here: no {distro} mirror answers: "
                      f"http://127.0.0.1:{port}/mirror{path} refuses the connection (nothing listens there)"], done.stderr
    assert f"fix: set mirror: to a {distro} mirror this workstation reaches; none is configured here" in done.stderr
    assert "1 problem before the build; nothing was planned" in done.stderr
