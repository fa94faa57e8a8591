"""Step 5, Image: the image's name, version and file name, where it is written, how it is packed.

The name fields start filled with the defaults the starter images used; a
field left at its default stays a default (so the file name follows the
version as it is typed, and a later change of size still renames the image).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Select, Static, Switch

from emi_tui.engine.answers.model import ImageFields, Output
from emi_tui.engine.artifact.compress import COMPRESSORS
from emi_tui.tui.screens.step import StepScreen

SUFFIXES = {name: c.suffix for name, c in COMPRESSORS.items()}

COMPRESSION = ("zstd", "gzip", "xz", "none")  # the suggestion first
#: Input id -> the image field it edits.
NAME_FIELDS = {"img-name": "name", "img-version": "version", "img-file": "file"}
#: What each image field is called on screen (its /etc/image-id key is the dim hint).
NAME_TITLES = {"name": "Image name", "version": "Image version", "file": "Image file"}
DEFAULT_DIR = Output.model_fields["dir"].default


def compression_label(name: str) -> str:
    suffix = SUFFIXES.get(name)
    if name == "none":
        return f"none: an uncompressed tar ({suffix})" if suffix else "none"
    if name == "zstd":
        return f"zstd ({suffix}), suggested"
    return f"{name} ({suffix})" if suffix else name


class ImageScreen(StepScreen):
    """Edit image_name, image_version, image_file, the output folder, compression and kernel/ramdisk."""

    STEP = "image"
    INTRO = "How the image is named (as in /etc/image-id), where it is written and how it is packed."
    FIELDS = {
        "image.name": "img-name",
        "image.version": "img-version",
        "image.file": "img-file",
        "output.dir": "out-dir",
        "output.compress": "out-compress",
        "kernel": "kernel",
    }
    AUTO_FOCUS = "#img-name"

    def compose_body(self) -> ComposeResult:
        answers = self.wizard.answers
        shown = self.wizard.image_defaults()
        with VerticalScroll(id="image-form"):
            for field_id, field in NAME_FIELDS.items():
                description = (ImageFields.model_fields[field].description or "").removeprefix(f"image_{field}; ")
                label = Content.from_markup("[b]$title[/b]  [dim]$d · image_$field[/]", title=NAME_TITLES[field], d=description, field=field)
                yield Label(label, classes="option-label")
                value = getattr(shown, field)
                yield Input(value="" if value is None else str(value), placeholder="the default", id=field_id, compact=True)
                yield self.problem_line(field_id)
            yield Label(Content.from_markup("[b]Output folder[/b]  [dim]where the artifacts are written; made if missing[/]"), classes="option-label")
            directory = answers.output.dir
            yield Input(value=str(directory), placeholder=DEFAULT_DIR, id="out-dir", compact=True)
            yield self.problem_line("out-dir")
            yield Label(Content.from_markup("[b]Compression[/b]  [dim]how the image is packed; zstd takes a quarter of gzip's time[/]"), classes="option-label")
            compress = answers.output.compress
            yield Select(
                [(compression_label(name), name) for name in COMPRESSION],
                value=compress if compress in COMPRESSION else Select.NULL,
                prompt="choose one",
                id="out-compress",
                compact=True,
            )
            yield self.problem_line("out-compress")
            yield Label(Content.from_markup("[b]Kernel and ramdisk[/b]  [dim]also write the kernel and ramdisk (EKI/ERI) beside the image[/]"), classes="option-label")
            yield Switch(value=answers.kernel is True, id="kernel")
            yield self.problem_line("kernel")
            yield Static(id="image-preview")

    @on(Input.Changed, "#img-name, #img-version, #img-file")
    def _name_typed(self, event: Input.Changed) -> None:
        field = NAME_FIELDS[event.input.id or ""]
        value = event.value.strip()
        default = getattr(self.wizard.image_defaults(ignoring=field), field)
        self.change(f"image.{field}", None if value in ("", default) else value)
        if field == "version" and self.wizard.answers.image.file is None:
            # The file name is still the default: show the one this version gives.
            file_field = self.query_one("#img-file", Input)
            new_file = self.wizard.image_defaults().file or ""
            if file_field.value != new_file:
                file_field.value = new_file

    @on(Input.Changed, "#out-dir")
    def _dir_typed(self, event: Input.Changed) -> None:
        self.change("output.dir", event.value.strip() or DEFAULT_DIR)

    @on(Select.Changed, "#out-compress")
    def _compress_chosen(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.change("output.compress", event.value)

    @on(Switch.Changed, "#kernel")
    def _kernel_switched(self, event: Switch.Changed) -> None:
        self.change("kernel", event.value)

    def state_refreshed(self) -> None:
        answers = self.wizard.answers
        image = self.wizard.image_defaults()
        # What is written is said only once it is known: never a field's raw or missing value.
        problems = self.wizard.problems_for(self.STEP)
        naming = not any(p.key.startswith(("image.", "output.dir")) for p in problems)
        folder, file = answers.output.dir, image.file
        lines: list[Content] = []
        if naming and isinstance(folder, str) and isinstance(file, str) and file:
            lines.append(Content.from_markup("[b]Writes[/b]  $path", path=f"{folder.rstrip('/') or '/'}/{file}"))
        else:
            lines.append(Content.from_markup("[b]Writes[/b]  [dim]known once the fields above have no problems[/]"))
        if answers.kernel is True:
            lines.append(Content.from_markup("        and its kernel and ramdisk beside it"))
        compress = answers.output.compress
        if compress in COMPRESSION and compress != "none":
            lines.append(Content.from_markup("        packed with $how", how=compression_label(compress)))
        if naming and isinstance(image.name, str) and isinstance(image.version, str):
            lines.append(Content.from_markup("[b]image-id[/b] $name $version", name=image.name, version=image.version))
        self.query_one("#image-preview", Static).update(Content("\n").join(lines))
