"""The last question before a real build or modify: what will run as root, and where it writes.

A real build runs mmdebstrap or debootstrap, a chroot, loop devices, mke2fs
and zerofree as root, so it never starts from one stray key. The dialog opens
with Cancel focused: Enter (or Esc) on it cancels. Starting takes an explicit
act: `y`, or Tab to the start button and Enter.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static

from emi_tui.engine.text import printable
from emi_tui.tui.state.wizard_state import tilde

#: Where jobs work (emi_tui.engine.run.job.choose_work_root), in words.
WORK_FOLDER = "a work folder (/dev/shm/emi-tui, or /var/tmp/emi-tui when short of room)"


class ConfirmRoot(ModalScreen[bool]):
    """Ask "run this as root?"; dismisses True only on the start button or `y`."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "confirm", "Yes, start as root"),
    ]

    def __init__(self, title: str, lines: Sequence[str], start_label: str) -> None:
        super().__init__()
        self.title_text = title
        self.lines = list(lines)
        self.start_label = start_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static("These run as root on this machine:", classes="confirm-lead")
            # The lines quote the answers (mirror, folders, package names): never read as markup.
            body = Content("\n").join(Content.assemble(("• ", "$accent"), printable(line)) for line in self.lines)
            with VerticalScroll(id="confirm-scroll"):
                yield Static(body, id="confirm-lines")
            yield Static("Enter or Esc cancels. To start: y, or Tab to the start button and Enter.", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="confirm-cancel")
                yield Button(self.start_label, id="confirm-start", variant="warning")
        yield Footer()

    def on_mount(self) -> None:
        # Cancel has the focus: an Enter that was meant for the screen below cancels.
        self.query_one("#confirm-cancel", Button).focus()

    @on(Button.Pressed, "#confirm-start")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


def build_root_lines(answers: Any, recipe: Any) -> list[str]:
    """What a real build of `answers` runs as root, in the order it runs, naming the artifact's folder."""
    tool = getattr(recipe, "bootstrap", "the bootstrapper")
    release = answers.release or getattr(recipe, "default_release", "")
    distro = getattr(recipe, "distro", "the distro")
    mirror = answers.mirror or "the recipe's mirror"
    add, remove = list(answers.packages.add), list(answers.packages.remove)
    packages = "; ".join(part for part in (f"install {', '.join(add)}" if add else "", f"purge {', '.join(remove)}" if remove else "") if part)
    output = Path(answers.output.dir).expanduser()
    where = output if output.is_absolute() else Path.cwd() / output
    return [
        f"{tool}: bootstrap {distro} {release} from {mirror} into {WORK_FOLDER}",
        "chroot: apt-get in the new system" + (f" ({packages})" if packages else "") + "; write rc.local, udev rules and /etc/image-id",
        "mount /proc, /dev and the image's loop device inside the work folder",
        "mke2fs -d and e2fsck: make and check the filesystem image",
        "zerofree: zero the image's free blocks",
        f"write {answers.image.file or 'the image'} and its tarball, checksum and log into {tilde(where)}",
    ]


def modify_root_lines(request: Any) -> list[str]:
    """What a modify of `request` runs as root: the original is only read; the copy is changed."""
    artifact = Path(request.artifact)
    output = Path(request.output) if request.output else artifact.parent
    lines = [f"copy {artifact.name} into {WORK_FOLDER} (the original is only read)"]
    if request.grow:
        lines.append(f"resize2fs: grow the filesystem to {request.grow}")
    lines.append("mount: loop-mount the copy, with its own /proc and a minimal /dev")
    work = ["upgrade every package"] if request.upgrade else []
    work += [f"install {', '.join(request.add)}"] if request.add else []
    work += [f"purge {', '.join(request.remove)}"] if request.remove else []
    if work:
        lines.append(f"chroot: apt-get to {'; '.join(work)}")
    if request.script:
        lines.append(f"chroot: run {Path(request.script).name}")
    if request.shell:
        lines.append("chroot: an interactive root shell, everything typed logged")
    lines += [
        "write the new /etc/image-id; clean caches, history and host keys",
        "e2fsck and zerofree the copy",
        f"write the new artifact into {tilde(output)}",
    ]
    return lines
