"""`emi-tui completion bash|zsh|fish`: every option of every subcommand is offered, and the scripts really complete.

The parser is walked (so an option added tomorrow is checked tomorrow); each
subcommand's options must be in that subcommand's part of each script. bash
and fish then complete for real: bash with the script sourced and COMP_WORDS
set, fish with `complete -C`; zsh's script must at least parse.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emi_tui.cli import build_parser, main
from emi_tui.engine.answers.recipes import RecipeBook

BIN = str(Path(sys.executable).parent)  # where `emi-tui` is, for the scripts' own `emi-tui __complete` calls
SHELLS = ("bash", "zsh", "fish")


def script(shell: str, capsys) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's parser by name ("" for the top level), read from the parser itself."""
    parser = build_parser()
    found = {"": parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def options(parser: argparse.ArgumentParser) -> list[str]:
    return [option for action in parser._actions for option in action.option_strings]


def section(text: str, shell: str, name: str) -> str:
    """The part of `shell`'s script that lists subcommand `name`'s options."""
    ident = "_shtab_emi_tui" + (f"_{name.replace('-', '_')}" if name else "")
    if shell == "bash":
        return re.search(rf"^{ident}_option_strings=\((.*)\)$", text, re.M).group(1)
    if shell == "zsh":
        return re.search(rf"^{ident}_options=\((.*?)^\)$", text, re.M | re.S).group(1)
    condition = f"'_shtab_emi_tui_using {name}'" if name else "_shtab_emi_tui_using "
    return "\n".join(line for line in text.splitlines() if f"-n {condition}" in line)


@pytest.mark.parametrize("shell", SHELLS)
def test_every_option_of_every_subcommand_is_offered(shell, capsys):
    text = script(shell, capsys)
    commands = subcommands()
    assert {"validate", "build", "review", "recipes", "cache", "modify", "boot-test", "completion"} <= set(commands)
    for name, parser in commands.items():
        if name:
            assert re.search(rf"(^|[\s'(]){re.escape(name)}([\s':)]|$)", text, re.M), f"{shell}: subcommand {name} not offered"
        part = section(text, shell, name)
        for option in options(parser):
            if shell == "fish":
                wanted = f"-l {option[2:]}" if option.startswith("--") else f"-s {option[1:]}"
                assert re.search(rf"{re.escape(wanted)}(\s|$)", part), f"fish: {name or 'emi-tui'} {option} not offered"
            else:
                # bash: an array of words; zsh: "--opt[help]", "*--opt[help]" (repeatable) or {-h,--help}"[help]"
                assert re.search(rf"(^|[\s\"'{{,()*]){re.escape(option)}(?=[\[,}}\"'=:\s)]|$)", part), f"{shell}: {name or 'emi-tui'} {option} not offered"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("a.yaml", "b.yml", "notes.txt", "c.tgz", "d.tar.zst", "e.img"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    return tmp_path


def bash_complete(script_path: Path, folder: Path, *words: str) -> list[str]:
    """COMPREPLY of the script's function for the command line `words` (the last one being completed)."""
    program = (
        f"source {script_path}\n"
        'COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}\n'
        '_shtab_emi_tui emi-tui "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(["bash", "-c", program, "bash", *words], cwd=folder, capture_output=True, text=True, check=True,
                          env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    return sorted(line for line in done.stdout.splitlines() if line)


def test_bash_completes_subcommands_options_recipes_and_files(tmp_path, folder, capsys):
    path = tmp_path / "emi-tui.bash"
    path.write_text(script("bash", capsys))
    assert bash_complete(path, folder, "emi-tui", "va") == ["validate"]
    assert bash_complete(path, folder, "emi-tui", "build", "--dr") == ["--dry-run"]
    assert bash_complete(path, folder, "emi-tui", "cache", "") == ["clear", "list"]
    recipes = RecipeBook.named(None).names()
    assert "debian-based" in recipes
    assert bash_complete(path, folder, "emi-tui", "recipes", "deb") == [r for r in recipes if r.startswith("deb")]
    assert bash_complete(path, folder, "emi-tui", "--theme", "emi-") == ["emi-contrast", "emi-dark", "emi-light"]
    # Files filtered by suffix (folders are offered too, to walk into).
    assert bash_complete(path, folder, "emi-tui", "validate", "") == ["a.yaml", "b.yml", "sub"]
    assert bash_complete(path, folder, "emi-tui", "boot-test", "") == ["c.tgz", "d.tar.zst", "e.img", "sub"]
    assert bash_complete(path, folder, "emi-tui", "build", "--work-dir", "") == ["sub"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (scripts/install-system-tools.sh installs it)")
def test_fish_completes_subcommands_options_and_recipes(tmp_path, folder, capsys):
    path = tmp_path / "emi-tui.fish"
    path.write_text(script("fish", capsys))

    def complete(line: str) -> list[str]:
        done = subprocess.run(["fish", "--no-config", "-c", f"source {path}; complete -C '{line}'"], cwd=folder, capture_output=True,
                              text=True, check=True, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
        return sorted(line.split("\t")[0] for line in done.stdout.splitlines())

    assert complete("emi-tui va") == ["validate"]
    assert "--dry-run" in complete("emi-tui build --d")
    assert "debian-based" in complete("emi-tui recipes ")
    assert complete("emi-tui validate ") == ["a.yaml", "b.yml", "sub/"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (scripts/install-system-tools.sh installs it)")
def test_zsh_script_loads(tmp_path, capsys):
    path = tmp_path / "_emi-tui"
    path.write_text(script("zsh", capsys))
    done = subprocess.run(["zsh", "-f", "-c", f"autoload -U compinit && compinit -u && source {path} && whence -w _shtab_emi_tui"],
                          cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0 and "function" in done.stdout, done.stderr


def test_the_hidden_name_lists_are_the_real_ones(capsys):
    assert main(["__complete", "recipes"]) == 0
    assert capsys.readouterr().out.split() == RecipeBook.named(None).names()
    assert main(["__complete", "themes"]) == 0
    themes = capsys.readouterr().out.split()
    assert themes[:3] == ["emi-contrast", "emi-dark", "emi-light"] and "textual-dark" in themes
    assert main(["__complete", "nothing"]) == 2
