"""What a modify changed: the old /etc/image-id against the new one, and the packages added, removed and upgraded."""

from __future__ import annotations

from collections.abc import Mapping

from textual.content import Content
from textual.widgets import Static

from emi_tui.engine.image.imageid import FIELDS
from emi_tui.engine.text import printable


def image_id_fields(text: str) -> dict[str, str]:
    """The key=value pairs of an /etc/image-id text, in order (quotes removed); other lines are ignored."""
    fields: dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            fields[key.strip()] = value
    return fields


def image_id_rows(old_text: str, new_text: str) -> list[Content]:
    """One row per field: its old value, its new one, changed fields marked and coloured."""
    # Both texts are the images' own files: printable before they are measured and shown.
    old = {printable(key): printable(value) for key, value in image_id_fields(old_text).items()}
    new = {printable(key): printable(value) for key, value in image_id_fields(new_text).items()}
    keys = [k for k in FIELDS if k in old or k in new] + [k for k in {**old, **new} if k not in FIELDS]
    if not keys:
        return [Content.styled("neither image has an /etc/image-id", "$warning")]
    key_width = max(len(k) for k in keys)
    old_width = min(40, max((len(old.get(k, "")) for k in keys), default=0))
    rows = [Content.assemble((f"  {'':<{key_width}}  ", ""), (f"{'was':<{old_width}}", "bold"), "    ", ("now", "bold"))]
    for key in keys:
        before, after = old.get(key, "—"), new.get(key, "—")
        changed = before != after
        rows.append(Content.assemble(
            ("~ " if changed else "  ", "$warning" if changed else ""),
            (f"{key:<{key_width}}", "bold" if changed else "$text-muted"), "  ",
            (f"{before:<{old_width}}", "$text-muted"), "  → " if changed else "    ",
            (after, "$success" if changed else "$text-muted"),
        ))
    return rows


def package_rows(added: Mapping[str, str], removed: Mapping[str, str], upgraded: Mapping[str, tuple[str, str]]) -> list[Content]:
    """The package diff: a count line, then + added, - removed, ↑ upgraded with versions."""
    rows = [Content.assemble(
        (f"{len(added)} added", "$success" if added else "$text-muted"), ", ",
        (f"{len(removed)} removed", "$text-error" if removed else "$text-muted"), ", ",
        (f"{len(upgraded)} upgraded", "$accent" if upgraded else "$text-muted"),
    )]
    # Names and versions are what the image's package database says.
    rows += [Content.assemble(("  + ", "$success"), (printable(name), "bold"), f" {printable(version)}") for name, version in sorted(added.items())]
    rows += [Content.assemble(("  - ", "$text-error"), (printable(name), "bold"), f" {printable(version)}") for name, version in sorted(removed.items())]
    rows += [Content.assemble(("  ↑ ", "$accent"), (printable(name), "bold"), f" {printable(old)} → {printable(new)}")
             for name, (old, new) in sorted(upgraded.items())]
    return rows


class ImageIdDiff(Static):
    """The Done screen's account of a modify: image-id old against new, then the package diff."""

    DEFAULT_CSS = """
    ImageIdDiff { height: auto; border: round $primary 50%; padding: 0 1; margin-bottom: 1; }
    """

    def __init__(self, old_image_id: str, new_image_id: str, added: Mapping[str, str], removed: Mapping[str, str],
                 upgraded: Mapping[str, tuple[str, str]], *, id: str | None = None) -> None:
        rows = [Content.styled("/etc/image-id", "bold"), *image_id_rows(old_image_id, new_image_id), Content(""),
                Content.styled("packages", "bold"), *package_rows(added, removed, upgraded)]
        super().__init__(Content("\n").join(rows), id=id)
        self.border_title = "what changed"
