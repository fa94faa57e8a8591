"""The app-wide parts of the keyboard model: what quitting would lose, and every key as a palette command.

The App (emi_tui.tui.app) calls these: `unsaved_answers` before it quits,
`binding_commands` when the command palette lists its commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

if TYPE_CHECKING:
    from emi_tui.tui.state.wizard_state import WizardState

#: Actions that keys bind and the palette already offers under a title of its own (the App's own commands).
PALETTE_COVERED = {
    "help": "Help", "change_theme": "Theme", "quit": "Quit", "command_palette": "Keys", "confirm_quit": "Quit",
    "new_build": "New build", "open": "Open answers…", "review": "Review image-ids", "modify": "Modify an existing image",
    "save": "Save answers…",
}

#: Textual's own screen keys (Tab, copying a selection): they are not the wizard's, and the palette leaves them out.
TEXTUAL_ACTIONS = {binding.action for binding in Screen.BINDINGS if isinstance(binding, Binding)}


def unsaved_answers(state: WizardState | None, job_started: bool) -> str | None:
    """What quitting now would lose, in words; None when nothing would be.

    Edited answers that no file holds are lost, unless a build or modify has
    already run from them (`job_started`).
    """
    if state is None or state.saved or state.revision == 0 or job_started:
        return None
    if state.kind == "build":
        return "The answers are not saved: quitting loses them. (Summary's Save answers… keeps them in a file.)"
    return "The modify has not started: quitting loses the changes chosen so far."


def binding_commands(app: App, screen: Screen, run: Callable[[str, Screen | App], object]) -> Iterable[SystemCommand]:
    """Every key of `screen` (and of the app) as a palette command; `run(action, node)` runs one.

    Read from the screen's own bindings, not the active ones: a focused input
    hides the screen's single-letter keys (they type), and the palette must
    still offer them. Widgets' own keys (an input's cursor keys) and Textual's
    screen keys (Tab) are left out; so are actions the screen hides
    (check_action False). Greyed-out ones are listed, marked "not now".
    """
    named = set(PALETTE_COVERED.values())
    for node in (screen, app):
        for bindings in node._bindings.key_to_bindings.values():
            for binding in bindings:
                action = binding.action
                if not binding.description or binding.system or action in TEXTUAL_ACTIONS or action.removeprefix("app.") in PALETTE_COVERED:
                    continue
                state = app._check_action_state(action, node)
                title = binding.tooltip or binding.description
                if state is False or title in named:
                    continue
                named.add(title)
                key = app.get_key_display(binding)
                yield SystemCommand(title, f"key: {key}" if state else f"key: {key} (not now)", _runner(run, action, node))


def _runner(run: Callable[[str, Screen | App], object], action: str, node: Screen | App) -> Callable[[], object]:
    def command() -> object:
        return run(action, node)

    command.action = action  # type: ignore[attr-defined]  # what the command runs, for tests and the help
    return command
