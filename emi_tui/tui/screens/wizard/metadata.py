"""Step 4, Metadata: what the image's /etc/rc.local does at boot, with a live preview of that script.

The fields come from the core's `Metadata` model (each with its one-line
description), so a new metadata option appears here without a TUI change. The
preview is the core's own `render_rc_local`, never a mock-up: shell lines are
never wrapped (the pane scrolls sideways), the lines the last edit changed are
marked, and while an option has a problem the last good script stays, marked
stale.
"""

from __future__ import annotations

import difflib
import typing

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.content import Content
from textual.highlight import highlight
from textual.timer import Timer
from textual.widgets import Checkbox, Input, Label, Select, Static

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.image.files import render_rc_local
from emi_tui.engine.text import printable
from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.state.wording import option_title

#: Seconds of quiet typing before the preview is redrawn.
PREVIEW_DELAY = 0.3


def highlighted(code: str, language: str) -> Content:
    """`code` highlighted in the app theme's own colours (Textual's highlighter: fast enough per keystroke)."""
    return highlight(code, language=language)


#: The gutter of a line the last edit changed, and of one it did not.
CHANGED_MARK, SAME_MARK = "▌ ", "  "


def line_changes(before: str | None, after: str) -> tuple[set[int], int]:
    """The indexes of the lines of `after` that are new or changed since `before`, and how many of its lines are gone.

    Nothing has changed when there is no `before` (the first preview).
    """
    if before is None:
        return set(), 0
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    changed: set[int] = set()
    gone = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            changed.update(range(j1, j2))
        if tag in ("replace", "delete"):
            gone += i2 - i1
    return changed, gone


def marked(code: Content, changed: set[int]) -> Content:
    """`code` with a gutter: changed lines carry a mark and a tinted background."""
    lines = []
    for index, line in enumerate(code.split("\n", allow_blank=True)):
        if index in changed:
            lines.append(Content.assemble((CHANGED_MARK, "bold $success"), line).stylize("on $success 15%"))
        else:
            lines.append(Content.assemble(SAME_MARK, line))
    return Content("\n").join(lines)


def rc_local_preview(metadata: Metadata) -> tuple[str | None, str]:
    """The rc.local that `metadata` generates, or None and why there is none."""
    try:
        return render_rc_local(metadata), ""
    except Exception as exc:  # the generator's own complaint is the most useful message here
        return None, f"the rc.local generator refused these settings ({exc})"


def _choices(annotation: object) -> tuple[str, ...]:
    return tuple(typing.get_args(annotation)) if typing.get_origin(annotation) is typing.Literal else ()


class MetadataScreen(StepScreen):
    """Every metadata option beside a syntax-highlighted preview of the rc.local it generates."""

    STEP = "metadata"
    INTRO = "At boot, the image's /etc/rc.local asks the metadata service for its SSH key, user-data and disks."
    FIELDS = {f"metadata.{name}": f"md-{name}" for name in Metadata.model_fields}
    AUTO_FOCUS = "#md-url"
    #: The rc.local the preview shows (the last good one while it is stale), or None when there has been none.
    preview_text: str | None = None
    #: Whether the preview shows the last good script while the options now have a problem.
    preview_stale = False
    #: The lines of `preview_text` that its last change made (0-based).
    preview_changed: frozenset[int] = frozenset()
    _preview_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        metadata = self.wizard.answers.metadata
        with Horizontal(id="metadata-columns"):
            with VerticalScroll(id="metadata-form", classes="column"):
                for name, info in Metadata.model_fields.items():
                    value = getattr(metadata, name)
                    choices = _choices(info.annotation)
                    description = info.description or ""
                    title = option_title(name)
                    if info.annotation is bool:
                        label = Content.from_markup("[b]$title[/b]  [dim]$name[/]", title=title, name=name)
                        yield Checkbox(label, value=value is True, id=f"md-{name}", name=name, compact=True)
                        yield Static(description, classes="option-help")
                    else:
                        # A description the title already says ("the metadata service") is left out.
                        said = "" if description.lower().removeprefix("the ") in title.lower() else f"{description} · "
                        label = Content.from_markup("[b]$title[/b]  [dim]$said$name[/]", title=title, said=said, name=name)
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
            # Both ways: a shell line is never wrapped mid-word, the pane scrolls sideways instead.
            with Vertical(id="rc-column", classes="column"):
                yield Static(id="rc-stale")
                with ScrollableContainer(id="rc-preview"):
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
        """Show the rc.local that the metadata options generate now, its changed lines marked.

        While the options have a problem (or the generator refuses them), the
        last good script stays, dimmed and marked stale, with why above it.
        """
        self._preview_timer = None
        pane = self.query_one("#rc-preview", ScrollableContainer)
        stale_note = self.query_one("#rc-stale", Static)
        why = ""
        script: str | None = None
        if self.wizard.problems_for(self.STEP):
            why = "an option has a problem (see its field)"
        else:
            script, why = rc_local_preview(self.wizard.answers.metadata)
        was_stale = self.preview_stale
        if script is None:
            self.preview_stale = self.preview_text is not None
            shown = "stale, the last valid script" if self.preview_stale else "no preview"
            pane.border_title = "/etc/rc.local · stale" if self.preview_stale else "/etc/rc.local"
            # The generator's complaint may quote a typed value: $-substitution reads no markup in it.
            stale_note.update(Content.from_markup("[$text-warning]⚠ $shown: $why[/]", why=printable(why), shown=shown))
            stale_note.display = True
            if self.preview_stale and self.preview_text is not None and not was_stale:
                code = marked(highlighted(self.preview_text, "bash"), set(self.preview_changed))
                self.query_one("#rc-local", Static).update(code.stylize("dim"))
            return
        stale_note.display = False
        changed, gone = line_changes(self.preview_text, script)
        if script != self.preview_text or was_stale:
            self.preview_changed = frozenset(changed) if script != self.preview_text else self.preview_changed
            self.query_one("#rc-local", Static).update(marked(highlighted(script, "bash"), set(self.preview_changed)))
        self.preview_text, self.preview_stale = script, False
        pane.border_title = "/etc/rc.local · live preview"
        if changed:
            pane.border_subtitle = f"▌ {len(changed)} line{'s' if len(changed) != 1 else ''} changed" + (f", {gone} removed" if gone else "")
            first = min(changed)
            # The first changed line comes into view (a line's y is its index: one row each, no wrapping).
            self.call_after_refresh(pane.scroll_to, y=max(first - 2, 0), animate=False)
        elif gone:
            pane.border_subtitle = f"{gone} line{'s' if gone != 1 else ''} removed"
