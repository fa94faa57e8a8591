"""A step opens at the top of its form, its first label in view, however focusing its first field scrolled it."""

from __future__ import annotations

from textual.containers import ScrollableContainer

from emi_tui.tui.screens.step import StepScreen


def show_form_top(screen: StepScreen, form: str) -> None:
    """Scroll `form` (a selector) to its top once focus has settled, as far as the focused field allows.

    Focusing a field before the layout is done scrolls it to the middle of its
    container, which at 80×24 hides the label above it. From the top, the form
    then scrolls only as far as needed to show the focused field (a step opened
    on a problem lower down).
    """

    def settle() -> None:
        focused = screen.focused
        for container in screen.query(form).results(ScrollableContainer):
            container.scroll_home(animate=False, immediate=True)
            if focused is not None and focused in container.query("*"):
                container.scroll_to_widget(focused, animate=False, immediate=True)

    screen.call_after_refresh(lambda: screen.call_after_refresh(settle))
