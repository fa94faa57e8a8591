"""The headless modules must never pull in Textual (as harlequin's import-hygiene test checks)."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import emi_tui.commands
import emi_tui.core

ROOT = Path(__file__).resolve().parent.parent


def _headless_modules() -> list[str]:
    names = ["emi_tui", "emi_tui.cli"]
    for package in (emi_tui.core, emi_tui.commands):
        names += [f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    return names


def test_headless_modules_do_not_import_textual():
    modules = _headless_modules()
    assert "emi_tui.core.answers" in modules and "emi_tui.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "", f"headless import pulled in: {result.stdout.strip()}"


def test_the_check_itself_sees_textual_when_it_is_imported():
    # Proves the probe above can fail: importing the TUI does pull Textual in.
    code = "import sys, emi_tui.tui.app; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "True", result.stderr
