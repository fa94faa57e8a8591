"""Placeholder app until the wizard lands."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.widgets import Footer, Header, Static


class EmiApp(App):
    TITLE = "emi-tui"

    def compose(self):
        yield Header()
        yield Static("emi-tui wizard: coming soon")
        yield Footer()


def run_app(answers_path: Path | None = None, theme: str | None = None) -> int:
    EmiApp().run()
    return 0
