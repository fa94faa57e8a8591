"""The boot-test screen: the eight checks ticked off live, the guest's console, and cancel.

The boot runs `core.boottest.BootTest` in a thread worker. Console lines and
checks go through the build's `EventBatcher` (one sink, so their order holds)
and reach the screen as `BuildEvents` batches, never one message per line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

from emi_tui.engine.boot.boottest import CHECK_NAMES, Check
from emi_tui.engine.text import printable
from emi_tui.tui.messages import BuildEnded, BuildEvents
from emi_tui.tui.widgets.header import ScreenHeader
from emi_tui.tui.widgets.log_view import LogView
from emi_tui.tui.workers.build_worker import EventBatcher

#: runner(artifact, ssh_user=..., on_line=..., on_check=..., cancel=...) -> BootReport
BootRunner = Callable[..., Any]


def default_boot_runner(artifact: Path, *, ssh_user: str, on_line, on_check, cancel) -> Any:
    from emi_tui.engine.boot.boottest import BootTest

    return BootTest(artifact, ssh_user=ssh_user, on_line=on_line, on_check=on_check, cancel=cancel).run()


class BootTestScreen(Screen):
    """Boot one artifact in QEMU and show what its checks prove."""

    DEFAULT_CSS = """
    BootTestScreen #boot-body { padding: 0 1; }
    BootTestScreen #checks { height: auto; border: round $primary 50%; padding: 0 1; }
    BootTestScreen #boot-status { height: auto; margin: 1 0 0 0; }
    BootTestScreen #console { height: 1fr; min-height: 6; }
    BootTestScreen #boot-buttons { height: auto; }
    BootTestScreen #boot-buttons Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel the boot test"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, artifact: Path, ssh_user: str = "root", runner: BootRunner | None = None, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.artifact = Path(artifact)
        self.ssh_user = ssh_user
        self.runner = runner or default_boot_runner
        self.cancel = threading.Event()
        self.checks: dict[str, Check | None] = dict.fromkeys(CHECK_NAMES)
        self.report: Any = None
        self.error: str | None = None
        self.finished = False
        self.sub_title = f"boot test · {printable(self.artifact.name)}"

    def stop_running(self) -> None:
        """Stop the boot test (the app is going away): QEMU and the metadata service are stopped."""
        self.cancel.set()

    def compose(self) -> ComposeResult:
        yield ScreenHeader()
        with Vertical(id="boot-body"):
            checks = Static(id="checks")
            checks.border_title = "checks"
            yield checks
            # Content, not a markup string: an artifact's name is the operator's file, not our words.
            yield Static(Content(f"Booting {printable(self.artifact.name)}…"), id="boot-status")
            console = LogView(id="console")
            console.border_title = "console"
            yield console
            with Horizontal(id="boot-buttons"):
                yield Button("Cancel (esc)", id="cancel", variant="error")
                yield Button("Back (esc)", id="back", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self._render_checks()
        self._run()

    # -- the worker --------------------------------------------------------------

    @work(thread=True, exclusive=True, group="boottest", exit_on_error=False)
    def _run(self) -> None:
        post = self.post_message
        batcher = EventBatcher(lambda events, ack: post(BuildEvents(events, ack)), cancel=self.cancel,
                               abandoned=lambda: not self.is_attached).start()
        report, error = None, None
        try:
            report = self.runner(self.artifact, ssh_user=self.ssh_user, on_line=batcher, on_check=batcher, cancel=self.cancel)
        except Exception as exc:  # shown, not lost
            error = f"{type(exc).__name__}: {exc}"
        finally:
            batcher.close()
        post(BuildEnded(report, error))

    @on(BuildEvents)
    def _events(self, message: BuildEvents) -> None:
        lines: list[str] = []
        changed = False
        for event in message.events:
            if isinstance(event, Check):
                self.checks[event.name] = Check(event.name, event.passed, event.seconds, event.detail)
                changed = True
            else:
                lines.append(str(event))
        self.query_one("#console", LogView).add_lines(lines)
        if changed:
            self._render_checks()
        message.ack()

    @on(BuildEnded)
    def _ended(self, message: BuildEnded) -> None:
        self.finished = True
        self.report, self.error = message.result, message.error
        report = message.result
        if report is not None:
            for check in getattr(report, "checks", ()):
                self.checks[check.name] = check
        self._render_checks()
        status = self.query_one("#boot-status", Static)
        if message.error:
            status.update(Content.styled(f"✗ the boot test stopped: {printable(message.error)}", "$text-error"))
        elif report is None:
            status.update(Content.styled("✗ the boot test returned nothing", "$text-error"))
        else:
            ok = getattr(report, "ok", False)
            words = [("✓ all checks passed" if ok else "✗ some checks failed") + (" (cancelled)" if self.cancel.is_set() else "")]
            words.append(f"accel {getattr(report, 'accel', '?')}")
            seconds = getattr(report, "seconds", None)
            if seconds is not None:
                words.append(f"{seconds:.0f}s")
            log = getattr(report, "console_log", None)
            if log:
                words.append(f"console log {printable(str(log))}")
            lines = [Content.styled(" · ".join(words), "$success" if ok else "$text-error")]
            lines += [Content.styled(f"• {printable(str(note))}", "$warning") for note in getattr(report, "notes", ()) or ()]
            status.update(Content("\n").join(lines))
        # Nothing is left to cancel: the button goes, and Back (the same Escape) takes its place.
        self.query_one("#cancel", Button).display = False
        back = self.query_one("#back", Button)
        back.disabled = False
        back.focus()
        self.refresh_bindings()

    def _render_checks(self) -> None:
        rows: list[Content] = []
        # CHECK_NAMES first, then the checks only some boots have (a grown root, vd* names), as they come.
        for name in self.checks:
            check = self.checks.get(name)
            if check is None:
                rows.append(Content.assemble(("·  ", "$text-muted"), (name.ljust(28), "$text-muted"), ("pending", "$text-muted")))
                continue
            seconds = f"  {check.seconds:.1f}s" if check.seconds is not None else ""
            detail = f"  {printable(check.detail)}" if check.detail else ""  # may quote the guest
            if check.passed:
                rows.append(Content.assemble(("✓  ", "$success"), name.ljust(28), ("pass", "$success"), seconds, (detail, "$text-muted")))
            else:
                rows.append(Content.assemble(("✗  ", "$text-error"), name.ljust(28), ("FAIL", "$text-error bold"), seconds, (detail, "$text-muted")))
        self.query_one("#checks", Static).update(Content("\n").join(rows))

    # -- actions -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return not self.finished
        if action == "back":
            return self.finished
        return True

    def action_back(self) -> None:
        if self.finished:
            self.dismiss(self.report)

    def action_cancel(self) -> None:
        if self.finished:  # only a click already on its way: Escape is Back by then and the button is hidden
            self.action_back()
        elif not self.cancel.is_set():
            self.cancel.set()
            self.query_one("#boot-status", Static).update(Content.styled("Cancelling: stopping QEMU and cleaning up…", "$warning"))

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()
