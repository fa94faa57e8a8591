"""Modify, last step, Changes: what no answer key holds (upgrade, a script, a shell, grow, version, output), and Start.

Beside the fields, the plan says in words what the modify will do, from the
packages and metadata the earlier steps changed. Start modify… (ctrl+n or its
button) asks first, in a dialog that names what runs as root, with Cancel
focused; only then is the engine's ModifyRequest posted (`ChangesScreen.Start`)
for the App to run on the build screen, which ends on the Done screen. ctrl+s
saves answers here as on the Summary: it never starts anything.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Input, Label, Static, Switch

from emi_tui.engine.errors import Problem
from emi_tui.engine.modify.trust import TRUST_STATEMENT
from emi_tui.engine.paths_check import nearest_existing
from emi_tui.engine.sizes import human
from emi_tui.engine.text import printable
from emi_tui.tui.screens.modify.base import ModifyStepScreen
from emi_tui.tui.screens.step import problem_lines, update_if_changed
from emi_tui.tui.screens.wizard.confirm_build import ConfirmRoot, modify_root_lines
from emi_tui.tui.widgets.path_prompt import ask_save_answers
from emi_tui.tui.workers.build_worker import terminal_handover

if TYPE_CHECKING:
    from emi_tui.engine.modify.job import ModifyRequest  # loaded with the modify engine, when Start is pressed


def can_hand_over_terminal(app: object) -> bool:
    """Whether the app runs in a real terminal that it can give to a shell (not headless, not in a browser)."""
    driver = getattr(app, "_driver", None)
    return bool(driver is not None and driver.can_suspend and not getattr(app, "is_headless", True))


def output_folder_problem(folder: Path, need_bytes: int = 0) -> str | None:
    """Why the new artifact cannot be written into `folder` (made when missing), or None.

    Judged on the nearest folder that exists, as the modify will create the
    rest: a virtual filesystem (/proc, /sys) has no room at all, whoever runs.
    """
    probe = nearest_existing(folder)
    if not probe.is_dir():
        return f"{probe} is not a folder"
    try:
        usage = shutil.disk_usage(probe)
    except OSError as exc:
        return f"cannot look at {probe}: {exc.strerror or exc}"
    if usage.total == 0:
        where = f"{folder} is in {probe}, which is" if probe != folder else f"{folder} is"
        return f"{where} on a virtual filesystem, not on a disk: choose a folder on a disk"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"cannot write in {probe}: choose a folder of your own"
    if need_bytes and usage.free < need_bytes:
        return f"{probe} has {human(usage.free)} free; the new artifact needs about {human(need_bytes)}"
    return None


class ChangesScreen(ModifyStepScreen):
    """The rest of the changes, the plan in words, and Start."""

    STEP = "changes"
    INTRO = "Anything else to change, then Start: the modify runs on a copy, and the original stays as it is."
    FIELDS = {"changes.script": "script", "changes.grow": "grow", "changes.version": "version", "changes.output": "output",
              "changes.add": "plan", "changes.remove": "plan"}
    NEEDS_RECIPE = False
    AUTO_FOCUS = "#upgrade"
    BINDINGS = [Binding("ctrl+n", "next", "Start modify…", priority=True), Binding("ctrl+s", "save", "Save answers…", priority=True)]
    DEFAULT_CSS = """
    ChangesScreen #changes-columns { height: 1fr; }
    ChangesScreen #changes-form { width: 3fr; }
    ChangesScreen #plan-box { width: 2fr; }
    ChangesScreen .switch-row { height: auto; }
    ChangesScreen .switch-row Label { padding: 1 1 0 1; }
    ChangesScreen #shell-note { color: $text-muted; height: auto; }
    ChangesScreen #plan-box { border: round $primary 50%; padding: 0 1; }
    ChangesScreen #trust-note { margin-top: 1; height: auto; }
    """

    class Start(Message):
        """Start was asked for and confirmed: the App runs this ModifyRequest (it has no problems)."""

        def __init__(self, request: ModifyRequest) -> None:
            super().__init__()
            self.request = request

    def compose_body(self) -> ComposeResult:
        changes = self.modify.changes
        look = self.modify.look
        size = human(look.survey.image_bytes) if look is not None and look.survey is not None else "its size"
        folder = str(self.modify.request().artifact.parent)
        shell_ok = can_hand_over_terminal(self.app)
        with Horizontal(id="changes-columns"):
            with VerticalScroll(id="changes-form", classes="column"):
                with Horizontal(classes="switch-row"):
                    yield Switch(changes.upgrade, id="upgrade")
                    yield Label("Upgrade every package")
                yield Label("Script to run in the image (optional)", classes="field-label")
                yield Input(changes.script, placeholder="path/to/script.sh", id="script")
                yield self.problem_line("script")
                with Horizontal(classes="switch-row"):
                    yield Switch(changes.shell and shell_ok, id="shell", disabled=not shell_ok)
                    yield Label("Open a shell in the image")
                yield Static(
                    "The wizard steps aside while the shell runs; what is typed goes to a root-only log. `exit` seals the image, `exit 130` abandons."
                    if shell_ok else "A shell needs the wizard in a real terminal.", id="shell-note")
                yield Label(f"Grow the filesystem to (it is {size} now)", classes="field-label")
                yield Input(changes.grow, placeholder="4.5G", id="grow")
                yield self.problem_line("grow")
                yield Label("New image_version (empty: today)", classes="field-label")
                yield Input(changes.version, placeholder=f"{self.modify.today:%Y.%m.%d}", id="version")
                yield self.problem_line("version")
                yield Label("Folder for the new artifact", classes="field-label")
                yield Input(changes.output, placeholder=f"beside the original ({folder})", id="output")
                yield self.problem_line("output")
            with Vertical(id="plan-box", classes="column"):
                yield Static(id="plan")
                yield self.problem_line("plan")
                yield Static(Content.assemble(("Trust: ", "bold $warning"), TRUST_STATEMENT), id="trust-note")

    def compose_nav(self) -> ComposeResult:
        yield Button("Back", id="back")
        yield Static(id="nav-note")
        yield Button("Start modify…", id="next", variant="primary")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#plan-box").border_title = "the modify will"

    @on(Switch.Changed)
    def _switched(self, event: Switch.Changed) -> None:
        if event.switch.id in ("upgrade", "shell"):
            self.modify.set_change(event.switch.id, event.value)
            self.refresh_state()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input.id in ("script", "grow", "version", "output"):
            self.modify.set_change(event.input.id, event.value)
            self.refresh_state()

    def state_refreshed(self) -> None:
        # The plan names the artifact and packages, some read from the image's stored answers.
        lines = [Content.assemble(("• ", "$accent"), printable(line)) for line in self.modify.plan()]
        update_if_changed(self.query_one("#plan", Static), Content("\n").join(lines))
        # After the frame's own drawing (which enables Start when the state has no problem): the folder holds it back too.
        blocked = self.output_problem() is not None
        if blocked:
            for button in self.query("#next"):
                button.disabled = True
            note = "Fix the problems above to go on." if self.modify.problems() else "Choose another folder for the new artifact."
            update_if_changed(self.query_one("#nav-note", Static), note)
        if blocked != self._output_blocked:
            self._output_blocked = blocked
            self.refresh_bindings()

    _output_blocked = False

    def output_problem(self) -> str | None:
        """Why the new artifact's folder will not do (typed, or the original's), checked here: the state does not."""
        typed = self.modify.changes.output.strip()
        artifact = Path(self.modify.artifact_text.strip()).expanduser()
        if not typed and not artifact.name:
            return None
        folder = Path(typed).expanduser() if typed else artifact.parent
        try:
            need = artifact.stat().st_size if artifact.is_file() else 0
        except OSError:
            need = 0
        return output_folder_problem(folder.absolute(), need)

    def show_problems(self, problems: list[Problem], notes: list[Problem]) -> None:
        super().show_problems(problems, notes)
        own = self.output_problem()
        if own is None or not self.is_mounted or not self.has_body:
            return
        line = self.query_one("#output-problem", Static)
        found = [p for p in problems if p.key == "changes.output"] + [Problem("", 0, 0, "changes.output", own)]
        update_if_changed(line, problem_lines(found, with_key=False))
        line.set_class(True, "-shown")
        self.query_one("#output").set_class(True, "-problem")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next" and self.output_problem() is not None:
            return None
        return super().check_action(action, parameters)

    def action_save(self) -> None:
        """Save the answers the modified image will carry (its own, with the packages and metadata changed here)."""
        name = Path(self.modify.artifact_text.strip()).name or "modify"
        for suffix in (".tgz", ".tar.gz", ".tar.zst", ".tar.xz", ".tar", ".img"):
            name = name.removesuffix(suffix)
        ask_save_answers(self, lambda: self.modify.answers, Path(f"{name}-answers.yaml"), self._saved)

    def _saved(self, path: Path) -> None:
        self.modify.mark_saved(path)
        self.query_one("#back", Button).focus()  # never Start: the next Enter must not start anything

    def action_next(self) -> None:
        """Start modify…: with no problem, and only after the dialog naming what runs as root is confirmed."""
        state = self.modify
        why = self.output_problem()
        if state.problems() or why:
            self.app.bell()
            if why:
                self.notify(f"Folder for the new artifact: {why}", severity="error", markup=False)
            return
        request = state.request()
        dialog = ConfirmRoot(f"Modify {request.artifact.name} as root?", modify_root_lines(request), "Modify as root")
        self.app.push_screen(dialog, self._start_confirmed)

    def _start_confirmed(self, confirmed: bool | None) -> None:
        state = self.modify
        if not confirmed or state.problems() or self.output_problem():
            return
        state.finished.add(self.STEP)
        request = state.request()
        if request.shell:
            request.shell_wrapper = terminal_handover(self.app)
        self.post_message(self.Start(request))
