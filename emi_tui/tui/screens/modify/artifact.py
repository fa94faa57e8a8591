"""Modify, step 1, Artifact: pick the image to change, see its /etc/image-id and the review's findings.

Reading an artifact (its layout, then its image-id, stored answers and
hygiene) means unpacking its image, which takes seconds: a thread worker does
it and posts `ArtifactRead`. What it finds pre-fills the Packages and
Metadata steps (`ModifyState.load`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, Static

from emi_tui.engine.paths_check import output_folder_problem
from emi_tui.engine.sizes import human
from emi_tui.engine.text import printable
from emi_tui.tui.screens.modify.base import ModifyStepScreen
from emi_tui.tui.state.modify_state import ArtifactLook, artifact_problem
from emi_tui.tui.state.wizard_state import WizardState

#: Seconds of quiet typing before the artifact path is judged and read.
TYPING_PAUSE = 0.3


class ArtifactRead(Message):
    """The worker's answer about one artifact."""

    def __init__(self, look: ArtifactLook) -> None:
        super().__init__()
        self.look = look


def read_artifact(text: str) -> ArtifactLook:
    """Survey and review the artifact at `text` (slow: run it off the UI loop)."""
    from emi_tui.engine.artifact.survey import survey_artifact
    from emi_tui.engine.errors import EmiError
    from emi_tui.engine.review.review import review_paths

    path = Path(text.strip()).expanduser()
    try:
        survey = survey_artifact(path)
    except EmiError as exc:
        return ArtifactLook(text, error=f"{exc.message}: {exc.hint}" if exc.hint else exc.message)
    return ArtifactLook(text, survey=survey, entries=review_paths([path]))


def look_lines(look: ArtifactLook) -> list[Content]:
    """The artifact's layout, its image-id fields, the review's findings and failed hygiene checks.

    All of it is the artifact's own text (member names, image-id fields, findings quoting them):
    made printable, and shown as Content, which reads no markup.
    """
    survey = look.survey
    lines: list[Content] = []
    if survey is not None:
        where = f"{printable(str(survey.image_member))} in a {survey.compress} tarball" if survey.kind == "tarball" else "a bare image"
        lines.append(Content.styled(f"{where}, {human(survey.image_bytes)} filesystem", "$text-muted"))
    for entry in look.entries:
        for key, value in (getattr(entry, "fields", None) or {}).items():
            lines.append(Content.assemble((printable(key), "bold"), f" = {printable(value)}"))
        check = getattr(entry, "stamp_check", None)
        if check is not None and getattr(entry, "fields", None):
            lines.append(Content.styled(f"stamp {printable(check.describe())}", "$success" if check.verified else "$warning"))
        for finding in getattr(entry, "problems", ()) or ():
            error = finding.severity == "error"
            where = f"{printable(finding.field)}: " if finding.field else ""
            lines.append(Content.styled(f"{'✗' if error else '•'} {where}{printable(finding.message)}", "$text-error" if error else "$warning"))
        hygiene = getattr(entry, "hygiene", None) or ()
        for item in hygiene:
            if not item.ok:
                lines.append(Content.styled(f"• {printable(item.name)}: {printable(item.detail)}", "$warning"))
        if hygiene and all(item.ok for item in hygiene):
            lines.append(Content.styled(f"hygiene: all {len(hygiene)} checks pass", "$success"))
    return lines or [Content.styled("no image-id found", "$warning")]


class ArtifactScreen(ModifyStepScreen):
    """The artifact field, what the artifact holds now, and an optional answer file for the metadata."""

    STEP = "artifact"
    INTRO = ("The image to change: an emi-tui artifact (.tgz, .tar.zst, .tar.xz), a starter-image tarball, "
             "or a bare ext2/3/4 .img. It is only read: the result is a new artifact beside it.")
    FIELDS = {"artifact": "artifact", "artifact.answers": "answers-file"}
    NEEDS_RECIPE = False
    AUTO_FOCUS = "#artifact"
    _typing: Timer | None = None
    DEFAULT_CSS = """
    ArtifactScreen #current { height: auto; border: round $primary 50%; padding: 0 1; margin: 1 0; }
    ArtifactScreen #prefill { color: $text-muted; height: auto; }
    """

    def __init__(self, wizard: WizardState, *, artifact_reader: Callable[[str], ArtifactLook]) -> None:
        """`artifact_reader` surveys and reviews the artifact at a typed path (slow: called off the UI loop)."""
        super().__init__(wizard)
        self._artifact_reader = artifact_reader

    def compose_body(self) -> ComposeResult:
        state = self.modify
        yield Label("Artifact to modify", classes="field-label")
        yield Input(state.artifact_text, placeholder="path/to/euca-….tgz", id="artifact")
        yield self.problem_line("artifact")
        current = Static(Content.styled("pick an artifact to see its image-id", "$text-muted"), id="current")
        current.border_title = "current /etc/image-id"
        yield current
        yield Static(id="prefill")
        yield Label("Take the metadata options from an answer file (optional)", classes="field-label")
        yield Input(str(state.metadata_file or ""), placeholder="path/to/answers.yaml", id="answers-file")
        yield self.problem_line("answers-file")

    def on_mount(self) -> None:
        super().on_mount()
        if self.modify.look is not None and self.modify.look.text == self.modify.artifact_text:
            self._show_look(self.modify.look)

    @on(Input.Changed, "#artifact")
    def _artifact_changed(self, event: Input.Changed) -> None:
        # A path is typed a character at a time: it is judged (and read) once typing pauses,
        # not at every key, where "no file at /t", "no file at /tm"… would redraw the screen.
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE, self._take_artifact)

    def _take_artifact(self) -> None:
        self._typing = None
        text = self.query_one("#artifact", Input).value
        state = self.modify
        state.set_artifact(text)
        if artifact_problem(text) is None and (state.look is None or state.look.text != text):
            self.query_one("#current", Static).update(Content.styled("reading the artifact…", "$text-muted"))
            self._read(text)
        self.refresh_state()

    def action_next(self) -> None:
        if self._typing is not None:  # Next right after typing: judge what is typed now
            self._typing.stop()
            self._take_artifact()
        super().action_next()

    @work(thread=True, exclusive=True, group="artifact", exit_on_error=False)
    def _read(self, text: str) -> None:
        try:
            look = self._artifact_reader(text)
        except Exception as exc:  # a reader that raises is a bug; the operator still gets a message
            look = ArtifactLook(text, error=f"cannot read it: {type(exc).__name__}: {exc}")
        self.post_message(ArtifactRead(look))

    @on(ArtifactRead)
    def _artifact_read(self, message: ArtifactRead) -> None:
        if self.modify.load(message.look):
            self._show_look(message.look)
            self.refresh_state()

    def _show_look(self, look: ArtifactLook) -> None:
        current = self.query_one("#current", Static)
        if look.error:
            current.update(Content.styled(f"cannot modify it: {printable(look.error)}", "$text-error"))
            self.query_one("#prefill", Static).update("")
            return
        current.update(Content("\n").join(look_lines(look)))
        # The source names a file the operator chose: a str here would be read as markup.
        packages, metadata = printable(self.modify.prefilled_from), printable(self.modify.metadata_from)
        said = (f"The Packages and Metadata steps start from {packages}." if packages == metadata
                else f"The Packages step starts from {packages}, the Metadata step from {metadata}.")
        lines = [Content(said)]
        folder = Path(look.text.strip()).expanduser().parent
        unusable = output_folder_problem(folder)
        if unusable:
            # By default the new artifact goes beside the original: say now that it cannot, not at Start.
            lines.append(Content.styled(f"The new artifact cannot go beside it: {printable(unusable)}. Choose a folder on the Changes step.", "$warning"))
        self.query_one("#prefill", Static).update(Content("\n").join(lines))

    @on(Input.Changed, "#answers-file")
    def _answers_file_changed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        path = Path(text).expanduser() if text else None
        if path is not None and not path.is_file():
            self.query_one("#answers-file-problem", Static).update(Content.styled(f"no file at {printable(str(path))}", "$text-muted"))
            return
        if path != self.modify.metadata_file:
            self.modify.use_answer_file(path)
        self.refresh_state()
        if self.modify.look is not None and not self.modify.look.error:
            self._show_look(self.modify.look)
