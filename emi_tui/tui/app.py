"""The wizard's App: themes, the wizard state, and moving between screens. The screens do the rest.

The App owns the state and the services (the package index, the artifact reader, the
clock) and hands each screen what it uses when it makes it (`step_screen`).
Screens ask for a move by posting a message (`StepScreen.Next`,
`HomeScreen.OpenAnswers`, `SummaryScreen.Build`, …), handled below.

`run_app` is what `emi-tui` (with no command) calls: it checks the theme name
before anything starts, so a typo is one clear error line, not a traceback.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import Recipe, RecipeBook
from emi_tui.engine.build.package_catalog import CatalogLoader, CatalogSource, PackageCatalog, mirror_catalog
from emi_tui.engine.build.readiness import Readiness
from emi_tui.engine.image.imageid import utc_today
from emi_tui.tui.keyboard import binding_commands, unsaved_answers
from emi_tui.tui.screens.modify.artifact import ArtifactScreen, read_artifact
from emi_tui.tui.screens.modify.changes import ChangesScreen
from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.screens.wizard.distro import DistroScreen
from emi_tui.tui.screens.wizard.help import HelpScreen
from emi_tui.tui.screens.wizard.home import HomeScreen
from emi_tui.tui.screens.wizard.image import ImageScreen
from emi_tui.tui.screens.wizard.metadata import MetadataScreen
from emi_tui.tui.screens.wizard.packages import PackagesScreen
from emi_tui.tui.screens.wizard.size import SizeScreen
from emi_tui.tui.screens.wizard.summary import SummaryScreen
from emi_tui.tui.state.config import load_config, remember_theme
from emi_tui.tui.state.modify_state import ArtifactLook, ModifyState
from emi_tui.tui.state.wizard_state import (
    STEP_TITLES,
    WizardState,
    open_answers,
)
from emi_tui.tui.themes import DEFAULT_THEME, all_theme_names, check_theme_name, load_themes
from emi_tui.tui.widgets.path_prompt import PathPrompt


class EmiApp(App[int]):
    """The emi-tui wizard.

    `today`, `now`, `package_catalog`, `artifact_reader`, `modify_runner` and
    `readiness` are injected by tests and screenshots so that dates, the mirror's
    package index, artifacts, modifies and the Summary's checks are fixed; `stable`
    stops cursor blinking and animations for the same reason.
    """

    CSS_PATH = "app.tcss"
    TITLE = "emi-tui"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        # In the help and the palette, not the footer: 80 columns hold a screen's own keys first.
        Binding("ctrl+t", "change_theme", "Theme", show=False),
    ]

    def __init__(
        self,
        answers_path: Path | None = None,
        theme: str | None = None,
        *,
        book: RecipeBook | None = None,
        today: date | None = None,
        now: Callable[[], datetime] | None = None,
        package_catalog: CatalogLoader | None = None,
        artifact_reader: Callable[[str], ArtifactLook] | None = None,
        modify_runner: Callable[..., object] | None = None,
        readiness: Callable[..., Readiness] | None = None,
        themes: tuple[dict[str, Theme], list[str]] | None = None,
        remember: bool = True,
        stable: bool = False,
    ):
        super().__init__()
        self.book = book or RecipeBook()
        self.today = today or utc_today()
        self.now = now or datetime.now
        #: Reads the package index of a mirror, release and arch (slow: the Packages step calls it in a thread).
        self.package_catalog: CatalogLoader = package_catalog or mirror_catalog
        #: The indexes read this session, shared by every visit of the Packages step.
        self.package_catalogs: dict[CatalogSource, PackageCatalog] = {}
        self.artifact_reader: Callable[[str], ArtifactLook] = artifact_reader or read_artifact
        self.modify_runner = modify_runner  # None: the real run_modify
        self.readiness = readiness  # None: the real check_readiness (tests: a stand-in that asks no mirror)
        self.state: WizardState | None = None
        self.answers_path = answers_path
        self._job_ran_from: tuple[int, int] | None = None
        self.stable = stable
        if stable:
            self.animation_level = "none"
        emi_themes, notes = themes or load_themes()
        self.startup_notes = list(notes)
        for custom in emi_themes.values():
            self.register_theme(custom)
        self.startup_notes += [f"recipe ignored: {problem}" for problem in self.book.problems]
        config = load_config()
        if config.problem:
            self.startup_notes.append(config.problem)
        names = all_theme_names(emi_themes)
        if theme is None and config.theme and config.theme not in names:
            self.startup_notes.append(f"the remembered theme {config.theme!r} is gone; using {DEFAULT_THEME}")
        default = DEFAULT_THEME if DEFAULT_THEME in names else "textual-dark"  # a broken install still opens
        chosen = theme or (config.theme if config.theme in names else None) or default
        self._startup_theme = check_theme_name(chosen, emi_themes)
        self._last_theme = self._startup_theme
        self._remember = remember
        self.theme = self._startup_theme  # before mount, so the CSS is built once, in this theme

    async def on_mount(self) -> None:
        self._stop_on_signals()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        await self.push_screen(HomeScreen(in_progress=lambda: self.state))
        for note in self.startup_notes:
            self.notify(note, severity="warning", timeout=10)
        if self.answers_path is not None:
            self.open_answer_file(self.answers_path)

    def _stop_on_signals(self) -> None:
        """SIGTERM, SIGHUP and SIGINT end the app as quitting does, never abruptly.

        Left to Python, SIGTERM would end the process at once, leaving a running
        build's or modify's mounts and loop device behind. Here the running
        screen's cancel event is set, and the app exits: the engine's own
        teardown unmounts, and the process ends once its worker has returned.
        """
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            try:
                loop.add_signal_handler(signum, self._signalled, signum)
            except (NotImplementedError, RuntimeError, ValueError):
                return  # not the main thread (an app under test), or a platform without signals

    def _signalled(self, signum: int) -> None:
        for screen in self.screen_stack:
            stop = getattr(screen, "stop_running", None)
            if callable(stop):
                stop()
        self.exit(return_code=128 + signum)

    def _theme_changed(self, theme: Theme) -> None:
        # Only a change made in the app is remembered, not the start-up theme (--theme is for one run).
        if theme.name == self._last_theme:
            return
        self._last_theme = theme.name
        if self._remember:
            try:
                remember_theme(theme.name)
            except OSError as exc:
                self.notify(f"Cannot remember the theme: {exc}", severity="warning")

    # -- the wizard's flow ------------------------------------------------------------

    def new_build(self) -> None:
        """Start over with fresh answers, on the Distro step."""
        self.state = WizardState(self.book, self.today)
        self.goto_step("distro")

    def new_modify(self) -> None:
        """Start modifying an existing image, on the Artifact step."""
        self.state = ModifyState(self.book, self.today)
        self.goto_step("artifact")

    def continue_build(self) -> None:
        """Return to the build (or modify) in progress, at its first unfinished step."""
        if self.state is None:
            return self.new_build()
        steps = self.state.steps
        self.goto_step(next((s for s in steps if s not in self.state.finished), steps[-1]))

    def open_answer_file(self, path: Path) -> None:
        """Open `path` in the wizard, at its first step with a problem (or the Summary)."""
        opened = open_answers(path, self.book, self.today)
        if opened.state is None:
            home = self._go_home()
            home.show_open_problems(path, opened.problems)
            return
        self.state = opened.state
        self.goto_step(opened.state.first_problem_step() or "summary")

    def step_screen(self, step: str) -> StepScreen:
        """A fresh screen for `step`, given the wizard state and the services that step uses."""
        state = self.state
        assert state is not None, "a step needs a wizard in progress"
        screens: dict[str, Callable[[], StepScreen]] = {
            "artifact": lambda: ArtifactScreen(state, artifact_reader=self.artifact_reader),
            "changes": lambda: ChangesScreen(state),
            "distro": lambda: DistroScreen(state),
            "size": lambda: SizeScreen(state),
            "packages": lambda: PackagesScreen(state, loader=self.package_catalog, catalogs=self.package_catalogs),
            "metadata": lambda: MetadataScreen(state),
            "image": lambda: ImageScreen(state),
            "summary": lambda: SummaryScreen(state, now=self.now, readiness=self.readiness),
        }
        return screens[step]()

    def goto_step(self, step: str) -> None:
        """Show `step` (a fresh screen, drawn from the state)."""
        screen = self.step_screen(step)
        if isinstance(self.screen, StepScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def next_step(self, current: str) -> None:
        if self.state is None or self.state.problems_for(current):
            self.bell()
            return
        self.state.finished.add(current)
        self.goto_step(self.state.next_after(current))

    def previous_step(self, current: str) -> None:
        steps = self.state.steps if self.state is not None else ()
        index = steps.index(current) if current in steps else 0
        if index == 0:
            self._go_home()
        else:
            self.goto_step(steps[index - 1])

    def _go_home(self) -> HomeScreen:
        while not isinstance(self.screen, HomeScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        assert isinstance(self.screen, HomeScreen)
        return self.screen

    def start_build(self, answers: Answers, recipe: Recipe, answers_path: Path, dry_run: bool = False) -> None:
        """Hand saved, valid answers to the build screen."""
        from emi_tui.tui.screens.job.build import BuildScreen  # looked up here, so tests can stand in for it

        self._note_job_started()
        self.push_screen(BuildScreen(answers, recipe, answers_path, dry_run=dry_run))

    def _note_job_started(self) -> None:
        # A build or modify ran from these answers: quitting afterwards loses nothing.
        if self.state is not None:
            self._job_ran_from = (id(self.state), self.state.revision)

    # -- what the screens ask for ----------------------------------------------------------

    @on(HomeScreen.NewBuild)
    def _new_build_chosen(self) -> None:
        self.new_build()

    @on(HomeScreen.NewModify)
    def _new_modify_chosen(self) -> None:
        self.new_modify()

    @on(HomeScreen.ContinueBuild)
    def _continue_chosen(self) -> None:
        self.continue_build()

    @on(HomeScreen.Review)
    def _review_chosen(self) -> None:
        self.action_review()

    @on(HomeScreen.ReleaseCatalog)
    def _catalog_chosen(self) -> None:
        from emi_tui.tui.screens.catalog.matrix import CatalogMatrixScreen
        from emi_tui.tui.state.catalog_picking import CatalogPick

        self.push_screen(CatalogMatrixScreen(CatalogPick(self.book, self.today)))

    @on(HomeScreen.OpenAnswers)
    def _answers_chosen(self, message: HomeScreen.OpenAnswers) -> None:
        self.open_answer_file(message.path)

    @on(StepScreen.Next)
    def _next_asked(self, message: StepScreen.Next) -> None:
        self.next_step(message.step)

    @on(StepScreen.Back)
    def _back_asked(self, message: StepScreen.Back) -> None:
        self.previous_step(message.step)

    @on(StepScreen.Open)
    def _step_chosen(self, message: StepScreen.Open) -> None:
        self.goto_step(message.step)

    @on(SummaryScreen.Build)
    def _build_asked(self, message: SummaryScreen.Build) -> None:
        self.start_build(message.answers, message.recipe, message.answers_path, dry_run=message.dry_run)

    @on(ChangesScreen.Start)
    def _modify_asked(self, message: ChangesScreen.Start) -> None:
        self.start_modify(message.request)

    def start_modify(self, request: object) -> None:
        """Run a modify (a core ModifyRequest) on the build screen, which ends on the Done screen's diff."""
        from emi_tui.tui.screens.job.build import BuildScreen
        from emi_tui.tui.workers.build_worker import modify_job

        name = getattr(getattr(request, "artifact", None), "name", "the image")
        self._note_job_started()
        self.push_screen(BuildScreen(None, None, Path("-"), job=modify_job(request, self.modify_runner), title=f"Modifying {name}"))

    # -- actions ------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def unsaved_answers(self) -> str | None:
        """What quitting now would lose, in words; None when nothing would be (nor after a job ran from these answers)."""
        state = self.state
        ran = state is not None and self._job_ran_from == (id(state), state.revision)
        return unsaved_answers(state, ran)

    async def action_quit(self) -> None:
        """Quit (ctrl+q, and the palette's Quit): at once, or after asking when answers would be lost."""
        unsaved = self.unsaved_answers()
        if unsaved is None:
            self.exit()
        else:
            self.action_confirm_quit(unsaved)

    def action_confirm_quit(self, unsaved: str | None = None) -> None:
        """Ask, then quit on yes (Home's Escape asks even when nothing would be lost)."""
        from emi_tui.tui.screens.confirm_quit import ConfirmQuit

        if isinstance(self.screen, ConfirmQuit):
            return
        unsaved = unsaved or self.unsaved_answers()

        def answered(quit_app: bool | None) -> None:
            if quit_app:
                self.exit()

        self.push_screen(ConfirmQuit(unsaved), answered)

    def action_review(self) -> None:
        from emi_tui.tui.screens.review.review import ReviewScreen

        self.push_screen(ReviewScreen())

    def action_open_answers(self) -> None:
        def check(path: Path) -> str | None:
            return None if path.is_file() else f"No file at {path}"

        def opened(path: Path | None) -> None:
            if path is not None:
                self.open_answer_file(path)

        self.push_screen(PathPrompt("Open an answer file", "", "Open", check, placeholder="path/to/answers.yaml"), opened)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New build", "Start a new image from the Distro step", self.new_build)
        yield SystemCommand("Open answers…", "Open an answer file in the wizard", self.action_open_answers)
        yield SystemCommand("Modify an existing image", "Change an image: packages, metadata, a script, a shell", self.new_modify)
        yield SystemCommand("Review image-ids", "Review /etc/image-id files, catalogs and images", self.action_review)
        yield SystemCommand("Help", "List every key", self.action_help)
        if isinstance(screen, StepScreen) and self.state is not None:
            for step in self.state.steps:
                if step != screen.STEP and self.state.reachable(step):
                    title = STEP_TITLES[step]
                    yield SystemCommand(f"Go to {title}", f"Open the {title} step", partial(self.goto_step, step))
        if isinstance(screen, (SummaryScreen, ChangesScreen)):
            yield SystemCommand("Save answers…", "Save the answer file, with comments", screen.action_save)
        from emi_tui.tui.screens.confirm_quit import ConfirmQuit

        if not isinstance(screen, (HelpScreen, ConfirmQuit)):
            yield from binding_commands(self, screen, self._run_bound)

    async def _run_bound(self, action: str, node: Screen | App) -> None:
        """Run a binding's action chosen from the palette, as its key would: not while the screen greys it out."""
        if self._check_action_state(action, node):
            await self.run_action(action, node)
        else:
            self.bell()


def run_app(answers_path: Path | None = None, theme: str | None = None, recipes_dir: Path | None = None) -> int:
    """Open the wizard; returns the exit code. An unknown theme or --recipes folder is an EmiError before anything starts."""
    themes = load_themes()
    if theme is not None:
        check_theme_name(theme, themes[0])
    app = EmiApp(answers_path=answers_path, theme=theme, themes=themes, book=RecipeBook.named(recipes_dir))
    app.run()
    return app.return_code or 0

