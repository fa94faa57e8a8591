"""One keyboard model: Esc goes back, Enter in the last field goes on, focus always shows, quitting asks, palette and help hold every key."""

from __future__ import annotations

from pathlib import Path

from conftest import SIZE
from fake_build import FakeBuild, sample_answers, wait_for
from layout_checks import declared_footer_bindings
from modify_fakes import fake_reader
from textual.widgets import Input, Static

import emi_tui.tui as tui_package
from emi_tui.tui.screens.job.build import BuildScreen
from emi_tui.tui.screens.modify.artifact import ArtifactScreen
from emi_tui.tui.screens.review.review import ReviewScreen
from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.screens.wizard.distro import DistroScreen
from emi_tui.tui.screens.wizard.help import HelpScreen
from emi_tui.tui.screens.wizard.home import HomeScreen
from emi_tui.tui.screens.wizard.summary import SummaryScreen

STEPS = ["distro", "size", "packages", "metadata", "image", "summary"]


def asks_to_quit(screen) -> bool:
    """Whether `screen` is the question asked before quitting."""
    return type(screen).__name__ == "ConfirmQuit"


def record_exits(app) -> list[object]:
    """Replace app.exit with a recorder: the test sees whether the app would have quit."""
    calls: list[object] = []
    app.exit = lambda *args, **kwargs: calls.append(args)  # type: ignore[method-assign]
    return calls


async def test_escape_goes_back_on_every_wizard_step_and_on_modify_steps(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        for _ in STEPS[:-1]:
            await pilot.pause()
            await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        for step in reversed(STEPS[:-1]):
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, StepScreen) and step == app.screen.STEP
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    app = make_app(artifact_reader=fake_reader(), remember=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, ArtifactScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_escape_on_home_asks_before_quitting(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        exits = record_exits(app)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert asks_to_quit(app.screen) and exits == []
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen) and exits == []
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("enter")  # Stay has the focus: a stray Enter never quits
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen) and exits == []
        await pilot.press("escape", "y")
        await pilot.pause()
        assert exits != []


async def test_quitting_with_unsaved_answers_asks_first(make_app, answers_file):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        exits = record_exits(app)
        await pilot.press("ctrl+q")  # nothing to lose yet: at once
        await pilot.pause()
        assert len(exits) == 1
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("down", "enter")  # an answer changed, saved nowhere
        await pilot.pause()
        assert app.state.revision > 0 and not app.state.saved
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert asks_to_quit(app.screen) and len(exits) == 1
        assert "not saved" in str(app.screen.query_one("#quit-text", Static).render())
        await pilot.press("escape")  # Escape in the question: stay
        await pilot.pause()
        assert isinstance(app.screen, DistroScreen) and len(exits) == 1
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
        assert len(exits) == 2
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SIZE) as pilot:
        exits = record_exits(app)
        await pilot.pause()
        assert app.state.saved
        await pilot.press("ctrl+q")  # saved answers: nothing to ask
        await pilot.pause()
        assert len(exits) == 1 and not asks_to_quit(app.screen)


async def test_enter_in_the_last_field_goes_to_next_or_to_the_first_field_in_error(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        distro = app.screen
        assert isinstance(distro, DistroScreen)
        distro.query_one("#recipe").focus()
        await pilot.press("enter")  # Enter in a choice chooses; it is not the last field
        await pilot.pause()
        assert app.screen is distro
        distro.query_one("#mirror", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.STEP == "size"
        await pilot.press("escape")
        await pilot.pause()
        distro = app.screen
        await pilot.press("down", "enter")  # Ubuntu: no default mirror, so Next is refused
        await pilot.pause()
        assert distro.wizard.problems_for("distro")
        distro.query_one("#mirror", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is distro
        assert app.focused is not None and app.focused.has_class("-problem")


async def test_enter_on_the_size_field_goes_on_once(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.STEP == "size"
        app.screen.query_one("#custom-size", Input).focus()
        await pilot.press(*"2G", "enter")
        await pilot.pause()
        await pilot.pause()
        assert app.screen.STEP == "packages"
        assert "size" in app.state.finished and "packages" not in app.state.finished


def _ring(widget) -> tuple:
    styles = widget.styles
    return (styles.border, styles.outline)


async def test_a_field_in_error_shows_a_focus_ring(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("down", "enter")  # Ubuntu without a mirror: a field in error
        await pilot.pause()
        screen = app.screen
        in_error = [w for w in screen.query(".-problem") if w.focusable]
        assert in_error
        for field in in_error:
            field.focus()
            await pilot.pause()
            focused = _ring(field)
            screen.query_one("#back").focus()
            await pilot.pause()
            assert _ring(field) != focused, f"{field}: focused and not, it looks the same"
        # A one-line (compact) field in error, on the Image step.
        screen.query_one("#mirror", Input).focus()
        await pilot.press(*"file:///m")
        for _ in range(4):
            await pilot.press("ctrl+n")
            await pilot.pause()
        assert app.screen.STEP == "image"
        name = app.screen.query_one("#img-name", Input)
        name.value = "bad name!"
        await pilot.pause()
        assert name.has_class("-problem")
        name.focus()
        await pilot.pause()
        focused = _ring(name)
        app.screen.query_one("#img-version", Input).focus()
        await pilot.pause()
        assert _ring(name) != focused


async def test_every_key_of_a_screen_is_in_the_command_palette(make_app, answers_file):
    def palette_actions(screen) -> tuple[set[str], set[str]]:
        commands = list(app.get_system_commands(screen))
        actions = {command.callback.action for command in commands if hasattr(command.callback, "action")}
        return actions, {command.title for command in commands}

    def missing(screen) -> list[str]:
        actions, titles = palette_actions(screen)
        gaps = []
        for binding in declared_footer_bindings(screen):
            action = binding.action.removeprefix("app.")
            keyboard = getattr(tui_package, "keyboard", None)  # (its own module since this issue)
            covered = getattr(keyboard, "PALETTE_COVERED", {})  # keys the palette offers under a title of its own
            if action in actions or covered.get(action) in titles:
                continue
            gaps.append(f"{type(screen).__name__}: {binding.key} {binding.description}")
        return gaps

    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        gaps = missing(app.screen)
        # A command runs its key's action: the palette's Steps focuses the step list.
        steps = next((c for c in app.get_system_commands(app.screen) if getattr(c.callback, "action", None) == "focus_steps"), None)
        assert steps is not None, "F2's Steps is not in the palette"
        await steps.callback()
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "steps"
        await pilot.press("escape")
        await pilot.pause()
        gaps += missing(app.screen)
        app.push_screen(ReviewScreen())
        await pilot.pause()
        gaps += missing(app.screen)
        app.pop_screen()
        answers, recipe = sample_answers()
        fake = FakeBuild(hold_at="chroot")
        app.push_screen(BuildScreen(answers, recipe, Path("answers.yaml"), runner=fake))
        await wait_for(pilot, fake.holding.is_set)
        gaps += missing(app.screen)
        _actions, titles = palette_actions(app.screen)
        assert "Follow log" in titles
        assert gaps == []


async def test_help_shows_the_keys_of_the_screen_it_was_opened_on(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()

        async def help_text() -> str:
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            table = app.screen.query_one("#help-keys", Static).content
            text = "\n".join(" ".join(str(cell) for cell in column._cells) for column in table.columns)
            await pilot.press("escape")
            await pilot.pause()
            return text

        summary = await help_text()
        assert "Save answers…" in summary and "Steps" in summary and "New build" not in summary
        await pilot.press("escape")
        await pilot.pause()
        image = await help_text()
        assert "Steps" in image and "Save answers…" not in image
        assert image != summary
        app._go_home()
        await pilot.pause()
        home = await help_text()
        assert "New build" in home and "Steps" not in home
        assert "esc" in home and "quit" in home.lower()  # the keyboard model is written in the help


async def test_review_keeps_focus_in_the_path_field_so_a_second_path_never_fires_keys():
    from fake_build import ScreenApp
    from test_review_screen import fake_entry

    entries = [fake_entry("one", image_name="a"), fake_entry("two", image_name="b")]
    app = ScreenApp(lambda: ReviewScreen(reviewer=lambda paths: entries[: len(paths)]))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen_under_test
        field = screen.query_one("#add-path", Input)
        await pilot.press("x", "enter")
        await wait_for(pilot, lambda: len(screen.entries) == 1)
        assert field.has_focus
        await pilot.press("m", "a")  # the next path's first letters: typed, not Mark and Add path
        await pilot.pause()
        assert field.value == "ma" and screen.marked is None and field.has_focus


async def test_quitting_asks_about_a_modify_not_started_but_not_after_it_ran(make_app, tmp_path: Path):
    from modify_fakes import FakeModify
    from test_modify_wizard import artifact_in, to_changes

    from emi_tui.tui.screens.job.done import DoneScreen

    app = make_app(artifact_reader=fake_reader(), modify_runner=FakeModify(), remember=False)
    async with app.run_test(size=SIZE) as pilot:
        exits = record_exits(app)
        await to_changes(app, pilot, artifact_in(tmp_path))
        assert app.state.revision > 0
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert asks_to_quit(app.screen) and exits == []
        assert "not started" in str(app.screen.query_one("#quit-text", Static).render())
        await pilot.press("n")
        await pilot.pause()
        app.screen.action_next()  # Start, as its button does; then confirm what runs as root
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
        await pilot.press("escape")  # back from Done, the modify has run: nothing is lost now
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not asks_to_quit(app.screen) and len(exits) == 1


def _look(widget) -> tuple:
    """What focus can change in how a widget is drawn."""
    styles = widget.styles
    return (styles.border, styles.outline, styles.background, styles.background_tint, styles.text_style, styles.tint, styles.color)


async def test_every_focusable_widget_of_every_step_looks_different_when_focused(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n")
        unseen = []
        for step in STEPS:
            await pilot.pause()
            screen = app.screen
            assert step == screen.STEP
            chain = list(screen.focus_chain)
            for widget in chain:
                widget.focus()
                await pilot.pause()
                focused = _look(widget)
                next(other for other in chain if other is not widget).focus()
                await pilot.pause()
                if _look(widget) == focused:
                    unseen.append(f"{step}: {widget}")
            if step != "summary":
                await pilot.press("ctrl+n")
        assert unseen == []
