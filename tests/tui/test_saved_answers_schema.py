"""Answer files the wizard saves point editors at the format's JSON Schema, and still validate and round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from conftest import SIZE, TODAY

from emi_tui.engine.answers.model import validate_file
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.tui.screens.wizard.summary import SummaryScreen

SCHEMA = Path(__file__).resolve().parents[2] / "answers.schema.json"


async def _save(make_app, source: Path, target_name: str, tmp_path: Path, monkeypatch) -> Path:
    """Open `source` in the wizard, press Save answers… on the Summary and save as `target_name` (relative to tmp_path)."""
    app = make_app(answers_path=source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        monkeypatch.chdir(tmp_path)  # a short relative path: typing is slow in Pilot
        await pilot.press("ctrl+s", "ctrl+u", *target_name, "enter")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
    return tmp_path / target_name


async def test_saved_answers_carry_the_schema_modeline_and_round_trip(make_app, answers_file, tmp_path, monkeypatch):
    first = await _save(make_app, answers_file(), "a.yaml", tmp_path, monkeypatch)
    text = first.read_text(encoding="utf-8")
    modeline = text.splitlines()[0]
    assert modeline == f"# yaml-language-server: $schema={SCHEMA.as_uri()}"
    assert SCHEMA.is_file()
    saved = validate_file(first, RecipeBook(), TODAY)
    assert saved.ok, [str(p) for p in saved.problems]
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(text))) == []
    # Opened again and saved again: the same file, one modeline, the same answers.
    second = await _save(make_app, first, "b.yaml", tmp_path, monkeypatch)
    assert second.read_text(encoding="utf-8") == text
    assert text.count("yaml-language-server") == 1
    assert validate_file(second, RecipeBook(), TODAY).answers == saved.answers
