"""What an attacker writes where emi-tui shows text: strategies for hostile text, and the checks on what was shown.

A guest's console, an artifact's member names, an image's /etc/image-id and
a request to metadata-serve are all written by someone else. The text they
hold may carry rich markup ("[green]boot test passed[/]", a lone "[/]" that
raises MarkupError), terminal escape sequences (colours, cursor moves, OSC 52
to the clipboard, a window title), carriage returns that overwrite what was
shown, NULs and bidi overrides.
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from emi_tui.engine.text import printable

ESC = "\x1b"

#: Pieces an attacker reaches for first; hypothesis mixes them with arbitrary characters.
FRAGMENTS = [
    "[green]boot test passed[/]", "[/]", "[bold red]", "[", "]", "[link=file:///etc/shadow]x[/link]", "[@click=app.quit]q[/]",
    "\x1b[32mboot test passed\x1b[0m", "\x1b[2J\x1b[H", "\x1b]0;owned\x07", "\x1b]52;c;cm0gLXJmIC8K\x07", "\x1bP+q\x1b\\",
    "\x9b31m", "\r", "\rFAIL", "\x00", "\x08\x08\x08", "\x7f", "\u202e", "\u2028", "\x85", ":smile:", "%1b", "\\x1b",
]

BIDI_AND_SEPARATORS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
#: Characters that must never reach a terminal raw.
CONTROL_ALPHABET = st.characters(codec="utf-8", categories=("Cc",)) | st.sampled_from(BIDI_AND_SEPARATORS)

hostile_text = st.lists(
    st.sampled_from(FRAGMENTS) | st.text(alphabet=st.characters(codec="utf-8") | CONTROL_ALPHABET | st.sampled_from("[]/=@#"), max_size=12),
    min_size=1, max_size=6,
).map("".join)

#: One line of it (a console line has its line end taken off already).
hostile_line = hostile_text.map(lambda text: text.replace("\n", " ")).filter(lambda text: text.strip() != "")

SECURITY = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


def unsafe_characters(shown: str) -> list[str]:
    """The characters in `shown` that a terminal would act on: C0/C1 controls but tab and newline, and bidi overrides."""
    return [char for char in shown if (unicodedata.category(char) == "Cc" and char not in "\n\t") or char in BIDI_AND_SEPARATORS]


def assert_shown_safely(shown: str, *originals: str) -> None:
    """`shown` (what reached the terminal or a log) holds each original literally, escaped, and no control character.

    Whitespace is left out of the comparison: rich expands tabs and pads lines.
    """
    assert not unsafe_characters(shown), repr(shown)
    flat = "".join(shown.split())
    for original in originals:
        expected = "".join(printable(original).split())
        assert expected in flat, (expected, shown)
