"""`emi-tui completion bash|zsh|fish`: the shell completion script, generated from the command line's parser.

shtab writes the script for each shell from the argparse parser itself, so a
new subcommand or option is offered as soon as the parser has it. What a
value may be is said here, per argument name (`dest`): answer files complete
to .yaml/.yml, artifacts to the kinds emi-tui reads, folders to folders, and
recipe and theme names come from `emi-tui __complete recipes|themes` (the real
recipe book and theme folders). Any other path argument completes to files;
choices (such as `cache list|clear`) complete to themselves.
"""

from __future__ import annotations

import argparse

import shtab

from emi_tui.engine.artifact.kinds import ARTIFACT_SUFFIXES  # what `boot-test` and `modify` read: every tarball kind, and .img

ANSWER_FILES = shtab.glob("*.yaml", "*.yml")
ARTIFACTS = shtab.glob(*(f"*{suffix}" for suffix in ARTIFACT_SUFFIXES))
RECIPE_NAMES = shtab.cmd("emi-tui __complete recipes")
THEME_NAMES = shtab.cmd("emi-tui __complete themes")

#: What each argument (by its dest) completes to; a path argument not named here completes to any file.
COMPLETERS: dict[str, dict[str, object] | dict[str, str]] = {
    "answers": ANSWER_FILES,  # build ANSWERS, --answers FILE (the wizard's and modify's)
    "files": ANSWER_FILES,  # validate FILE...
    "artifact": ARTIFACTS,  # boot-test ARTIFACT, modify ARTIFACT
    "names": RECIPE_NAMES,  # recipes NAME...
    "theme": THEME_NAMES,
    "recipes_dir": shtab.DIRECTORY,
    "work_dir": shtab.DIRECTORY,
    "output": shtab.DIRECTORY,
}


def parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser and every subcommand's, by command line ("emi-tui", "emi-tui build", ...)."""
    found = {parser.prog: parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.update(parsers(sub))
    return found


def annotate(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Tell shtab what each argument of every subcommand completes to (`action.complete`); returns `parser`."""
    for each in parsers(parser).values():
        for action in each._actions:
            completer = COMPLETERS.get(action.dest)
            if completer is None and action.type is not None and getattr(action.type, "__name__", "") == "Path" and not action.choices:
                completer = shtab.FILE
            if completer is not None:
                action.complete = completer  # type: ignore[attr-defined]
    return parser


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of `shell` (bash, zsh or fish) for `parser`'s command line."""
    return shtab.complete(annotate(parser), shell=shell)
