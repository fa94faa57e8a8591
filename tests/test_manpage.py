"""The emi-tui(1) man page (`make man`): groff finds nothing to warn about, and it covers every subcommand and option,
every exit status, every environment variable the code reads, the XDG folders and the README's examples."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emi_tui.cli import build_parser
from emi_tui.engine.errors import ExitCode
from emi_tui.engine.run.runner import PASSED_THROUGH

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def page() -> str:
    # As `make man` runs it.
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "make_manpage.py"), str(ROOT / "README.md")],
                          capture_output=True, text=True, check=True).stdout


def section(page: str, name: str) -> str:
    return re.search(rf"^\.SH {name}\n(.*?)(?=^\.SH |\Z)", page, re.M | re.S).group(1)


def plain(roff: str) -> str:
    """The roff's words without font escapes and with \\- as -."""
    return re.sub(r"\\f[BIR]", "", roff).replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed (scripts/install-system-tools.sh installs groff-base)")
def test_groff_prints_no_warnings(page, tmp_path):
    path = tmp_path / "emi-tui.1"
    path.write_text(page)
    done = subprocess.run(["groff", "-man", "-ww", "-z", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_every_subcommand_and_option_is_in_the_page(page):
    parser = build_parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    commands = plain(section(page, "COMMANDS"))
    for name, sub in subcommands.items():
        assert f'.SS "emi-tui {name}"' in commands, name
        part = commands.split(f'.SS "emi-tui {name}"')[1].split(".SS ")[0]
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert re.search(rf"(^|[ ,]){re.escape(option)}( |,|$)", part, re.M), f"{name} {option}"
    synopsis = plain(section(page, "SYNOPSIS"))
    assert all(f"emi-tui {name} " in synopsis for name in subcommands)


def test_exit_statuses(page):
    statuses = plain(section(page, "EXIT STATUS"))
    for code in ExitCode:
        assert re.search(rf"^{int(code)}\n\S", statuses, re.M), code


def variables_read() -> set[str]:
    """Every environment variable emi_tui reads by name (os.environ.get, os.environ[...], getenv), and through engine.paths._overridable."""
    found = set(PASSED_THROUGH)
    for path in (ROOT / "emi_tui").rglob("*.py"):
        found |= set(re.findall(r"""(?:environ\.get|getenv|environ)\s*[(\[]\s*["']([A-Za-z_]+)["']""", path.read_text(encoding="utf-8")))
        found |= set(re.findall(r"""_overridable\(\s*["']([A-Z_]+)["']""", path.read_text(encoding="utf-8")))  # engine.paths' folders
    return found


def test_every_variable_read_is_in_environment(page):
    wanted = variables_read()
    assert {"EMI_TUI_CACHE_DIR", "EMI_TUI_STATE_DIR", "EMI_TUI_WORK_DIR", "PATH", "https_proxy"} <= wanted
    environment = plain(section(page, "ENVIRONMENT"))
    for variable in wanted | {"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"}:  # platformdirs reads these for us
        assert re.search(rf"(^|[ ,]){variable}(,|$)", environment, re.M), variable


def test_files_and_examples(page):
    files = plain(section(page, "FILES"))
    for folder in ("$XDG_CONFIG_HOME/emi-tui/recipes/", "$XDG_CACHE_HOME/emi-tui/bases/", "$XDG_STATE_HOME/emi-tui/logs/",
                   "$XDG_DATA_HOME/emi-tui/history/", "/etc/emi-tui/answers.yaml", "/etc/image-id"):
        assert folder in files, folder
    examples = plain(section(page, "EXAMPLES"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Headless use")[1].split("```sh\n")[1].split("```")[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert len(commands) > 5
    for command in commands:
        assert command.replace("\u2026", "\\[u2026]") in examples, command
