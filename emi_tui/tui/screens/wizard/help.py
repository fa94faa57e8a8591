"""Help (F1): the keyboard model, then the keys of the screen it was opened on, read from that screen's own bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

#: The keyboard model every screen follows; the tables below list each screen's own keys.
KEYBOARD_MODEL = [
    ("esc", "goes back: the step before, the screen before; on Home it asks before quitting"),
    ("enter", "in a step's last field goes to Next (or to the first field in error)"),
    ("tab / shift+tab", "move between fields; the focused one has a bright border or left bar"),
    ("^p", "command palette: every key of this screen is there too, and themes, steps, open, review"),
    ("^q", "quit (asks first when the answers are not saved)"),
]

#: Keys that Textual's own widgets give, listed after a place's own.
EXTRA_KEYS = {
    "Wizard steps": [
        ("↑ ↓  enter / space", "in lists and choices: move, then choose or (un)check"),
        ("f2, then ↑ ↓ enter", "open a finished step from the step list (or click it)"),
    ],
}


def _bindings(cls: type) -> list[Binding]:
    """The bindings `cls` declares, its bases' first (as Textual merges them; a later key wins)."""
    found = []
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("textual."):
            continue  # Textual's own (Tab, copy, ^q): the keyboard model above says them in the wizard's words
        for binding in klass.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding):
                found.append(binding)
            else:
                key, action, *rest = binding
                found.append(Binding(key, action, rest[0] if rest else action))
    return found


def _rows(app, cls: type) -> list[tuple[str, str]]:
    """(keys, what) for each described action `cls` binds, keys of one action joined; a subclass's key replaces its base's."""
    by_key: dict[str, Binding] = {}
    for binding in _bindings(cls):
        for key in binding.key.split(","):
            by_key[key.strip()] = binding
    rows: dict[tuple[str, str], list[str]] = {}
    for key, binding in by_key.items():
        if binding.description:
            # The tooltip, when there is one, says in full what the footer's short word says.
            rows.setdefault((binding.action, binding.tooltip or binding.description), []).append(app.get_key_display(Binding(key, binding.action)))
    return [(" / ".join(keys), what) for (_action, what), keys in rows.items()]


def key_table(app, screen: Screen | None = None) -> Table:
    """The keys of `screen` (every screen's when None), after the keys that work everywhere."""
    from emi_tui.tui.screens.modify.changes import ChangesScreen
    from emi_tui.tui.screens.step import StepScreen
    from emi_tui.tui.screens.wizard.home import HomeScreen
    from emi_tui.tui.screens.wizard.summary import SummaryScreen
    from emi_tui.tui.state.wizard_state import STEP_TITLES

    table = Table(box=None, expand=True, show_header=False, pad_edge=False)
    table.add_column("where", style="dim", no_wrap=True)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("what")
    if screen is None:
        places: list[tuple[str, type]] = [("Home", HomeScreen), ("Wizard steps", StepScreen), ("Summary", SummaryScreen),
                                          ("Modify: Changes", ChangesScreen)]
    elif isinstance(screen, StepScreen):
        places = [(f"{STEP_TITLES.get(screen.STEP, 'This')} step", type(screen))]
    else:
        places = [(getattr(screen, "HELP_PLACE", None) or screen.sub_title or "This screen", type(screen))]
    groups = [("Everywhere", KEYBOARD_MODEL + _rows(app, type(app)))]
    groups += [(where, _rows(app, cls) + EXTRA_KEYS.get("Wizard steps" if screen is not None and issubclass(cls, StepScreen) else where, [])) for where, cls in places]
    for where, lines in groups:
        for index, (keys, what) in enumerate(lines):
            table.add_row(Text(where if index == 0 else ""), keys, what)
        table.add_row("", "", "")
    return table


class HelpScreen(ModalScreen[None]):
    """A dialog listing the keys of the screen below it; F1, ? or Escape closes it. It scrolls when the terminal is short."""

    BINDINGS = [Binding("escape,f1,question_mark,q", "close", "Close")]

    def __init__(self, screen: Screen | None = None) -> None:
        """`screen`: the screen whose keys are listed (None: every screen's)."""
        super().__init__()
        self._for = screen

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Label("emi-tui keys", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(key_table(self.app, self._for), id="help-keys")
            yield Static("↑ ↓ scroll.  Escape closes this.", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
