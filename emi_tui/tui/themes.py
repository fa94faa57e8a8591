"""emi-tui's themes: YAML files of Textual `Theme` fields, shipped in themes/ and added by users.

A theme file is a mapping of `textual.theme.Theme` fields (name, primary,
background, dark, variables, …); its `name` must match the file name. Shipped
themes come from `paths.shipped_dir("themes")`, the user's own from
~/.config/emi-tui/themes (a user file of the same name wins). Textual's
built-in themes stay available beside them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml
from textual.theme import BUILTIN_THEMES, Theme

from emi_tui.engine import paths
from emi_tui.engine.errors import EmiError, did_you_mean

DEFAULT_THEME = "emi-dark"
_FIELDS = {f.name for f in dataclasses.fields(Theme)}


def theme_dirs() -> list[Path]:
    """Folders searched for theme files, lowest priority first."""
    return [paths.shipped_dir("themes"), paths.config_dir() / "themes"]


def load_theme_file(path: Path) -> Theme:
    """One theme file as a Theme; a bad file is an EmiError that names the problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EmiError(f"{path}: cannot read this theme: {exc}") from None
    if not isinstance(data, dict):
        raise EmiError(f"{path}: a theme is a mapping of Theme fields (name:, primary:, background: …)")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        key = unknown[0]
        raise EmiError(f"{path}: unknown key {key!r}{did_you_mean(key, _FIELDS)}", hint=f"known keys: {', '.join(sorted(_FIELDS))}")
    if data.get("name") != path.stem:
        raise EmiError(f"{path}: the name {data.get('name')!r} must match the file name {path.stem!r}")
    if not isinstance(data.get("primary"), str):
        raise EmiError(f"{path}: a theme needs at least `primary:`, a colour such as \"#3FA7D6\"")
    try:
        theme = Theme(**data)
        theme.to_color_system()  # parses every colour now, not at the first repaint
    except Exception as exc:  # Textual raises several kinds for bad colours
        raise EmiError(f"{path}: {exc}") from None
    return theme


def load_themes(dirs: list[Path] | None = None) -> tuple[dict[str, Theme], list[str]]:
    """Every theme file found, by name, and a message for each file that could not be used."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for folder in dirs if dirs is not None else theme_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            try:
                theme = load_theme_file(path)
            except EmiError as error:
                problems.append(error.message)
                continue
            themes[theme.name] = theme
    return themes, problems


def all_theme_names(themes: dict[str, Theme]) -> list[str]:
    """emi-tui's themes first, then Textual's built-in ones."""
    return list(themes) + [name for name in BUILTIN_THEMES if name not in themes]


def check_theme_name(name: str, themes: dict[str, Theme]) -> str:
    """`name` when it is a known theme, else an EmiError with a did-you-mean and the list."""
    names = all_theme_names(themes)
    if name in names:
        return name
    raise EmiError(f"no theme called {name!r}{did_you_mean(name, names)}", hint=f"themes: {', '.join(names)}")
