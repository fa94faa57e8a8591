"""Fixtures of the red-team suite: what the CLI's consoles print, captured without colour.

Without colour, every ESC in the output came from the text printed, never from
rich's own styling, so a test can ask for none at all.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest

from emi_tui.commands.console import err, out


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], str]]:
    """A function returning what the CLI printed so far (stdout then stderr), and clearing it."""
    buffers = {out: io.StringIO(), err: io.StringIO()}
    for console, buffer in buffers.items():
        # _file, not the file property: undoing the property would pin the stream pytest had at the time.
        monkeypatch.setattr(console, "_file", buffer)
        monkeypatch.setattr(console, "_color_system", None)
        monkeypatch.setattr(console, "_width", 10_000)  # no folding: a value shows on one line, whole

    def take() -> str:
        text = "".join(buffer.getvalue() for buffer in buffers.values())
        for buffer in buffers.values():
            buffer.seek(0)
            buffer.truncate()
        return text

    yield take
