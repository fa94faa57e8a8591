"""Step 4, Metadata: what the image's /etc/rc.local does at boot, with a live preview of that script.

The fields come from the core's `Metadata` model (each with its one-line
description), so a new metadata option appears here without a TUI change. The
preview is the core's own `render_rc_local`, never a mock-up.
"""

from __future__ import annotations

import typing

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.highlight import highlight
from textual.timer import Timer
from textual.widgets import Checkbox, Input, Label, Select, Static

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.image.files import render_rc_local
from emi_tui.tui.screens.step import StepScreen

#: Seconds of quiet typing before the preview is redrawn.
PREVIEW_DELAY = 0.3


def highlighted(code: str, language: str) -> Content:
    """`code` highlighted in the app theme's own colours (Textual's highlighter: fast enough per keystroke)."""
    return highlight(code, language=language)


def rc_local_preview(metadata: Metadata) -> tuple[str | None, str]:
    """The rc.local that `metadata` generates, or None and why there is none."""
    try:
        return render_rc_local(metadata), ""
    except Exception as exc:  # the generator's own complaint is the most useful message here
        return None, f"No preview: the rc.local generator refused these settings ({exc})."


def _choices(annotation: object) -> tuple[str, ...]:
    return tuple(typing.get_args(annotation)) if typing.get_origin(annotation) is typing.Literal else ()


class MetadataScreen(StepScreen):
    """Every metadata option beside a syntax-highlighted preview of the rc.local it generates."""

    STEP = "metadata"
    INTRO = "At boot, the image's /etc/rc.local asks the metadata service for its SSH key, user-data and disks."
    FIELDS = {f"metadata.{name}": f"md-{name}" for name in Metadata.model_fields}
    AUTO_FOCUS = "#md-url"
    #: The rc.local the preview shows, or None when it shows why there is none.
    preview_text: str | None = None
    _preview_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        metadata = self.wizard.answers.metadata
        with Horizontal(id="metadata-columns"):
            with VerticalScroll(id="metadata-form", classes="column"):
                for name, info in Metadata.model_fields.items():
                    value = getattr(metadata, name)
                    choices = _choices(info.annotation)
                    description = info.description or ""
                    if info.annotation is bool:
                        yield Checkbox(Content.from_markup("[b]$name[/b]", name=name), value=value is True, id=f"md-{name}", name=name, compact=True)
                        yield Static(description, classes="option-help")
                    else:
                        label = Content.from_markup("[b]$name[/b]  [dim]$description[/]", name=name, description=description)
                        yield Label(label, classes="option-label")
                        if choices:
                            yield Select(
                                [(choice, choice) for choice in choices],
                                value=value if value in choices else Select.NULL,
                                prompt="choose one",
                                id=f"md-{name}",
                                name=name,
                                compact=True,
                            )
                        else:
                            yield Input(value=str(value), id=f"md-{name}", name=name, compact=True)
                    yield self.problem_line(f"md-{name}")
            with VerticalScroll(id="rc-preview", classes="column"):
                yield Static(id="rc-local")

    @on(Checkbox.Changed)
    def _checked(self, event: Checkbox.Changed) -> None:
        self.change(f"metadata.{event.checkbox.name}", event.value)

    @on(Select.Changed)
    def _selected(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.change(f"metadata.{event.select.name}", event.value)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input.name in Metadata.model_fields:
            self.change(f"metadata.{event.input.name}", event.value.strip())

    def state_refreshed(self) -> None:
        # Redrawing a few hundred highlighted lines takes longer than a keystroke:
        # the preview follows once typing pauses, not on every key.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        if self.preview_text is None and self._preview_timer is None:
            self.refresh_preview()  # the first one at once
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self.refresh_preview)

    def refresh_preview(self) -> None:
        """Show the rc.local that the metadata options generate now (or why there is none)."""
        self._preview_timer = None
        preview = self.query_one("#rc-local", Static)
        self.query_one("#rc-preview").border_title = "/etc/rc.local · live preview"
        if self.wizard.problems_for(self.STEP):
            self.preview_text = None
            preview.update(Content.from_markup("[$text-warning]No preview while the metadata options have problems.[/]"))
            return
        script, why = rc_local_preview(self.wizard.answers.metadata)
        if script is None:
            self.preview_text = None
            preview.update(Content.from_markup("[$text-warning]$why[/]", why=why))
            return
        if script != self.preview_text:
            preview.update(highlighted(script, "bash"))
        self.preview_text = script
