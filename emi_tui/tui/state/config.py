"""The user's wizard settings (for now, the theme they chose), kept in ~/.config/emi-tui/config.yaml.

The file is small and hand-editable; a broken file is reported and ignored,
never fatal, and unknown keys are kept when the wizard writes it back
(atomically, so a crash never leaves half a file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emi_tui.engine import paths
from emi_tui.engine.answers.storage import write_atomic

HEADER = "# emi-tui settings, written by the wizard (edit freely).\n"


def config_path() -> Path:
    """The settings file (honours XDG_CONFIG_HOME)."""
    return paths.config_dir() / "config.yaml"


@dataclass
class UserConfig:
    """The settings the wizard remembers between runs."""

    theme: str | None = None
    other: dict[str, Any] = field(default_factory=dict)
    problem: str = ""  # why the file could not be read, when it could not


def load_config(path: Path | None = None) -> UserConfig:
    """The settings in `path` (default: config_path()); defaults when the file is missing or broken."""
    path = path or config_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UserConfig()
    except (OSError, yaml.YAMLError) as exc:
        return UserConfig(problem=f"{path}: ignored, cannot read it: {exc}")
    if data is None:
        return UserConfig()
    if not isinstance(data, dict):
        return UserConfig(problem=f"{path}: ignored, it is not a mapping of settings")
    theme = data.pop("theme", None)
    if theme is not None and not isinstance(theme, str):
        return UserConfig(other=data, problem=f"{path}: theme must be a theme name, got {theme!r}")
    return UserConfig(theme=theme, other=data)


def save_config(config: UserConfig, path: Path | None = None) -> None:
    """Write `config` back, keeping the keys this version does not know."""
    data = dict(config.other)
    if config.theme is not None:
        data["theme"] = config.theme
    write_atomic(path or config_path(), HEADER + yaml.safe_dump(data, sort_keys=True, allow_unicode=True))


def remember_theme(name: str, path: Path | None = None) -> None:
    """Store `name` as the theme the wizard opens with."""
    config = load_config(path)
    config.theme = name
    save_config(config, path)
