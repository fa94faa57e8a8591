"""The first screen: start a build, open an answer file, review image-ids, release a catalog, or pick a recent build.

What the operator chooses here is posted as a message (`HomeScreen.NewBuild`,
`.OpenAnswers`, …) that the App handles: the App owns the wizard's state and flow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from emi_tui.engine.errors import Problem
from emi_tui.engine.text import printable
from emi_tui.tui.screens.step import steady_inputs
from emi_tui.tui.state.wizard_state import RecentBuild, WizardState, history_dir, recent_builds, tilde
from emi_tui.tui.widgets.header import ScreenHeader

WELCOME = (
    "Build the small starter machine images (EMIs) that Eucalyptus and EC2-style clouds boot: "
    "an ext3 root with no partition table, a trimmed package list and a metadata-aware rc.local."
)


#: How each outcome of a recent build is drawn.
OUTCOME_LOOK = {"built": "$success", "failed": "$text-error", "cancelled": "$text-warning", "dry run": "$text-accent"}


def recent_label(build: RecentBuild) -> Content:
    """A recent build: its image's name; how it ended (a dry run says so) and when; what it was."""
    started = build.started
    when = f"{started.day} {started:%b %H:%M}" if started else ""
    status = build.outcome or "no result recorded"
    # Three short lines rather than one long one: at 80 columns a long line would wrap mid-word.
    return Content.assemble(
        (printable(build.name), "bold"), "\n  ", (status, OUTCOME_LOOK.get(status, "$text-muted")),
        (f" · {when}" if when else "", "$text-muted"), "\n  ", (printable(build.summary), "$text-muted"),
    )


class HomeScreen(Screen):
    """Where every session starts; `show_open_problems` explains an answer file that could not be opened."""

    AUTO_FOCUS = "#new"
    #: Under 30 rows (80x24) the actions sit closer together (app.tcss `-short`), and scroll when they still do not fit.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        # Short words: at 80 columns the footer holds every key (the buttons say the rest).
        Binding("ctrl+n", "new_build", "New", priority=True, tooltip="New build"),
        Binding("ctrl+o", "open", "Open", priority=True, tooltip="Open an answer file"),
        Binding("ctrl+r", "review", "Review", priority=True, tooltip="Review image-ids"),
        Binding("ctrl+l", "recent", "Recent", tooltip="Recent builds"),
        Binding("ctrl+g", "continue_build", "Continue", tooltip="Continue the build in progress"),
        Binding("ctrl+e", "modify", "Modify", tooltip="Modify an existing image"),
        # Not in the footer: at 80 columns it would push Continue out (the button, the help and the palette have it).
        Binding("ctrl+k", "release_catalog", "Release a catalog", show=False),
        # Like ctrl+q, not in the footer (the help and the palette have it): Escape here asks before quitting.
        Binding("escape", "app.confirm_quit", "Quit", show=False),
    ]

    class NewBuild(Message):
        """Start a new build from fresh answers."""

    class NewModify(Message):
        """Start modifying an existing image."""

    class ContinueBuild(Message):
        """Take up the build (or modify) in progress again."""

    class Review(Message):
        """Open the image-id review."""

    class ReleaseCatalog(Message):
        """Pick a family of images and release them together, with their EMI-IDs catalog."""

    class OpenAnswers(Message):
        """Open the answer file at `path` in the wizard."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, in_progress: Callable[[], WizardState | None]) -> None:
        """`in_progress` says which build or modify the wizard holds now (None: nothing yet), for Continue."""
        super().__init__()
        self._in_progress = in_progress

    def compose(self) -> ComposeResult:
        yield ScreenHeader(show_clock=False)
        with Horizontal(id="home"):
            with Vertical(id="home-actions", classes="column"):
                yield Static(WELCOME, id="welcome")
                yield Button("New build", id="new", variant="primary")
                yield Button("Continue the build in progress", id="continue")
                yield Label("Open an answer file", classes="field-label")
                with Horizontal(id="open-row"):
                    yield Input(placeholder="path/to/answers.yaml", id="answers-path")
                    yield Button("Open", id="open")
                yield Static(id="open-problems")
                yield Button("Review image-ids", id="review")
                yield Button("Modify an existing image", id="modify")
                yield Button("Release a catalog", id="catalog")
            with Vertical(id="home-recent", classes="column"):
                yield Label("Recent builds", classes="field-label")
                yield OptionList(id="recent")
                yield Static(id="recent-empty")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        steady_inputs(self)
        self.refresh_home()

    def on_screen_resume(self) -> None:
        self.refresh_home()

    def refresh_home(self) -> None:
        """Redraw what changes between visits: the build in progress and the recent builds."""
        self.sub_title = "home"
        state = self._in_progress()
        self.query_one("#continue", Button).display = state is not None
        if state is not None:
            self.query_one("#continue", Button).label = f"Continue the {state.kind} in progress"
        self.refresh_bindings()
        listing = self.query_one("#recent", OptionList)
        listing.clear_options()
        builds = recent_builds(history_dir())
        for build in builds:
            listing.add_option(Option(recent_label(build), id=str(build.path)))
        listing.display = bool(builds)
        empty = self.query_one("#recent-empty", Static)
        empty.display = not builds
        empty.update(
            Content.from_markup(
                "[dim]No builds yet. Every build started here keeps its answers, listed here, in[/]\n$dir",
                dir=tilde(history_dir()),
            )
        )

    def show_open_problems(self, path: Path, problems: list[Problem]) -> None:
        """Explain why `path` cannot be opened in the wizard, problem by problem."""
        box = self.query_one("#open-problems", Static)
        lines = [Content.from_markup("[$text-error b]Cannot open $path:[/] fix the file, then open it again.", path=printable(str(path)))]
        for problem in problems:
            lines.append(Content.from_markup("  [$text-error]✗[/] $problem", problem=printable(str(problem))))
        box.update(Content("\n").join(lines))
        box.set_class(True, "-shown")
        self.query_one("#answers-path", Input).value = str(path)

    def clear_open_problems(self) -> None:
        box = self.query_one("#open-problems", Static)
        box.update("")
        box.set_class(False, "-shown")

    # -- actions -------------------------------------------------------------------

    def action_new_build(self) -> None:
        self.clear_open_problems()
        self.post_message(self.NewBuild())

    def action_open(self) -> None:
        field = self.query_one("#answers-path", Input)
        if field.has_focus and field.value.strip():
            self._open_typed()
        else:
            field.focus()

    def action_review(self) -> None:
        self.post_message(self.Review())

    def action_modify(self) -> None:
        self.clear_open_problems()
        self.post_message(self.NewModify())

    @on(Button.Pressed, "#modify")
    def _modify_pressed(self) -> None:
        self.action_modify()

    def action_release_catalog(self) -> None:
        self.clear_open_problems()
        self.post_message(self.ReleaseCatalog())

    @on(Button.Pressed, "#catalog")
    def _catalog_pressed(self) -> None:
        self.action_release_catalog()

    def action_continue_build(self) -> None:
        if self._in_progress() is not None:
            self.post_message(self.ContinueBuild())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "continue_build":
            return self._in_progress() is not None  # hidden from the footer until there is one
        return True

    def action_recent(self) -> None:
        listing = self.query_one("#recent", OptionList)
        if listing.display:
            listing.focus()
            if listing.highlighted is None:
                listing.highlighted = 0

    @on(Button.Pressed, "#new")
    def _new_pressed(self) -> None:
        self.action_new_build()

    @on(Button.Pressed, "#continue")
    def _continue_pressed(self) -> None:
        self.action_continue_build()

    @on(Button.Pressed, "#review")
    def _review_pressed(self) -> None:
        self.action_review()

    @on(Input.Submitted, "#answers-path")
    @on(Button.Pressed, "#open")
    def _open_typed(self) -> None:
        text = self.query_one("#answers-path", Input).value.strip()
        if not text:
            self.query_one("#answers-path", Input).focus()
            return
        self.clear_open_problems()
        self.post_message(self.OpenAnswers(Path(text).expanduser()))

    @on(OptionList.OptionSelected, "#recent")
    def _recent_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.clear_open_problems()
            self.post_message(self.OpenAnswers(Path(event.option.id)))
