"""The done screen: the image-id written, the artifacts with sizes and sha256, how to register them.

A sha256 comes from the `<tarball>.sha256` file the build writes beside the
tarball when there is one (reading it is instant); otherwise a thread worker
computes it, showing progress for big files. The euca2ools commands sit in a
read-only TextArea (select and copy) and `c` sends them to the terminal's
clipboard (OSC 52 has no answer, so the toast never claims they arrived).
A dry run shows its plan, the steps and the commands a real build would
run. After a boot test, its result stays on this screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Static, TextArea
from textual.worker import get_current_worker

from emi_tui.engine.artifact.checksum import ChecksumCancelled, read_sha256_file, sha256_file
from emi_tui.engine.artifact.kinds import is_tarball
from emi_tui.engine.artifact.register import register_commands
from emi_tui.engine.sizes import human
from emi_tui.engine.text import printable
from emi_tui.tui.messages import ChecksumDone, ChecksumProgress
from emi_tui.tui.screens.job.log_tools import SENT_TO_CLIPBOARD
from emi_tui.tui.widgets.header import ScreenHeader
from emi_tui.tui.widgets.image_id_diff import ImageIdDiff, image_id_fields


def _modify_diff(outcome: Any, facts: dict) -> tuple | None:
    """(old image-id, added, removed, upgraded) from a ModifyResult or a modify's JobDone details."""
    if hasattr(outcome, "old_image_id"):
        return (outcome.old_image_id, outcome.added, outcome.removed, outcome.upgraded)
    if "old_image_id" in facts:
        return (facts["old_image_id"], facts.get("added", {}), facts.get("removed", {}), facts.get("upgraded", {}))
    return None


class DoneScreen(Screen):
    """What a finished build (or modify) wrote, and the commands that put it in a cloud.

    `outcome` is the engine's BuildResult, a ModifyResult or a JobDone
    event: all have `artifacts` and `image_id`; facts (BuildResult) or details
    (JobDone) may name the kernel files. A modify's outcome also carries the
    old image-id and the package diff, shown above the artifacts.
    """

    DEFAULT_CSS = """
    DoneScreen #done-body { padding: 0 1; }
    DoneScreen #headline { margin: 1 0; }
    DoneScreen #image-id, DoneScreen #artifacts {
        height: auto; border: round $primary 50%; padding: 0 1; margin-bottom: 1;
    }
    DoneScreen #commands { height: auto; max-height: 24; border: round $primary 50%; }
    DoneScreen #plan { height: auto; max-height: 20; border: round $primary 50%; margin-bottom: 1; }
    DoneScreen #plan:focus { border: round $primary; }
    DoneScreen #boot-result { display: none; height: auto; border: round $success; padding: 0 1; margin-bottom: 1; }
    DoneScreen #boot-result.-shown { display: block; }
    DoneScreen #boot-result.-failed { border: round $error; }
    DoneScreen #commands:focus { border: round $primary; }
    DoneScreen #done-buttons { height: auto; margin-top: 1; }
    DoneScreen #done-buttons Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("c", "copy_commands", "Copy commands"),
        Binding("b", "boot_test", "Boot test"),
        Binding("escape", "back", "Back"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self, outcome: Any, answers: Any = None, *, dry_run: bool = False, plan: str = "", name: str | None = None, id: str | None = None,
    ) -> None:
        """`plan` is a dry run's plan (its steps and commands), shown in place of what a real build writes."""
        super().__init__(name=name, id=id)
        self.answers = answers
        self.dry_run = dry_run
        self.plan = plan
        #: The last boot test's outcome: (passed, words), or None when none ran.
        self.boot_result: tuple[bool, str] | None = None
        self.artifacts = [Path(p) for p in getattr(outcome, "artifacts", None) or ()]
        self.image_id = getattr(outcome, "image_id", "") or ""
        self.seconds = getattr(outcome, "seconds", None)
        facts = getattr(outcome, "facts", None) or getattr(outcome, "details", None) or {}
        self.kernel_files = [Path(p).name for p in facts.get("kernel_files", ())]
        #: (old image-id, added, removed, upgraded) when the outcome is a modify's, else None.
        self.modify_diff = _modify_diff(outcome, facts)
        image = getattr(answers, "image", None)
        written = image_id_fields(self.image_id)
        self.bucket = getattr(image, "name", None) or written.get("image_name") or "BUCKET"
        # A modify keeps the artifact's layout: a tarball carries its kernel, a bare image does not.
        kernel = bool(getattr(answers, "kernel", True)) if answers is not None else any(is_tarball(p) for p in self.artifacts)
        self.commands = register_commands(
            self.artifacts, getattr(image, "file", None) or written.get("image_file"), self.kernel_files, kernel, self.bucket
        )
        self.checksums: dict[Path, str | None] = {}
        self._progress: dict[Path, float] = {}
        self._sources: dict[Path, str] = {}
        self.sub_title = "dry run finished" if dry_run else ("image modified" if self.modify_diff else "image built")
        #: The tarball a boot test boots (None for a dry run, or when there is none).
        self.boot_artifact = None if dry_run else next((p for p in self.artifacts if is_tarball(p)), None)

    def compose(self) -> ComposeResult:
        yield ScreenHeader()
        with VerticalScroll(id="done-body"):
            yield Static(self._headline(), id="headline")
            yield Static(id="boot-result")
            if self.dry_run and self.plan:
                plan = TextArea(self.plan, read_only=True, soft_wrap=False, id="plan")
                plan.border_title = "the plan: what a real build would run"
                yield plan
            if self.modify_diff is not None:
                yield ImageIdDiff(*self.modify_diff[:1], self.image_id, *self.modify_diff[1:], id="modify-diff")
            image_id = Static(Content(printable(self.image_id.rstrip("\n"), keep_newlines=True) or "(not written)"), id="image-id")
            image_id.border_title = "/etc/image-id"
            yield image_id
            artifacts = Static(id="artifacts")
            artifacts.border_title = "artifacts"
            yield artifacts
            commands = TextArea(self.commands, read_only=True, soft_wrap=False, id="commands")
            commands.border_title = f"register with the cloud (bucket {self.bucket})"
            yield commands
            with Horizontal(id="done-buttons"):
                yield Button("Copy commands (c)", variant="primary", id="copy")
                yield Button("Boot test (b)", id="boot-test", disabled=self.boot_artifact is None)
                yield Button("Back (esc)", id="back")
        yield Footer()

    def on_mount(self) -> None:
        self._render_artifacts()
        if self.artifacts:
            self._checksum_all(list(self.artifacts))

    def _headline(self) -> Content:
        if self.dry_run:
            return Content.assemble(("✓ ", "$success"), ("Dry run finished", "bold"), ": nothing was written.")
        took = f" in {int(self.seconds) // 60}:{int(self.seconds) % 60:02d}" if self.seconds is not None else ""
        done = "Image modified" if self.modify_diff is not None else "Image built"
        tail = " The original is unchanged." if self.modify_diff is not None else ""
        return Content.assemble(("✓ ", "$success"), (f"{done}{took}", "bold"), f": {len(self.artifacts)} files written.{tail}")

    @work(thread=True, exclusive=True, group="sha256", exit_on_error=False)
    def _checksum_all(self, paths: list[Path]) -> None:
        worker = get_current_worker()
        for path in paths:
            if worker.is_cancelled:
                return
            try:
                if not path.is_file():
                    self.post_message(ChecksumDone(path, None, "missing"))
                    continue
                digest = read_sha256_file(path)
                if digest is not None:
                    self.post_message(ChecksumDone(path, digest, "from .sha256"))
                    continue
                digest = sha256_file(
                    path, lambda done, total, path=path: self.post_message(ChecksumProgress(path, done, total)), lambda: worker.is_cancelled
                )
                self.post_message(ChecksumDone(path, digest, "computed"))
            except ChecksumCancelled:
                return
            except OSError as exc:
                self.post_message(ChecksumDone(path, None, f"unreadable: {exc.strerror or exc}"))

    @on(ChecksumProgress)
    def _checksum_progress(self, message: ChecksumProgress) -> None:
        self._progress[message.path] = message.done / message.total if message.total else 1.0
        self._render_artifacts()

    @on(ChecksumDone)
    def _checksum_done(self, message: ChecksumDone) -> None:
        self.checksums[message.path] = message.digest
        self._sources[message.path] = message.source
        self._render_artifacts()

    def _render_artifacts(self) -> None:
        if not self.artifacts:
            self.query_one("#artifacts", Static).update("no files were written" if self.dry_run else "the build reported no files")
            return
        width = max(len(p.name) for p in self.artifacts)
        rows: list[Content] = []
        for path in self.artifacts:
            try:
                size = human(path.stat().st_size)
            except OSError:
                size = "missing"
            rows.append(Content.assemble((f"{path.name:<{width}}", "bold"), f"  {size:>9}"))
            if path in self.checksums:
                digest = self.checksums[path]
                source = self._sources.get(path, "")
                if digest:
                    rows.append(Content.assemble(("  sha256 ", "$text-muted"), digest, (f"  {source}", "$text-muted")))
                else:
                    rows.append(Content.styled(f"  sha256 not available: {source}", "$warning"))
            else:
                share = self._progress.get(path)
                note = f"computing… {share:.0%}" if share is not None else "waiting…"
                rows.append(Content.styled(f"  sha256 {note}", "$text-muted"))
        folder = self.artifacts[0].parent
        rows.append(Content.styled(f"in {folder}", "$text-muted"))
        self.query_one("#artifacts", Static).update(Content("\n").join(rows))

    def action_copy_commands(self) -> None:
        self.app.copy_to_clipboard(self.commands)
        # OSC 52 has no answer: the terminal may ignore it, so the toast says what was done, not that it worked.
        self.notify("the registration commands; or select them above and copy them", title=SENT_TO_CLIPBOARD)

    def action_boot_test(self) -> None:
        if self.boot_artifact is None:
            self.app.bell()
            return
        from emi_tui.tui.screens.job.boottest import BootTestScreen

        screen = BootTestScreen(self.boot_artifact)
        self.app.push_screen(screen, lambda _report: self.show_boot_result(screen))

    def show_boot_result(self, screen: Any) -> None:
        """Keep the boot test's result on this screen (`screen` is the BootTestScreen that ran it)."""
        result = boot_test_result(screen)
        if result is None:
            return
        self.boot_result = result
        passed, words = result
        box = self.query_one("#boot-result", Static)
        box.border_title = "boot test"
        box.update(Content.styled(words, "$text-success" if passed else "$text-error"))
        box.set_class(not passed, "-failed")
        box.add_class("-shown")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "boot_test":
            return self.boot_artifact is not None  # hidden from the footer for a dry run
        return True

    def action_back(self) -> None:
        self.dismiss()

    async def action_quit(self) -> None:
        # The app's one way out (ctrl+q's): it asks first whenever answers would be lost.
        await self.app.run_action("quit")

    @on(Button.Pressed, "#copy")
    def _copy_pressed(self) -> None:
        self.action_copy_commands()

    @on(Button.Pressed, "#boot-test")
    def _boot_test_pressed(self) -> None:
        self.action_boot_test()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()


def boot_test_result(screen: Any) -> tuple[bool, str] | None:
    """(passed, a line saying so) for a finished boot test screen; None when it never finished."""
    if not getattr(screen, "finished", False):
        return None
    report, error = getattr(screen, "report", None), getattr(screen, "error", None)
    cancelled = screen.cancel.is_set() if getattr(screen, "cancel", None) is not None else False
    if error or report is None:
        return False, f"✗ the boot test stopped: {printable(error or 'it returned nothing')}"
    checks = list(getattr(report, "checks", ()) or ())
    failed = [printable(c.name) for c in checks if not c.passed]
    if getattr(report, "ok", False) and not cancelled:
        words = f"✓ all {len(checks)} checks passed"
    elif cancelled:
        words = f"■ cancelled after {sum(c.passed for c in checks)} of {len(checks)} checks passed"
    else:
        words = f"✗ {len(failed)} of {len(checks)} checks failed: {', '.join(failed)}"
    seconds = getattr(report, "seconds", None)
    extra = [f"accel {printable(str(getattr(report, 'accel', '?')))}"] + ([f"{seconds:.0f} s"] if seconds is not None else [])
    log = getattr(report, "console_log", None)
    if log:
        extra.append(f"console log {printable(str(log))}")
    return bool(getattr(report, "ok", False)) and not cancelled, " · ".join([words, *extra])
