"""Answer files, format v1: repository lines, every problem at once and in order, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from answers_support import BASE, TODAY, check, ok
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emi_tui.engine import paths
from emi_tui.engine.answers.model import Answers, validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook

# --- repository lines ---------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "deb http://extra.example/debian bookworm main",
    "deb-src http://extra.example/debian bookworm main contrib",
    "deb [arch=amd64 signed-by=/etc/apt/keyrings/extra.gpg] https://extra.example/debian bookworm main",
    "deb [ arch=amd64 ] http://extra.example/debian bookworm main",
    "deb http://extra.example/debian bookworm/updates main",
    "deb file:///srv/repo bookworm main",
    "deb http://[::1]/debian bookworm main",
    # Flat repositories (no components; the suite is a path) are ordinary apt lines, such as an OBS project's.
    "deb [arch=amd64] file:///srv/repo ./",
    "deb [trusted=no] file:///srv/repo ./",  # what apt reads as "no" weakens nothing
    "deb http://download.opensuse.org/repositories/home:/someone/Debian_12/ /",
])
def test_good_apt_repository_lines_are_accepted(book, line):
    answers = ok(BASE + f"repositories:\n  - line: '{line}'\n", book)
    assert answers.repositories[0].line == line


@pytest.mark.parametrize(("line", "message"), [
    ("deb", "'deb' is not an apt source line: write \"deb URL SUITE COMPONENT…\""),
    ("deb http://extra.example/debian bookworm main # c", "'#' is not a suite or component name (letters, digits and . _ / + - only)"),
    ("deb [arch=amd64;reboot] http://extra.example/debian bookworm main",
     "the options [arch=amd64;reboot] are not key=value words such as [arch=amd64 signed-by=/etc/apt/keyrings/x.gpg]"),
    ("deb ftp://extra.example/debian bookworm main", "'ftp://extra.example/debian' is not a URL: write http://…, https://… or file:///…"),
])
def test_bad_apt_repository_lines(book, line, message):
    result = check(BASE + f"repositories:\n  - line: '{line}'\n", book)
    assert [str(p) for p in result.problems] == [f"a.yaml:4:11: repositories[0].line: {message}"]


def test_an_unsigned_repository_needs_its_own_opt_in(book):
    line = "deb [trusted=yes] file:///srv/repo ./"
    result = check(BASE + f"repositories:\n  - line: '{line}'\n", book)
    assert [str(p) for p in result.problems] == [
        "a.yaml:4:11: repositories[0].line: [trusted=yes] makes apt install this source's packages without checking their signatures: "
        "give the repository's keyring as key: and drop the option, or add `allow_unsigned: true` to this repository to accept that"
    ]
    answers = ok(BASE + f"repositories:\n  - line: '{line}'\n    allow_unsigned: true\n", book)
    assert answers.repositories[0].allow_unsigned is True


def test_yum_repository_line_for_an_rpm_recipe(book):
    text = "version: 1\nrecipe: centos-based\nmirror: http://mirror.example/centos\nrepositories:\n"
    assert ok(text + "  - line: baseurl https://extra.example/el10/x86_64/\n", book).repositories[0].line.startswith("baseurl ")
    result = check(text + "  - line: baseurl=https://extra.example/el10/\n", book)
    assert [str(p) for p in result.problems] == [
        "a.yaml:5:11: repositories[0].line: 'baseurl=https://extra.example/el10/' is not a yum source: write \"baseurl URL\" "
        "(this recipe installs RPM packages)"
    ]


# --- every problem at once ------------------------------------------------------------------


def test_every_problem_is_reported_at_once_in_file_order(book):
    text = (
        "version: 1\n"
        "recipe: debian-based\n"
        "release: bookwrm\n"                       # recipe fit
        "size: 0G\n"                               # schema
        "mirror: ftp://mirror.example/debian\n"    # recipe fit (mirror)
        "packages:\n"
        "  add: ['curl; rm -rf /']\n"              # package name
        "metadata:\n"
        "  url: 'http://$(reboot)/'\n"             # value check
        "  ssh_keys: root\n"                       # unknown key
        "image:\n"
        "  file: ../x.img\n"                       # schema
    )
    result = check(text, book)
    assert not result.ok
    assert [(p.line, p.column, p.key) for p in result.problems] == [
        (3, 10, "release"),
        (4, 7, "size"),
        (5, 9, "mirror"),
        (7, 9, "packages.add[0]"),
        (9, 8, "metadata.url"),
        (10, 3, "metadata.ssh_keys"),
        (12, 9, "image.file"),
    ]
    assert "(did you mean 'ssh_key'?)" in result.problems[5].message
    assert "(did you mean 'bookworm'?)" in result.problems[0].message


def test_duplicate_key_does_not_hide_other_problems(book):
    result = check(BASE + "mirror: http://mirror.example/debian\nmirror: http://mirror.example/debian\nrelese: x\n", book)
    assert not result.ok and result.answers is None
    assert [str(p) for p in result.problems] == [
        "a.yaml:4:1: mirror: duplicate key (first at line 3); YAML would silently keep only the last, so remove one",
        "a.yaml:5:1: relese: unknown key (did you mean 'release'?)",
    ]


def test_duplicate_key_alone_still_fails(book):
    result = check(BASE + "size: 2G\nsize: 2G\n", book)
    assert not result.ok and result.answers is None
    assert [str(p) for p in result.problems] == [
        "a.yaml:4:1: size: duplicate key (first at line 3); YAML would silently keep only the last, so remove one"
    ]


def test_one_mistake_one_problem(book):
    result = check(BASE + "packages:\n  add: [42]\n", book)
    assert [str(p) for p in result.problems] == ["a.yaml:4:9: packages.add[0]: expected text, got a number (42)"]


@pytest.mark.parametrize(("text", "where"), [("---\n", "2:1"), ("null\n", "1:1"), ("~\n", "1:1"), ("--- ~\n", "1:5"), ("---\n...\n", "2:1")])
def test_a_null_document_is_not_an_answer_file(book, text, where):
    # A file that parses to nothing (a bare document marker, or null) must say so, at the null value, never fail with no problem.
    result = check(text, book)
    assert not result.ok
    assert [str(p) for p in result.problems] == [f"a.yaml:{where}: the file holds no settings: it needs at least `version: 1` and `recipe:`"]


def test_output_dir_with_a_control_character_is_a_problem(book):
    result = check(BASE + 'output:\n  dir: "a\\nb"\n', book)
    assert [str(p) for p in result.problems] == ["a.yaml:4:8: output.dir: 'a\\nb' is not a folder name: no control characters or line breaks"]


def test_operator_recipe_is_usable(tmp_path):
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "tiny-debian.yaml").write_text((Path(__file__).parent.parent / "data" / "recipes" / "good" / "tiny-debian.yaml").read_text())
    book = RecipeBook([paths.shipped_dir("recipes"), folder])
    answers = ok("version: 1\nrecipe: tiny-debian\nsize: 1G\n", book)
    assert answers.mirror == "http://mirror.example/debian"  # the recipe's own default
    assert answers.image.file == "euca-debian-2026.11.28-x86_64.img"
    assert check("version: 1\nrecipe: tiny-debian\nsize: 400M\n", book).problems[0].message == (
        "400M is too small for tiny-debian: its root needs at least 500M"
    )


# --- never a traceback -----------------------------------------------------------------------

_TOKENS = [
    "version", "recipe", "debian-based", "centos-based", "release", "bookworm", "size", "1.3G", "-1G", "packages", "add",
    "remove", "repositories", "line", "key", "metadata", "url", "image", "name", "file", "output", "compress", "kernel",
    "1", "2", ":", ": ", "\n", "  ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "---", "#", "'", '"', "!!binary ",
    "!!python/object ", "\t", "? ", "|", ">", "%", "@", "\\", "\x00", "\ufeff", "é", "null", "~", "true", ".inf", "0x1F",
]
_YAMLISH = st.lists(st.sampled_from(_TOKENS) | st.text(max_size=4), max_size=50).map("".join)


def _line_count(raw: bytes | str) -> int:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return max(len(text.splitlines()), len(text.encode("utf-8", "surrogatepass").splitlines())) + 1


@settings(max_examples=500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=300), _YAMLISH, _YAMLISH.map(lambda s: BASE + s), _YAMLISH.map(lambda s: (BASE + s).encode("utf-8", "surrogatepass"))))
def test_validate_bytes_never_raises_and_always_locates(book, raw):
    result = validate_bytes(raw, "fuzz.yaml", book, TODAY)
    assert result.ok or result.problems
    if result.ok:
        assert isinstance(result.answers, Answers)
    for problem in result.problems:
        assert problem.source == "fuzz.yaml"
        assert 1 <= problem.line <= _line_count(raw), problem
        assert problem.column >= 1, problem
        assert problem.message
