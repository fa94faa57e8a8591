"""`emi-tui --answers FILE`: the wizard opens where the file needs the operator, with the problem at its field."""

from __future__ import annotations

from conftest import MIRROR, SIZE, VALID_ANSWERS
from textual.widgets import Button, Select, Static

from emi_tui.tui.screens.wizard.home import HomeScreen
from emi_tui.tui.screens.wizard.metadata import MetadataScreen
from emi_tui.tui.screens.wizard.size import SizeScreen
from emi_tui.tui.screens.wizard.summary import SummaryScreen


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_a_valid_file_opens_on_the_summary_ready_to_build(make_app, answers_file):
    path = answers_file()
    app = make_app(answers_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert not app.screen.query_one("#build", Button).disabled
        assert app.state.saved and app.state.saved_path == path
        answers = app.state.answers
        assert (answers.recipe, answers.mirror, answers.packages.add, answers.metadata.hostname) == (
            "debian-based", MIRROR, ["htop"], True
        )
        # Every step counts as done: the sidebar can open any of them.
        assert all(app.state.reachable(step) for step in ("distro", "size", "packages", "metadata", "image"))


async def test_a_metadata_problem_opens_the_metadata_step_with_the_problem_at_its_field(make_app, answers_file):
    path = answers_file(VALID_ANSWERS.replace("ssh_key: root", "ssh_key: admin"))
    app = make_app(answers_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MetadataScreen)
        line = screen.query_one("#md-ssh_key-problem", Static)
        assert line.has_class("-shown") and "'admin' is not one of root, ec2-user or none" in text(screen, "#md-ssh_key-problem")
        assert screen.query_one("#md-ssh_key").has_class("-problem")
        assert screen.query_one("#md-ssh_key", Select).value is Select.NULL
        assert screen.query_one("#next", Button).disabled
        # Everything else came through as the file said.
        assert app.state.answers.packages.add == ["htop"] and app.state.answers.metadata.hostname is True
        # The operator fixes only that, by keyboard, and goes straight on to the Summary.
        assert app.focused.id == "md-ssh_key"  # the wizard starts at the field with the problem
        await pilot.press("enter", "down", "down", "enter")  # past the blank "choose one", root, to ec2-user
        await pilot.pause()
        assert app.state.answers.metadata.ssh_key == "ec2-user"
        assert not line.has_class("-shown")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert not app.screen.query_one("#build", Button).disabled


async def test_the_first_step_with_a_problem_wins(make_app, answers_file):
    text_ = VALID_ANSWERS.replace("size: 1.3G", "size: 300M").replace("ssh_key: root", "ssh_key: admin")
    app = make_app(answers_path=answers_file(text_))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SizeScreen)
        assert "too small" in text(app.screen, "#size-problem")
        assert app.screen.query_one("#custom-size").value == "300M"
        # The sidebar flags the later step too.
        assert app.state.problems_for("metadata")


async def test_an_unknown_key_is_dropped_and_said_so_on_its_step(make_app, answers_file):
    app = make_app(answers_path=answers_file(VALID_ANSWERS.replace("  hostname: true", "  hostnme: true")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, MetadataScreen)
        notes = text(app.screen, "#step-problems")
        assert "hostnme" in notes and "did you mean 'hostname'" in notes
        assert not app.screen.query_one("#next", Button).disabled  # nothing left to fix


async def test_a_file_that_cannot_be_parsed_stays_on_home_with_its_problems(make_app, answers_file):
    path = answers_file("version: 1\nrecipe: [debian-based\n")
    app = make_app(answers_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        shown = text(app.screen, "#open-problems")
        assert f"Cannot open {path}" in shown and "not valid YAML" in shown and f"{path}:" in shown
        assert app.state is None


async def test_a_missing_file_stays_on_home(make_app, tmp_path):
    app = make_app(answers_path=tmp_path / "nope.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert "cannot read the file" in text(app.screen, "#open-problems")
