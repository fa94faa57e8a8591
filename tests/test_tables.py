"""Every table the CLI prints (`recipes`, `review`, `cache list`) fits its width: no word is ever split across lines.

Each command runs through `emi_tui.cli.main` with its console replaced by one
of 40, 80 or 120 columns (a terminal) or a pipe. Every word of every field the
output shows must appear whole among the output's words; a field left out at
a narrow terminal is named in the note under the table, and a pipe or
`--plain` gets every field as `key: value` records.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from emi_tui import cli
from emi_tui.commands import cache as cache_command
from emi_tui.commands import recipes as recipes_command
from emi_tui.commands import review as review_command
from emi_tui.engine.build.cache import BaseCache, cache_inputs, cache_key

REVIEW_DATA = Path(__file__).parent / "data" / "review"
SHIPPED = Path(__file__).resolve().parent.parent / "recipes" / "debian-based.yaml"
#: A recipe with a long description and words of every length, so that narrow tables must choose.
LONG_DESCRIPTION = "An extraordinarily verbose description mentioning internationalization, containerization and reproducibility"
#: Each table's fields, as an operator reads them (the headers and the records' keys).
RECIPE_FIELDS = ["name", "description", "releases", "arches", "bootstrap", "min size", "file"]
REVIEW_FIELDS = ["source / entry", "name", "version", "arch", "stamp check", "problems"]
CACHE_FIELDS = ["key", "recipe", "release", "arch", "tool", "size", "created"]
BOX = re.compile("[\u2500-\u257f]")


def words(text: str) -> list[str]:
    return BOX.sub(" ", text).split()


def terminal(width: int) -> Console:
    # As the real `out` (soft_wrap, no highlighting), but of a given width and a terminal.
    return Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None, soft_wrap=True, highlight=False, emoji=False)


def pipe() -> Console:
    return Console(file=io.StringIO(), soft_wrap=True, highlight=False, emoji=False)


def run_cli(monkeypatch, module, console: Console, argv: list[str]) -> str:
    monkeypatch.setattr(module, "out", console)
    assert cli.main(argv) == 0
    return console.file.getvalue()


def hidden_columns(output: str) -> set[str]:
    found = re.search(r"not shown at this width: ([^(\n]+)", output)
    return {name.strip() for name in found.group(1).split(",")} if found else set()


def assert_words_whole(output: str, fields: list[str], rows: list[list[str]]) -> None:
    """Every word of every shown field, and of every shown header, is a whole word of the output."""
    shown = [i for i, field in enumerate(fields[: len(rows[0])]) if field not in hidden_columns(output)]
    present = set(words(output)) | {word.removesuffix(":") for word in words(output)}  # a record's key ends in ":"
    for i in shown:
        for word in fields[i].split():
            assert word in present, (word, output)
        for row in rows:
            for word in row[i].split():
                assert word in present, (f"{fields[i]}: {word!r} split or missing", output)


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    """A home of the test's own: no operator recipes or config from the real one."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


@pytest.fixture
def wordy_recipes(tmp_path: Path) -> Path:
    folder = tmp_path / "a-folder-with-a-rather-long-name-for-recipes"
    folder.mkdir()
    text = SHIPPED.read_text().replace("name: debian-based", "name: wordy-lengthy-recipe", 1)
    text = re.sub(r"(?m)^description: .*$", f"description: {LONG_DESCRIPTION}", text, count=1)
    (folder / "wordy-lengthy-recipe.yaml").write_text(text)
    return folder


def recipe_rows(folder: Path) -> list[list[str]]:
    from emi_tui.engine.answers.recipes import RecipeBook, recipe_dirs

    book = RecipeBook(recipe_dirs(folder))
    assert "wordy-lengthy-recipe" in book.names()
    return [[name, book.recipes[name].description, ", ".join(book.recipes[name].releases), ", ".join(book.recipes[name].arches),
             book.recipes[name].bootstrap, str(book.recipes[name].min_size), str(book.sources[name])] for name in book.names()]


@pytest.mark.parametrize("width", [40, 80, 120, None])
def test_recipes_never_split_a_word(monkeypatch, home, wordy_recipes, width):
    console = pipe() if width is None else terminal(width)
    output = run_cli(monkeypatch, recipes_command, console, ["recipes", "--recipes", str(wordy_recipes)])
    assert_words_whole(output, RECIPE_FIELDS, recipe_rows(wordy_recipes))
    assert "descript" not in words(output) and "ion" not in words(output)
    if width in (80, 120):  # a table, with the fields an operator wants most
        assert "┃ name" in output and "description" in words(output) and "internationalization," in words(output)
        assert not {"name", "description"} & hidden_columns(output)
    if width is None:  # a pipe: records, every field
        assert "name: wordy-lengthy-recipe" in output.splitlines() and "┃" not in output
        assert f"file: {wordy_recipes / 'wordy-lengthy-recipe.yaml'}" in output.splitlines()


def test_recipes_plain_on_a_terminal_and_by_name(monkeypatch, home, wordy_recipes):
    output = run_cli(monkeypatch, recipes_command, terminal(120), ["recipes", "--plain", "--recipes", str(wordy_recipes), "wordy-lengthy-recipe"])
    lines = output.splitlines()
    assert lines[0] == "name: wordy-lengthy-recipe" and "releases: bookworm, trixie, bullseye" in lines and "arches: x86_64, i386, aarch64" in lines
    assert not any(line.startswith("name: ") and "wordy" not in line for line in lines)  # only the recipe named


def test_recipes_an_unknown_name_is_bad_input(monkeypatch, home, capsys):
    console = pipe()
    monkeypatch.setattr(recipes_command, "out", console)
    assert cli.main(["recipes", "debian-basde"]) == 2
    assert "debian-based" in capsys.readouterr().err and console.file.getvalue() == ""


def test_recipes_to_a_real_pipe_are_records(home):
    done = subprocess.run([sys.executable, "-m", "emi_tui", "recipes"], capture_output=True, text=True, check=True)
    blocks = done.stdout.strip().split("\n\n")
    assert blocks[0].splitlines()[0].startswith("name: ")
    assert all(re.fullmatch(r"[a-z ]+: .*|[a-z ]+:", line) for block in blocks for line in block.splitlines()), done.stdout


def review_rows() -> list[list[str]]:
    """The catalog's entries as the table's fields (the words the output must show whole)."""
    from emi_tui.engine.review.review import review_paths

    rows = []
    for e in review_paths([REVIEW_DATA / "emi-ids.txt"]):
        problems = [f"{p.severity}: {p.message}" for p in e.problems] or ["ok"]
        rows.append([f"{REVIEW_DATA / 'emi-ids.txt'} {e.entry or ''}", *(e.fields.get(k, "") for k in ("image_name", "image_version", "image_arch")),
                     e.stamp_check.describe(), "\n".join(problems)])
    return rows


@pytest.mark.parametrize("width", [40, 80, 120, None])
def test_review_never_splits_a_word(monkeypatch, width):
    console = pipe() if width is None else terminal(width)
    monkeypatch.setattr(review_command, "out", console)
    cli.main(["review", str(REVIEW_DATA / "emi-ids.txt")])  # exit 1: the catalog has entries with warnings
    output = console.file.getvalue()
    rows = review_rows()
    assert len(rows) > 1
    assert_words_whole(output, REVIEW_FIELDS, rows)
    if width == 120:  # a table; the arch and the stamp check give way to the problems' long words
        assert "┃ source / entry" in output and {"arch", "stamp check"} <= hidden_columns(output)
        assert not {"source / entry", "name", "problems"} & hidden_columns(output)
        assert "'euca-large-debian-2011.11.30-x86_64.img'" in words(output)


@pytest.fixture
def cached_bases(tmp_path: Path, monkeypatch) -> list[list[str]]:
    monkeypatch.setenv("EMI_TUI_CACHE_DIR", str(tmp_path / "cache"))
    cache = BaseCache()
    for release, arch in (("bookworm", "x86_64"), ("trixie", "aarch64")):
        inputs = cache_inputs("debian-based", release, arch, "http://mirror.example/debian", ["udev"], "mmdebstrap", "mmdebstrap 1.5.7-extraordinarily-long")
        key = cache_key(inputs)
        partial = cache.temporary_tarball(key)
        partial.write_bytes(b"base" * 1000)
        cache.commit(key, partial, inputs)
    return [[e.key, "debian-based", str(e.inputs["release"]), str(e.inputs["arch"]), str(e.inputs["tool_version"])] for e in cache.entries()]


@pytest.mark.parametrize("width", [40, 80, 120, None])
def test_cache_list_never_splits_a_word(monkeypatch, cached_bases, width):
    console = pipe() if width is None else terminal(width)
    output = run_cli(monkeypatch, cache_command, console, ["cache", "list"])
    assert_words_whole(output, CACHE_FIELDS, cached_bases)
    assert "4 KB" in output  # the size, in the one unit style
    if width is None:
        assert f"key: {cached_bases[0][0]}" in output.splitlines()


def test_cache_list_plain(monkeypatch, cached_bases):
    output = run_cli(monkeypatch, cache_command, terminal(120), ["cache", "list", "--plain"])
    assert f"key: {cached_bases[0][0]}" in output.splitlines() and "release: trixie" in output.splitlines()


def test_review_plain(monkeypatch):
    console = terminal(200)
    monkeypatch.setattr(review_command, "out", console)
    cli.main(["review", "--plain", str(REVIEW_DATA / "emi-ids.txt")])
    lines = console.file.getvalue().splitlines()
    assert lines[0].startswith("source / entry: ") and "┃" not in console.file.getvalue()


def test_fitting_drops_the_lowest_priority_first_and_gives_up_on_must_haves():
    from emi_tui.commands.tables import Column, fit_widths, overhead, record_lines

    columns = [Column("name"), Column("notes", 2), Column("extra", 3)]
    rows = [["alpha", "some words here", "zzzzzzzzzzzz"]]
    assert list(fit_widths(columns, rows, 200)) == [0, 1, 2]
    assert list(fit_widths(columns, rows, 30)) == [0, 1]  # "extra" goes first
    assert fit_widths(columns, [["a" * 50, "x", "y"]], 40) is None  # the name itself cannot fit: records instead
    # The room left makes the short column one line ("min size" whole), and the long text takes the rest.
    text = "a description of many words that would fill a whole line on its own"
    fitted = fit_widths([Column("name"), Column("description"), Column("min size")], [["alpha", text, "600M"]], 50)
    assert fitted == {0: 5, 1: 50 - overhead(3) - 5 - 8, 2: 8}
    assert record_lines(columns, [["a", "two\nlines", ""], ["b", "", "c"]]) == [
        "name: a", "notes: two", "notes: lines", "extra:", "", "name: b", "notes:", "extra: c"]


@pytest.mark.parametrize("width", [40, 80, 120])
def test_the_live_view_keeps_one_whole_line_per_step(width):
    from emi_tui.commands.build import LiveView
    from emi_tui.engine.run.events import JobStarted, OutputLine, StepFinished, StepStarted

    steps = ("preflight", "bootstrap", "chroot", "filesystem", "zerofree")
    view = LiveView()
    view.handle(JobStarted(steps=steps, log_path=Path("/x/build.log"), answers_path=Path("a.yaml"), kind="build"))
    view.handle(StepStarted("preflight", "check", 0))
    view.handle(StepFinished("preflight", 1.5, note="mirror http://mirror.example/debian answered; 1.3 GB needed, /dev/shm has room " * 2))
    view.handle(StepStarted("bootstrap", "bootstrap", 1))
    view.handle(OutputLine("bootstrap", "I: Retrieving Packages from http://mirror.example/debian/dists/bookworm/main/binary-amd64"))
    console = terminal(width)
    console.print(view)
    lines = console.file.getvalue().splitlines()
    for state, step in zip(("done", "running", "pending", "pending", "pending"), steps):  # state, name and time never cut
        assert sum(1 for line in lines if f" {step} " in f"{line} ") == 1, (step, lines)
        assert any(line.split()[:2] == [state, step] for line in lines), (step, lines)
    assert "1.5s" in words(lines[0])
    progress = next(line for line in lines if line.startswith("build "))
    assert re.search(r" \d+% \d+:\d\d:\d\d$", progress), progress  # the bar gives way, not the percentage or the time
    assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize("width", [40, 80, 120, None])
def test_an_images_stored_answers_are_never_cut(monkeypatch, width):
    from dataclasses import replace

    from emi_tui.engine.artifact.read import HygieneCheck
    from emi_tui.engine.review.review import review_paths

    answers = ("version: 1\nrecipe: debian-based\npackages:\n  add: [htop, an-extraordinarily-long-package-name-for-testing, tmux]\n"
               "repositories:\n  - line: deb [signed-by=/etc/apt/keyrings/example-archive-keyring.gpg] http://mirror.example/debian bookworm main contrib\n")
    entry = replace(review_paths([REVIEW_DATA / "euca-debian.image-id"])[0], entry="euca-debian.img", answers=answers,
                    hygiene=[HygieneCheck("no shell history", True, "none found in /root or /home")])
    monkeypatch.setattr(review_command, "review_paths", lambda *_, **__: [entry])
    console = pipe() if width is None else terminal(width)
    monkeypatch.setattr(review_command, "out", console)
    cli.main(["review", "euca-debian.img"])
    output = console.file.getvalue()
    for word in answers.split() + ["shell", "history:", "/root"]:
        assert word in words(output), (word, output)
