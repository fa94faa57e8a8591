"""A yes-or-no question in a box over the screen: the shape ConfirmQuit and ConfirmCancel share."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class Question(ModalScreen[bool]):
    """A bold headline, a text, then No and Yes buttons; dismisses with True on Yes (its button, or `answer(True)`).

    No has the focus, so a stray Enter never says yes. A subclass binds its keys to `answer` with its own
    words, and composes with `ask`.
    """

    DEFAULT_CSS = """
    Question { align: center middle; }
    Question > Vertical {
        width: 60; max-width: 100%; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    Question .question-text { margin-bottom: 1; }
    Question Horizontal { height: auto; align-horizontal: right; }
    Question Button { margin-left: 2; }
    """
    AUTO_FOCUS = "Button.-no"

    def ask(self, headline: str, text: str, *, text_id: str, no: tuple[str, str], yes: tuple[str, str]) -> ComposeResult:
        """The dialog's widgets; `no` and `yes` are each a button's (label, id)."""
        with Vertical():
            yield Static(Content.styled(headline, "bold"))
            yield Static(text, id=text_id, classes="question-text")
            with Horizontal():
                yield Button(no[0], id=no[1], classes="-no")
                yield Button(yes[0], variant="error", id=yes[1], classes="-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.has_class("-yes"))
