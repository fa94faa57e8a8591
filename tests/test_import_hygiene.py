"""The headless modules must never pull in Textual or rich (as harlequin's import-hygiene test checks).

Every module below emi_tui.engine and emi_tui.commands is imported, found by
walking the packages recursively, so a module in a subpackage cannot hide.
The TUI's state package (what the wizard edits) must not pull in Textual either.
"""

import pkgutil
import subprocess
import sys
from pathlib import Path

import emi_tui.commands
import emi_tui.engine
import emi_tui.tui.state

ROOT = Path(__file__).resolve().parent.parent


def all_modules(package) -> list[str]:
    """Every module of `package`, its subpackages' modules included."""
    return [info.name for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")]


def leaked_modules(modules: list[str], forbidden: tuple[str, ...]) -> list[str]:
    """Which of the `forbidden` top-level packages importing `modules` pulls into a fresh interpreter."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(forbidden)!r}))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return [name for name in result.stdout.strip().split(",") if name]


def test_the_walk_reaches_subpackages():
    engine = all_modules(emi_tui.engine)
    assert "emi_tui.engine.answers.model" in engine
    assert "emi_tui.engine.build.bootstrap" in engine and "emi_tui.engine.modify.steps" in engine


def test_the_engine_does_not_import_textual_or_rich():
    assert leaked_modules(all_modules(emi_tui.engine), ("textual", "rich")) == []


def test_the_cli_and_commands_do_not_import_textual():
    modules = ["emi_tui", "emi_tui.cli", *all_modules(emi_tui.commands)]
    assert leaked_modules(modules, ("textual",)) == []


def test_the_tui_state_does_not_import_textual():
    state = all_modules(emi_tui.tui.state)
    assert "emi_tui.tui.state.wizard_state" in state and "emi_tui.tui.state.modify_state" in state
    assert leaked_modules(state, ("textual",)) == []


def test_the_check_itself_sees_textual_when_it_is_imported():
    # Proves the probe above can fail: importing the TUI does pull Textual (and rich) in.
    assert leaked_modules(["emi_tui.tui.app"], ("textual", "rich")) == ["rich", "textual"]
