"""`make man`: the emi-tui(1) manual page, written in roff from the parser and the README.

The synopsis, the commands and their options come from the argparse parser (so
the page cannot miss a subcommand or an option); the description and the
examples come from the README (its introduction and the "Headless use" block);
the exit statuses, files and environment variables come from the engine's own
names (`ExitCode`, the XDG folders of `engine.paths`, the variables the runner
passes through). `make man` runs scripts/make_manpage.py, which hands it the
parser of `emi_tui.cli` (commands do not import the cli above them).
"""

from __future__ import annotations

import argparse
import re
import textwrap

from emi_tui import __version__
from emi_tui.commands.completion import parsers
from emi_tui.engine.errors import ExitCode
from emi_tui.engine.image.layout import ANSWERS
from emi_tui.engine.run.runner import PASSED_THROUGH

#: What each exit status means to an operator (a test checks that every ExitCode has one).
EXIT_MEANINGS = {
    ExitCode.OK: "success",
    ExitCode.FAILED: "the work failed: a build, modify, review or boot test (the log says why; a review's warnings count)",
    ExitCode.BAD_INPUT: "bad input, or a failed check before the build: one clear message, nothing written",
    ExitCode.CANCELLED: "cancelled (Ctrl-C, a signal, or the wizard's cancel)",
    ExitCode.BROKEN_PIPE: "the reader of the output went away (emi-tui review --json | head)",
    ExitCode.HUNG_UP: "the wizard's terminal went away",
    ExitCode.TERMINATED: "the wizard was told to stop (SIGTERM)",
}

#: The files and folders emi-tui reads and writes (engine.paths: the XDG base directories, and the variables that move them).
FILES = [
    ("$XDG_CONFIG_HOME/emi-tui/recipes/", "the operator's own recipes (default ~/.config/emi-tui); one named like a shipped recipe replaces it"),
    ("$XDG_CONFIG_HOME/emi-tui/themes/", "the operator's own wizard themes"),
    ("$XDG_CONFIG_HOME/emi-tui/config.yaml", "the wizard's remembered settings, such as its theme"),
    ("$XDG_CACHE_HOME/emi-tui/bases/", "cached bootstrapped bases (default ~/.cache/emi-tui; EMI_TUI_CACHE_DIR moves it); see cache"),
    ("$XDG_CACHE_HOME/emi-tui/indexes/", "the mirrors' checked package indexes"),
    ("$XDG_DATA_HOME/emi-tui/history/", "the answers of past builds (default ~/.local/share/emi-tui)"),
    ("$XDG_DATA_HOME/emi-tui/step-timings.json", "how long each step took, for the progress estimate"),
    ("$XDG_STATE_HOME/emi-tui/logs/", "every job's log and every boot test's console log (default ~/.local/state/emi-tui; EMI_TUI_STATE_DIR moves it)"),
    ("$XDG_STATE_HOME/emi-tui/builds/", "the work folders of running builds, which cleanup reads"),
    ("/dev/shm/emi-tui, /var/tmp/emi-tui", "where builds work (tmpfs when it has room); --work-dir or EMI_TUI_WORK_DIR names another"),
    (f"/{ANSWERS}", "inside a built image: the resolved answers it was built from, which modify and the wizard start from"),
    ("/etc/emi-tui/history/", "inside a modified image: the image-id files of its earlier versions"),
    ("/etc/image-id", "inside a built image: its name, version, arch, file, stamp, date and recipe"),
]

#: The variables emi-tui reads itself (a test greps the source for every os.environ and getenv).
ENVIRONMENT = [
    ("EMI_TUI_CACHE_DIR", "the cache folder instead of $XDG_CACHE_HOME/emi-tui"),
    ("EMI_TUI_STATE_DIR", "the state folder (logs, running builds) instead of $XDG_STATE_HOME/emi-tui"),
    ("EMI_TUI_WORK_DIR", "where builds and modifies work, instead of /dev/shm or /var/tmp"),
    ("XDG_CONFIG_HOME, XDG_CACHE_HOME, XDG_DATA_HOME, XDG_STATE_HOME", "the base folders of FILES"),
    ("PATH", "where the programs a build runs are looked for, before entering the image"),
    (", ".join(PASSED_THROUGH), "passed to the commands a build runs (proxies for a mirror, the terminal, the time zone); nothing else is"),
    ("COLUMNS, NO_COLOR", "the width and colours of the tables and messages (read by rich)"),
]


def escape(text: str) -> str:
    """Text as roff prints it literally: backslashes, hyphens, a leading dot or quote, and non-ASCII as \\[uXXXX]."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)
    return "\\&" + text if text[:1] in (".", "'") else text


def _inline(markdown: str) -> str:
    """A README line in roff: `code` and **bold** become bold, the rest is escaped."""
    parts = re.split(r"(`[^`]+`|\*\*[^*]+\*\*)", markdown)
    return "".join(f"\\fB{escape(p[2:-2] if p.startswith('**') else p[1:-1])}\\fR" if p[:1] in ("`", "*") and len(p) > 2 else escape(p) for p in parts)


def readme_section(readme: str, heading: str | None) -> list[str]:
    """The lines of the README's section called `heading` (None: the introduction after the opening code block)."""
    lines = readme.splitlines()
    if heading is None:
        start = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith(("#", "```", "make")))
    else:
        start = lines.index(f"## {heading}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return lines[start:end]


def description(readme: str) -> list[str]:
    """The README's introduction: paragraphs and bullets."""
    out: list[str] = [".PP"]
    for line in readme_section(readme, None):
        if not line.strip():
            out.append(".PP")
        elif line.startswith("- "):
            out += [".IP \\(bu 2", _inline(line[2:])]
        else:
            out.append(_inline(line.strip()))
    return out


def examples(readme: str) -> list[str]:
    """The README's "Headless use" commands, each with its comment."""
    section = readme_section(readme, "Headless use")
    block = section[section.index("```sh") + 1:]
    out: list[str] = []
    for line in block[: block.index("```")]:
        command, _, comment = line.partition("#")
        if command.strip():
            out += [".TP", f"\\fB{escape(command.strip())}\\fR", escape(comment.strip())]
        elif comment.strip():
            out.append(escape(comment.strip()))  # a comment carried on to the next line
    return out


def _options(parser: argparse.ArgumentParser) -> list[str]:
    out: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        name = ", ".join(f"\\fB{escape(o)}\\fR" for o in action.option_strings) or f"\\fI{escape(action.metavar or action.dest)}\\fR"
        if action.option_strings and action.nargs != 0:
            name += f" \\fI{escape(str(action.metavar or action.dest.upper()))}\\fR"
        choices = f" (one of: {', '.join(map(str, action.choices))})" if action.choices else ""
        out += [".TP", name, escape((action.help or "") % {"default": action.default, "prog": parser.prog} + choices)]
    return out


def _usage(parser: argparse.ArgumentParser) -> list[str]:
    """The parser's usage in lines of at most 78 characters, broken between arguments (for a .nf block)."""
    usage = " ".join(parser.format_usage().removeprefix("usage: ").split())
    return [escape(line) for line in textwrap.wrap(usage, 78, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)]


def manpage(parser: argparse.ArgumentParser, readme: str) -> str:
    """The whole page, in roff (man macros)."""
    commands = {prog: sub for prog, sub in parsers(parser).items() if sub is not parser}
    lines = [
        f'.TH EMI\\-TUI 1 "" "emi\\-tui {escape(__version__)}" "User Commands"',
        ".SH NAME", "emi\\-tui \\- build small Eucalyptus/EC2\\-style machine images (EMIs) from a wizard or headless",
        ".SH SYNOPSIS", ".nf", *_usage(parser), *(line for sub in commands.values() for line in _usage(sub)), ".fi",
        ".SH DESCRIPTION", *description(readme),
        ".PP", "With no command, \\fBemi\\-tui\\fR opens the wizard. Its options:", *_options(parser),
        ".SH COMMANDS",
    ]
    for prog, sub in commands.items():
        lines += [f'.SS "{escape(prog)}"', ".nf", *_usage(sub), ".fi", ".PP"]
        lines += [escape(line) if line.strip() else ".PP" for line in (sub.description or "").splitlines()]
        lines += _options(sub)
    lines.append(".SH EXIT STATUS")
    for code in ExitCode:
        lines += [".TP", f"\\fB{int(code)}\\fR", escape(EXIT_MEANINGS[code])]
    lines.append(".SH ENVIRONMENT")
    for name, meaning in ENVIRONMENT:
        lines += [".TP", f"\\fB{escape(name)}\\fR", escape(meaning)]
    lines.append(".SH FILES")
    for name, meaning in FILES:
        lines += [".TP", f"\\fI{escape(name)}\\fR", escape(meaning)]
    lines += [".SH EXAMPLES", *examples(readme)]
    lines += [".SH SEE ALSO", "The README of emi\\-tui, and \\fBemi\\-tui completion\\fR for the shell completion scripts."]
    return "\n".join(lines) + "\n"
