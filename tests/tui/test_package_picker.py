"""The Packages step at 80×24: the chosen release's index, several names at once, a reason for every refusal.

The index is a small Packages text (conftest.fake_packages_text); no test
here touches the network or this workstation's apt.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import VALID_ANSWERS, fake_package_catalog
from fake_build import wait_for
from modify_fakes import STORED, fake_reader
from rich.console import Console
from textual.widgets import DataTable, Input, OptionList, SelectionList, Static

from emi_tui.engine.build.package_catalog import CatalogSource, CatalogUnavailable, PackageCatalog
from emi_tui.tui.screens.modify.artifact import ArtifactScreen
from emi_tui.tui.screens.wizard.packages import PackagesScreen

SMALL = (80, 24)


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def open_packages(app, pilot) -> PackagesScreen:
    await pilot.pause()
    app.goto_step("packages")
    await pilot.pause()
    await app.workers.wait_for_complete()  # the index is read in a worker
    await pilot.pause()
    assert isinstance(app.screen, PackagesScreen)
    return app.screen


async def add(pilot, screen: PackagesScreen, text: str) -> str:
    field = screen.query_one("#add-package", Input)
    field.focus()
    field.value = ""
    await pilot.press(*[("space" if c == " " else c) for c in text], "enter")
    await pilot.pause()
    return text_of(screen, "#add-check")


async def test_the_index_looked_up_is_the_chosen_releases_for_its_arch_not_this_workstations_apt(make_app, answers_file):
    asked: list[CatalogSource] = []

    def loader(source: CatalogSource) -> PackageCatalog:
        asked.append(source)
        return fake_package_catalog(source)

    answers = VALID_ANSWERS.replace("release: bookworm", "release: trixie").replace("arch: x86_64", "arch: aarch64")
    app = make_app(answers_path=answers_file(answers), package_catalog=loader)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_packages(app, pilot)
        assert [(s.mirror, s.release, s.arch) for s in asked] == [("http://mirror.example/debian", "trixie", "arm64")]
        assert "in trixie for arm64" in text_of(screen, "#catalog-state")
        result = screen.query_one("#result", DataTable)
        row = [cell.plain for cell in result.get_row("less")]
        assert row[:4] == ["less", "recipe", "310 KB", "310 KB"] and row[4] == "the less package"


async def test_a_mirror_that_cannot_be_read_says_why_and_names_are_still_checked(make_app, answers_file):
    def loader(source: CatalogSource) -> PackageCatalog:
        raise CatalogUnavailable("cannot read http://mirror.example/debian/dists/bookworm/InRelease: Name or service not known")

    app = make_app(answers_path=answers_file(), package_catalog=loader)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_packages(app, pilot)
        state = text_of(screen, "#catalog-state")
        assert state.startswith("Cannot look packages up: cannot read http://mirror.example/debian") and "…" not in state
        assert "not a valid Debian package name" in await add(pilot, screen, "Bad_Name")
        assert "added tree (not looked up" in await add(pilot, screen, "tree")
        assert app.state.answers.packages.add == ["htop", "tree"]


async def test_several_names_typed_at_once_become_several_packages(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_packages(app, pilot)
        shown = await add(pilot, screen, "tmux strace")
        assert app.state.answers.packages.add == ["htop", "tmux", "strace"]
        assert "added tmux from bookworm for amd64" in shown and "added strace from bookworm for amd64" in shown
        assert screen.query_one("#add-package", Input).value == ""
        assert not app.state.problems_for("packages")
        await pilot.press("m", "c")  # a search: ↓ goes to the matches, Enter adds the highlighted one
        await pilot.pause()
        await pilot.press("down")
        assert app.focused is screen.query_one("#matches", DataTable)
        await pilot.press("down", "enter")  # mc, then mc-data
        await pilot.pause()
        assert "added mc-data" in text_of(screen, "#add-check")
        assert app.state.answers.packages.add == ["htop", "tmux", "strace", "mc-data"]


async def test_every_refused_name_says_why_and_nothing_false_is_claimed(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_packages(app, pilot)
        before = app.state.answers.packages
        shown = await add(pilot, screen, "less curl htop dpkg")
        assert app.state.answers.packages == before  # nothing changed…
        assert "added" not in shown.replace("already added", "")  # …and nothing claims it did
        assert "less is already in the recipe's default list" in shown
        assert "curl is already in the base every debian-based image gets" in shown
        assert "htop is already added" in shown
        assert "dpkg is already in the base every debian-based image gets" in shown  # Priority: required
        assert screen.query_one("#add-package", Input).value == "less curl htop dpkg"  # kept, to be corrected
        assert [o.action for o in screen.outcomes] == ["refuse"] * 4

        shown = await add(pilot, screen, "sudo tmux tmux")  # sudo: a default the answers unchecked
        assert "sudo is one of the recipe's defaults (unchecked): checked again" in shown
        assert "added tmux" in shown and "tmux is already added" in shown
        assert app.state.answers.packages.add == ["htop", "tmux"] and "sudo" not in app.state.answers.packages.remove


async def test_an_unknown_package_is_an_error_on_the_step_and_a_problem_the_summary_sees(make_app, answers_file):
    app = make_app(answers_path=answers_file(VALID_ANSWERS.replace("add: [htop]", "add: [htop, nosuchpkg]")))
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_packages(app, pilot)
        line = screen.query_one("#added-problem", Static)
        assert line.has_class("-shown") and "nosuchpkg is not in bookworm for amd64" in text_of(screen, "#added-problem")
        assert screen.query_one("#next").disabled
        assert [p.key for p in app.state.problems_for("summary")] == ["packages.add[1]"]
        assert app.state.resolved() is None

        shown = await add(pilot, screen, "tmuxx")
        assert screen.query_one("#add-check", Static).has_class("-error")
        assert "✗ tmuxx is not in bookworm for amd64 (did you mean 'tmux'?)" in shown
        assert "tmuxx" not in app.state.answers.packages.add

        app.goto_step("summary")
        await pilot.pause()
        problems = app.screen.query_one("#problem-list", OptionList)
        listed = [str(problems.get_option_at_index(i).prompt) for i in range(problems.option_count)]
        assert any("nosuchpkg is not in bookworm for amd64" in text for text in listed), listed


async def test_the_tables_keep_their_columns_at_80x24_and_scroll_sideways(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_packages(app, pilot)
        first = screen.query_one("#packages-body").children[0]
        assert first.region.y >= screen.query_one("#packages-body").region.y  # the first label is not scrolled away
        assert "Find and add packages in bookworm for amd64" in str(first.render())
        await pilot.press(*"tm")
        await pilot.pause()
        for selector in ("#matches", "#result"):
            table = screen.query_one(selector, DataTable)
            assert table.display and table.row_count
            widths = {str(column.label): column.get_render_width(table) for column in table.columns.values()}
            assert widths["package"] >= 20 and widths["installed"] >= 9 and widths["description"] >= 40, widths
            assert table.size.width >= 40 and table.virtual_size.width > table.size.width  # wider than the screen: it scrolls
        assert screen.query_one("#matches", DataTable).get_row_at(0)[0].plain == "tmux"
        assert screen.query_one("#add-package", Input)._suggestion == "tmux"  # → completes it


async def test_modify_lists_what_the_image_contains_and_says_where_its_answers_came_from(make_app, tmp_path: Path):
    artifact = tmp_path / "euca-debian-2026.01.02-x86_64.tgz"
    artifact.write_bytes(b"stand-in")
    (tmp_path / "euca-debian-2026.01.02-x86_64.manifest").write_text("htop\t3.2.2-2\nless\t590-2\nnano\t7.2-1\n")
    app = make_app(artifact_reader=fake_reader(STORED.replace("recipe: debian-based", "recipe: gone-recipe")), remember=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, ArtifactScreen)
        app.screen.query_one("#artifact", Input).value = str(artifact)
        await wait_for(pilot, lambda: app.state.look is not None)
        screen = await open_packages(app, pilot)
        intro = text_of(screen, "#step-intro")
        assert "no stored answers" not in intro and "stored answers name the recipe 'gone-recipe'" in intro
        assert "what the image contains (its manifest)" in intro
        assert "In the image (its manifest): 3 packages" in text_of(screen, "#result-title")
        assert screen.shown == ["htop", "less", "nano"]  # nano: in no recipe list, but in the image
        assert "nano is already installed in the image" in await add(pilot, screen, "nano")


async def test_modify_starts_from_the_images_manifest_not_the_recipes_list(make_app, tmp_path: Path):
    artifact = tmp_path / "euca-debian-2026.01.02-x86_64.tgz"
    artifact.write_bytes(b"stand-in")
    (tmp_path / "euca-debian-2026.01.02-x86_64.manifest").write_text("apt\t2.6.1\nhtop\t3.2.2-2\nmc\t4.8.29-2\n")
    app = make_app(artifact_reader=fake_reader(), remember=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#artifact", Input).value = str(artifact)
        await wait_for(pilot, lambda: app.state.look is not None)
        screen = await open_packages(app, pilot)
        assert "Pre-filled from the image's stored answers" in text_of(screen, "#step-intro")
        assert screen.shown == ["apt", "htop", "mc"]  # not the recipe's less, vim-tiny, …
        assert screen.query_one("#defaults", SelectionList).selected == []  # the image has none of the recipe's defaults
        assert app.state.package_changes() == ([], [])
        shown = await add(pilot, screen, "tmux")
        assert "added tmux" in shown and screen.shown == ["apt", "htop", "mc", "tmux"]
        assert app.state.package_changes() == (["tmux"], [])
        result = screen.query_one("#result", DataTable)
        assert [cell.plain for cell in result.get_row("tmux")][:2] == ["tmux", "to install"]


async def test_no_row_of_the_result_waits_forever_for_an_answer(make_app, answers_file):
    app = make_app(answers_path=answers_file(VALID_ANSWERS.replace("add: [htop]", "add: [htop, Bad_Name, nosuchpkg]")))
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_packages(app, pilot)
        result = screen.query_one("#result")
        if isinstance(result, DataTable):
            said = {row[0].plain: row[-1].plain for row in (result.get_row_at(i) for i in range(result.row_count))}
        else:  # the list as a rich Table (before issue 16): its last column, as the terminal shows it
            console = Console(file=io.StringIO(), width=160, color_system=None)
            console.print(result.content)
            said = {line.split()[0]: line for line in console.file.getvalue().splitlines() if line.strip()}
        assert not any("asking" in text for text in said.values()), said
        assert said["Bad_Name"] == "not a valid package name" and said["nosuchpkg"] == "not in bookworm for amd64"
        assert said["htop"] == "the htop package"


async def test_without_a_mirror_the_step_says_so_and_asks_nothing(make_app, answers_file):
    asked: list[CatalogSource] = []
    answers = VALID_ANSWERS.replace("recipe: debian-based", "recipe: ubuntu-based").replace("release: bookworm", "release: noble")
    app = make_app(answers_path=answers_file(answers.replace("mirror: http://mirror.example/debian\n", "")),
                   package_catalog=lambda source: asked.append(source))  # type: ignore[func-returns-value]
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_packages(app, pilot)
        assert text_of(screen, "#catalog-state").startswith("Cannot look packages up: no mirror is chosen")
        assert asked == []


async def test_offline_the_step_asks_no_mirror_and_says_why(make_app, answers_file):
    asked: list[CatalogSource] = []
    app = make_app(answers_path=answers_file(VALID_ANSWERS), package_catalog=lambda source: asked.append(source))  # type: ignore[func-returns-value]
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        app.state.offline = True  # the Summary's switch
        screen = await open_packages(app, pilot)
        assert "the wizard is offline" in text_of(screen, "#catalog-state")
        assert asked == []
