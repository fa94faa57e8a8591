"""The keys of the wizard, read from the screens' own bindings so the list never goes stale."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

#: Keys that Textual's own widgets give, listed after the wizard's own for each place.
EXTRA_KEYS = {
    "Everywhere": [
        ("tab / shift+tab", "move between fields"),
        ("^p", "command palette: theme, open answers, review, steps…"),
        ("^q", "quit"),
    ],
    "Wizard steps": [
        ("↑ ↓  enter / space", "in lists and choices: move, then choose or (un)check"),
        ("f2, then ↑ ↓ enter", "open a finished step from the step list (or click it)"),
    ],
}


def _bindings(cls: type) -> list[Binding]:
    found = []
    for binding in getattr(cls, "BINDINGS", []):
        if isinstance(binding, Binding):
            found.append(binding)
        else:
            key, action, *rest = binding
            found.append(Binding(key, action, rest[0] if rest else action))
    return found


def key_table(app) -> Table:
    """Every key the wizard binds, grouped by where it works."""
    from emi_tui.tui.screens.modify.changes import ChangesScreen
    from emi_tui.tui.screens.step import StepScreen
    from emi_tui.tui.screens.wizard.home import HomeScreen
    from emi_tui.tui.screens.wizard.summary import SummaryScreen

    table = Table(box=None, expand=True, show_header=False, pad_edge=False)
    table.add_column("where", style="dim", no_wrap=True)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("what")
    for where, cls in (("Everywhere", type(app)), ("Home", HomeScreen), ("Wizard steps", StepScreen), ("Summary", SummaryScreen),
                       ("Modify: Changes", ChangesScreen)):
        rows: dict[tuple[str, str], list[str]] = {}
        for binding in _bindings(cls):
            if binding.description:
                keys = [app.get_key_display(Binding(key, binding.action)) for key in binding.key.split(",")]
                rows.setdefault((binding.action, binding.description), []).extend(keys)
        lines = [(" / ".join(keys), what) for (_action, what), keys in rows.items()] + EXTRA_KEYS.get(where, [])
        for index, (keys, what) in enumerate(lines):
            table.add_row(Text(where if index == 0 else ""), keys, what)
    return table


class HelpScreen(ModalScreen[None]):
    """A dialog listing every key; F1, ? or Escape closes it."""

    BINDINGS = [Binding("escape,f1,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Label("emi-tui keys", classes="dialog-title")
            with VerticalScroll():
                yield Static(key_table(self.app), id="help-keys")
            yield Static("Every action is also in the command palette (ctrl+p).  Escape closes this.", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
