"""Where emi-tui finds its shipped data and keeps the user's own files.

Shipped data (recipes, themes) sits at the top of a checkout and inside the
package of an installed wheel; user data follows the XDG base directories.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "emi-tui"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def shipped_dir(name: str) -> Path:
    """The folder of shipped data called `name` ("recipes" or "themes").

    A wheel carries it as emi_tui/_data/NAME; a checkout (editable install or
    plain PYTHONPATH) has it beside the package.
    """
    packaged = _PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / name


def config_dir() -> Path:
    """The user's config folder (~/.config/emi-tui), honouring XDG_CONFIG_HOME."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def _overridable(variable: str, default: str) -> Path:
    """The folder `variable` names (tests and CI point it elsewhere), else `default`."""
    return Path(os.environ.get(variable) or default)


def cache_dir() -> Path:
    """The user's cache folder (~/.cache/emi-tui): base tarballs live here."""
    return _overridable("EMI_TUI_CACHE_DIR", platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The user's data folder (~/.local/share/emi-tui): build history lives here."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    """Work folders of running builds, so that `emi-tui cleanup` can find dead ones."""
    return _overridable("EMI_TUI_STATE_DIR", platformdirs.user_state_dir(APP_NAME, appauthor=False))


def logs_dir() -> Path:
    """Every job's log and every boot test's console log (a private folder: emi_tui.engine.safefs)."""
    return state_dir() / "logs"


def shipped_file(name: str) -> Path:
    """The shipped data file called `name` (such as "answers.schema.json"): in a wheel's emi_tui/_data, else at the top of the checkout."""
    packaged = _PACKAGE_DIR / "_data" / name
    return packaged if packaged.is_file() else _PACKAGE_DIR.parent / name
