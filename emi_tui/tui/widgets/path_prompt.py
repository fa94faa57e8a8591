"""A small dialog that asks for a file path and hands it to an action that may refuse it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from emi_tui.engine.text import printable


class PathPrompt(ModalScreen[Path | None]):
    """Ask for a path; `act(path)` does the work and returns why it failed, or None to close."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str, button: str, act: Callable[[Path], str | None], *, placeholder: str = ""):
        super().__init__()
        self.title_text = title
        self.value = value
        self.button = button
        self.act = act
        self.placeholder = placeholder

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

    @on(Input.Submitted, "#prompt-path")
    @on(Button.Pressed, "#prompt-ok")
    def _submit(self) -> None:
        text = self.query_one("#prompt-path", Input).value.strip()
        error = self.query_one("#prompt-error", Static)
        if not text:
            error.update("Enter a path.")
            return
        path = Path(text).expanduser()
        why = self.act(path)
        if why:
            error.update(Content(printable(why)))  # names the path typed: a str would be read as markup
            return
        self.dismiss(path)

    @on(Button.Pressed, "#prompt-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
