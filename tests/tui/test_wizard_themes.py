"""Themes: the shipped files, --theme, and the choice remembered in the user's config."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SIZE

from emi_tui.engine.errors import EmiError
from emi_tui.tui.state.config import config_path, load_config, remember_theme, save_config
from emi_tui.tui.themes import DEFAULT_THEME, check_theme_name, load_theme_file, load_themes


def test_three_themes_ship_and_load():
    themes, problems = load_themes()
    assert problems == []
    assert {"emi-dark", "emi-light", "emi-contrast"} <= set(themes)
    assert themes["emi-dark"].dark and not themes["emi-light"].dark
    assert themes["emi-contrast"].background == "#000000" and themes["emi-contrast"].foreground == "#FFFFFF"


def test_an_unknown_theme_name_is_a_clear_error_with_did_you_mean():
    themes, _ = load_themes()
    with pytest.raises(EmiError) as caught:
        check_theme_name("emi-drak", themes)
    assert "did you mean 'emi-dark'" in caught.value.message
    assert "emi-contrast" in caught.value.hint and "textual-dark" in caught.value.hint
    assert check_theme_name("nord", themes) == "nord"  # Textual's own themes stay available


def test_run_app_refuses_an_unknown_theme_before_starting(home, monkeypatch):
    from emi_tui.tui import app as app_module

    monkeypatch.setattr(app_module.EmiApp, "run", lambda self: pytest.fail("the app must not start"))
    with pytest.raises(EmiError, match="no theme called 'emi-ligth'"):
        app_module.run_app(theme="emi-ligth")


def test_a_bad_theme_file_names_its_problem(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nprimary: '#123456'\nbackgorund: '#000000'\n")
    with pytest.raises(EmiError, match="unknown key 'backgorund' \\(did you mean 'background'\\?\\)"):
        load_theme_file(path)
    path.write_text("name: other\nprimary: '#123456'\n")
    with pytest.raises(EmiError, match="must match the file name"):
        load_theme_file(path)
    themes, problems = load_themes([tmp_path])
    assert themes == {} and len(problems) == 1


def test_a_users_theme_folder_adds_themes(home):
    folder = home / ".config" / "emi-tui" / "themes"
    folder.mkdir(parents=True)
    (folder / "night.yaml").write_text("name: night\nprimary: '#225588'\ndark: true\n")
    themes, problems = load_themes()
    assert "night" in themes and problems == []


def test_the_config_is_written_atomically_and_keeps_unknown_keys(home):
    path = config_path()
    assert path == home / ".config" / "emi-tui" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("future_setting: 3\n")
    remember_theme("emi-light")
    config = load_config()
    assert config.theme == "emi-light" and config.other == {"future_setting": 3}
    assert [p.name for p in path.parent.iterdir()] == ["config.yaml"]  # no temporary file left
    path.write_text("theme: [broken\n")
    assert load_config().theme is None and "ignored" in load_config().problem
    save_config(load_config())


async def test_the_app_opens_with_emi_dark_and_remembers_a_theme_chosen_in_it(make_app, home):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert not config_path().exists()  # starting up is not a choice
        app.theme = "emi-contrast"
        await pilot.pause()
    assert load_config().theme == "emi-contrast"
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "emi-contrast"


async def test_a_theme_given_on_the_command_line_is_for_this_run_only(make_app):
    remember_theme("emi-contrast")
    app = make_app(theme="emi-light")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "emi-light"
    assert load_config().theme == "emi-contrast"


async def test_a_remembered_theme_that_is_gone_falls_back_with_a_note(make_app):
    remember_theme("vanished")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert any("vanished" in note for note in app.startup_notes)
