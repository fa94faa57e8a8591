"""Pilot checks for a screen's layout at a small size (80x24): each returns what is wrong, [] when nothing is.

They read the screen as it is laid out (regions, scroll offsets, the footer's
keys), so a test can assert `== []` and see every fault in one failure:

- `first_label_hidden`: the step's first label is off the screen or scrolled out of view;
- `footer_missing_keys`: a binding the screen shows (show=True, not disabled by its check_action) is not wholly in the footer;
- `narrow_panes`: a DataTable (or a text pane) is narrower than its first column's content.

The footer redraws itself a refresh after the bindings change (a load, a
check_action that flips): after such a change, `await pilot.pause()` (or
wait_for the key) before `footer_missing_keys`.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Label, Static
from textual.widgets._footer import FooterKey


def _visible_within(widget: Widget) -> Region:
    """The part of `widget` that can be seen: its region, cut by every ancestor's (scrolled-off parts are outside those)."""
    region = widget.region
    for ancestor in widget.ancestors:
        if isinstance(ancestor, Widget) and not isinstance(ancestor, Screen):
            region = region.intersection(ancestor.region)
    return region.intersection(widget.screen.region)


def first_label(screen: Screen, within: str = "#step-body") -> Widget | None:
    """The first Label of `within` (DOM order, displayed ones only)."""
    try:
        root = screen.query_one(within)
    except NoMatches:
        return None
    return next((label for label in root.query(Label) if label.display), None)


def first_label_hidden(screen: Screen, within: str = "#step-body") -> list[str]:
    """[] when the first label of `within` shows in full on the screen; else what is wrong."""
    label = first_label(screen, within)
    if label is None:
        return [f"{type(screen).__name__}: no label in {within}"]
    seen = _visible_within(label)
    if seen.area == 0:
        return [f"{type(screen).__name__}: first label {str(label.render())!r} is not visible (region {label.region})"]
    if seen.height < label.region.height or label.region.height == 0:
        return [f"{type(screen).__name__}: first label {str(label.render())!r} is cut ({seen} of {label.region})"]
    return []


def declared_footer_bindings(screen: Screen) -> list[Binding]:
    """The bindings the screen (and the app) declare with show=True whose action is not hidden by check_action.

    Read from BINDINGS, not from the footer, so that a footer that drops a key is caught.
    """
    app = screen.app
    found: dict[str, tuple[Widget | object, Binding]] = {}
    for node in (app, screen):
        for klass in reversed(type(node).__mro__):
            for binding in klass.__dict__.get("BINDINGS", []):
                binding = binding if isinstance(binding, Binding) else Binding(*binding)
                for key in binding.key.split(","):
                    found[key.strip()] = (node, binding)  # a later (more specific) declaration of a key wins
    shown = []
    for key, (node, binding) in found.items():
        if not binding.show or not binding.description or binding.action == "command_palette":
            continue
        if app._check_action_state(binding.action, node) is False:
            continue  # hidden by the screen's check_action (not merely greyed out)
        shown.append(Binding(key, binding.action, binding.description, show=True))
    # One key per action is enough: the footer shows an action once.
    by_action: dict[str, Binding] = {}
    for binding in shown:
        by_action.setdefault(binding.action, binding)
    return list(by_action.values())


def footer_missing_keys(screen: Screen) -> list[str]:
    """[] when every declared show=True action has a key in the footer, wholly inside it and clear of the palette key."""
    try:
        footer = screen.query_one(Footer)
    except NoMatches:
        return [f"{type(screen).__name__}: no footer"]
    keys = list(footer.query(FooterKey))
    palette = [key for key in keys if key.has_class("-command-palette")]
    limit = footer.region.right if not palette else palette[0].region.x
    problems = []
    for binding in declared_footer_bindings(screen):
        shown = [key for key in keys if key.action == binding.action and not key.has_class("-command-palette")]
        if not shown:
            problems.append(f"{type(screen).__name__}: {binding.key} {binding.description!r} is not in the footer")
            continue
        region = shown[0].region
        if region.width == 0 or region.x < footer.region.x or region.right > limit:
            problems.append(f"{type(screen).__name__}: {binding.key} {binding.description!r} is cut off the footer ({region}, room up to x={limit})")
    return problems


def _first_column_width(text: str) -> int:
    """The widest first column of a text: each line's indent and what comes before its first gap of two spaces.

    So `mirror: http://…  # a comment` gives `mirror: http://…` (YAML and its
    comment column), and `htop  410 kB  …` gives `htop`. Comment-only lines
    (starting with #) are prose, free to scroll, and left out.
    """
    widest = 0
    for line in text.splitlines():
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        widest = max(widest, cell_len(line[:indent] + stripped.split("  ", 1)[0].rstrip()))
    return widest


def narrow_panes(screen: Screen, panes: tuple[str, ...] = ()) -> list[str]:
    """[] when every DataTable (and each text pane named in `panes`, a selector of its scroll container) is at least as
    wide as its first column's content; else which are narrower, and by how much."""
    problems = []
    for table in screen.query(DataTable):
        if not table.display or not table.ordered_columns:
            continue
        columns = [c for c in table.ordered_columns if c.key.value != "mark"] or table.ordered_columns
        first = columns[0]
        cells = [str(cell) for cell in table.get_column(first.key)] if table.row_count else []
        need = max([cell_len(str(first.label)), *(cell_len(c) for c in cells)]) + 2 * table.cell_padding
        have = table.scrollable_content_region.width
        if have < need:
            problems.append(f"{type(screen).__name__}: table #{table.id} is {have} wide, its first column needs {need}")
    for selector in panes:
        pane = screen.query_one(selector)
        texts = [str(static.render()) for static in pane.query(Static)]
        need = max((_first_column_width(text) for text in texts), default=0)
        have = pane.scrollable_content_region.width
        if have < need:
            problems.append(f"{type(screen).__name__}: pane {selector} is {have} wide, its first column needs {need}")
    return problems
