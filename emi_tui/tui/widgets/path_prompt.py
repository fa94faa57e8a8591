"""A small dialog that asks for a file path and hands it to an action that may refuse it.

`ask_save_answers` is the one "Save answers…" of every screen (the Summary, a
modify's Changes): a folder that does not exist is named, and created only
when the operator submits the same path a second time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Static

from emi_tui.engine.answers.storage import save_answers
from emi_tui.engine.text import printable


class PathPrompt(ModalScreen[Path | None]):
    """Ask for a path; `act(path)` does the work and returns why it failed, or None to close.

    With `ask`, a path for which `ask(path)` returns a question (a folder to
    create, say) is not acted on at once: the question is shown, and the same
    path submitted again goes ahead.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str, button: str, act: Callable[[Path], str | None], *, placeholder: str = "",
                 ask: Callable[[Path], str | None] | None = None):
        super().__init__()
        self.title_text = title
        self.value = value
        self.button = button
        self.act = act
        self.ask = ask
        self.placeholder = placeholder
        self.asked_for: Path | None = None  # the path whose question was shown, and so may go ahead

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-path")
            yield Static(id="prompt-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="prompt-cancel")
                yield Button(self.button, id="prompt-ok", variant="primary")

    def on_mount(self) -> None:
        from emi_tui.tui.screens.step import steady_inputs

        steady_inputs(self)
        self.query_one(Input).focus()

    @on(Input.Changed, "#prompt-path")
    def _edited(self) -> None:
        if self.asked_for is not None:
            self.asked_for = None  # a question answered for another path does not carry over
            self.query_one("#prompt-error", Static).update("")
            self.query_one("#prompt-ok", Button).label = self.button

    @on(Input.Submitted, "#prompt-path")
    @on(Button.Pressed, "#prompt-ok")
    def _submit(self) -> None:
        text = self.query_one("#prompt-path", Input).value.strip()
        error = self.query_one("#prompt-error", Static)
        if not text:
            error.update("Enter a path.")
            return
        path = Path(text).expanduser()
        question = self.ask(path) if self.ask is not None and path != self.asked_for else None
        if question:
            self.asked_for = path
            error.update(Content(printable(question)))  # names the path typed: a str would be read as markup
            self.query_one("#prompt-ok", Button).label = f"Create folder and {self.button.lower()}"
            return
        why = self.act(path)
        if why:
            error.update(Content(printable(why)))
            return
        self.dismiss(path)

    @on(Button.Pressed, "#prompt-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def missing_folder_question(path: Path) -> str | None:
    """The question to ask before saving `path` would create its folder (None when the folder is there)."""
    folder = path.parent
    if folder.is_dir():
        return None
    return f"The folder {folder} does not exist. Press Enter again (or the button) to create it and save, or change the path."


def ask_save_answers(screen: Screen[Any], answers: Callable[[], Any], suggested: Path, saved: Callable[[Path], None]) -> None:
    """Ask where to save `answers()` (with their comments), asking before a folder is created; `saved(path)` after."""

    def save_to(path: Path) -> str | None:
        if path.is_dir():
            return f"{path} is a folder: add a file name, such as {path / 'answers.yaml'}"
        try:
            save_answers(answers(), path)
        except OSError as exc:
            return f"Cannot save there: {exc.strerror or exc}"
        return None

    def done(path: Path | None) -> None:
        if path is not None:
            screen.notify(f"Saved the answers as {printable(str(path))}", title="Saved", markup=False)
            saved(path)

    screen.app.push_screen(
        PathPrompt("Save answers to", str(suggested), "Save", save_to, placeholder="path/to/answers.yaml", ask=missing_folder_question),
        done,
    )
