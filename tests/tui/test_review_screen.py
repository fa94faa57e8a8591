"""The review screen over real image-id files and a catalog; compare two entries."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).parent))

from fake_build import ScreenApp, async_test, wait_for
from textual.widgets import DataTable, Input, Static

import emi_tui.engine.review.review  # noqa: F401 (the screen imports it late; broken, it fails here)
from emi_tui.engine.image.imageid import ImageId
from emi_tui.tui.screens.review.review import ReviewScreen, compare_entries

DEBIAN = ImageId.stamped(
    name="euca-debian-emi", version="2026.11.28", arch="x86_64", file="euca-debian-2026.11.28-x86_64.img",
    recipe="debian-based", epoch_seconds=1795900000,
)
CENTOS = ImageId.stamped(
    name="euca-centos-emi", version="2026.11.30", arch="x86_64", file="euca-centos-2026.11.30-x86_64.img",
    recipe="centos-based", epoch_seconds=1796000000,
)


def write_samples(folder: Path) -> Path:
    """Two loose image-ids (one with a forged stamp) and a catalog of a new and an old-style entry."""
    (folder / "debian").mkdir(parents=True)
    (folder / "debian" / "image-id").write_text(DEBIAN.render())
    (folder / "centos").mkdir()
    (folder / "centos" / "image-id").write_text(CENTOS.render().replace(CENTOS.image_stamp, "dead-beef"))
    catalog = "euca-debian-emi 2026.11.28:\n" + "".join(f"  {line}\n" for line in DEBIAN.render().splitlines())
    catalog += "\neuca-ubuntu-emi:\n  date 20261201120000\n  stamp 1234-5678\n  euca-ubuntu-2026.12.01-x86_64.tgz\n"
    (folder / "EMI-IDs").write_text(catalog)
    return folder


def detail(screen) -> str:
    return str(screen.query_one("#detail-body", Static).render())


@async_test
async def test_review_of_real_files_then_compare_two_entries(tmp_path):
    folder = write_samples(tmp_path / "ids")
    app = ScreenApp(lambda: ReviewScreen([folder]))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen_under_test
        await wait_for(pilot, lambda: len(screen.entries) == 4)
        table = screen.query_one(DataTable)
        assert table.row_count == 4
        names = {(e.source.split("ids/")[-1] + (f"#{e.entry}" if e.entry else "")): str(i) for i, e in enumerate(screen.entries)}

        def cell(name: str, column: str) -> str:
            return str(table.get_cell(names[name], column))

        assert cell("debian/image-id", "stamp") == "verified" and cell("debian/image-id", "problems") == "ok"
        assert cell("centos/image-id", "stamp") == "not verified"
        assert cell("EMI-IDs#euca-ubuntu-emi", "problems") == "2 warnings"  # old-style, and its stamp verifies nowhere

        first = screen.entries[table.cursor_row]
        shown = detail(screen)
        assert first.fields["image_name"] in shown and first.stamp_check.describe() in shown

        debian = next(i for i, e in enumerate(screen.entries) if e.source.endswith("debian/image-id"))
        centos = next(i for i, e in enumerate(screen.entries) if e.source.endswith("centos/image-id"))
        table.move_cursor(row=debian)
        await pilot.press("m")
        assert screen.marked == debian and str(table.get_cell(str(debian), "mark")) == "A"
        table.move_cursor(row=centos)
        await pilot.pause()
        compared = detail(screen)
        assert "≠ image_name" in compared and "≠ image_version" in compared and "  image_arch" in compared
        assert "euca-debian-emi" in compared and "euca-centos-emi" in compared
        assert "≠ stamp check" in compared and "differ" in compared

        await pilot.press("escape")  # stop comparing first …
        await pilot.pause()
        assert screen.marked is None and app.screen is screen
        assert CENTOS.image_file in detail(screen) and "≠" not in detail(screen)
        await pilot.press("escape")  # … then leave
        await pilot.pause()
        assert app.dismissed == [None]


@async_test
async def test_a_path_typed_into_the_input_is_reviewed_and_added(tmp_path, monkeypatch):
    write_samples(tmp_path / "ids")
    monkeypatch.chdir(tmp_path)  # short relative paths: pilot types them key by key
    app = ScreenApp(lambda: ReviewScreen())
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen_under_test
        assert "no entries yet" in detail(screen)
        assert screen.query_one(Input).has_focus
        await pilot.press(*"ids/debian/image-id", "enter")
        await wait_for(pilot, lambda: len(screen.entries) == 1)
        assert screen.paths == [Path("ids/debian/image-id")]
        assert screen.query_one(Input).has_focus  # focus stays in the field, for the next path
        await pilot.press(*"nowhere", "enter")
        await wait_for(pilot, lambda: len(screen.entries) == 2)
        assert str(screen.query_one(DataTable).get_cell("1", "problems")) == "1 error"


def fake_entry(source: str, problems=(), verified=True, **fields) -> SimpleNamespace:
    check = SimpleNamespace(verified=verified, utc_offset="+00:00" if verified else None, skew_s=0, describe=lambda: "verified" if verified else "not verified")
    return SimpleNamespace(source=source, entry=None, fields=fields, stamp_check=check, problems=list(problems), hygiene=None, answers=None)


@async_test
async def test_the_screen_works_with_any_reviewer_and_shows_hygiene_and_answers():
    bad = SimpleNamespace(field="image_date", severity="error", message="not 14 digits")
    entries = [
        fake_entry("one", image_name="a", image_version="1"),
        fake_entry("two", problems=[bad], verified=False, image_name="a", image_version="2", extra="x"),
    ]
    entries[0].hygiene = [SimpleNamespace(name="ssh host keys", ok=False, detail="/etc/ssh/ssh_host_rsa_key present")]
    entries[0].answers = "version: 1\nrecipe: debian-based\n"
    app = ScreenApp(lambda: ReviewScreen([Path("x")], reviewer=lambda paths: entries))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen_under_test
        await wait_for(pilot, lambda: len(screen.entries) == 2)
        shown = detail(screen)
        assert "✗ ssh host keys" in shown and "recipe: debian-based" in shown
        assert str(screen.query_one(DataTable).get_cell("0", "problems")) == "1 hygiene"
        await pilot.press("m", "down")
        assert "≠ image_version" in detail(screen) and "≠ extra" in detail(screen)


def test_compare_lists_every_field_of_either_entry():
    left = fake_entry("l", image_name="a", image_arch="x86_64")
    right = fake_entry("r", image_name="a", tarball="t.tgz")
    rows = {name: (a, b, differs) for name, a, b, differs in compare_entries(left, right)}
    assert rows["image_name"] == ("a", "a", False)
    assert rows["image_arch"] == ("x86_64", "—", True) and rows["tarball"] == ("—", "t.tgz", True)
    assert list(rows)[:2] == ["image_name", "image_arch"]


@async_test
async def test_columns_fit_their_cells_from_the_first_paint(tmp_path):
    """DataTable sizes auto-width columns only when idle and keeps lines drawn before: the screen sizes them itself."""
    from emi_tui.engine.review.review import review_paths
    from emi_tui.tui.messages import ReviewLoaded

    folder = write_samples(tmp_path / "ids")
    app = ScreenApp(lambda: ReviewScreen([]))
    async with app.run_test(size=(140, 45)):
        screen = app.screen_under_test
        table = screen.query_one(DataTable)
        # Delivered by hand, and read with no await in between: no idle can size the columns first.
        screen._loaded(ReviewLoaded([folder], review_paths([folder])))
        assert table.row_count == 4
        for column in table.ordered_columns:
            cells = [str(cell) for cell in table.get_column(column.key)]
            widest = max(len(text) for text in [str(column.label), *cells])
            assert column.get_render_width(table) - 2 * table.cell_padding >= widest, column.key.value
