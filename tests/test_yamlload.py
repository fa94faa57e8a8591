"""The located YAML loader: positions of keys and values, and refusal of what YAML hides."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from emi_tui.engine.answers.yamlload import (
    MAX_BYTES,
    MAX_NODES,
    Located,
    dotted,
    load_located,
    load_located_file,
)
from emi_tui.engine.errors import Problem


def messages(located: Located) -> list[str]:
    return [str(p) for p in located.problems]


def only_problem(located: Located) -> Problem:
    assert len(located.problems) == 1, messages(located)
    return located.problems[0]


# --- positions -----------------------------------------------------------------------------

DOC = """\
# a comment first
version: 1
recipe: debian-based
packages:
  add: [htop, tmux]
  remove:
    - vim-tiny
repositories:
  - line: deb http://extra.example/debian bookworm main
    key: /etc/keyring.gpg
"""


def test_plain_values_are_built():
    located = load_located(DOC, "a.yaml")
    assert located.problems == []
    assert located.data == {
        "version": 1,
        "recipe": "debian-based",
        "packages": {"add": ["htop", "tmux"], "remove": ["vim-tiny"]},
        "repositories": [{"line": "deb http://extra.example/debian bookworm main", "key": "/etc/keyring.gpg"}],
    }


@pytest.mark.parametrize(
    "path, key_at, value_at",
    [
        (("version",), (2, 1), (2, 10)),
        (("recipe",), (3, 1), (3, 9)),
        (("packages",), (4, 1), (5, 3)),
        (("packages", "add"), (5, 3), (5, 8)),
        (("packages", "remove"), (6, 3), (7, 5)),
        (("repositories",), (8, 1), (9, 3)),
        (("repositories", 0, "key"), (10, 5), (10, 10)),
    ],
)
def test_positions_of_keys_and_values(path, key_at, value_at):
    located = load_located(DOC, "a.yaml")
    assert located.key_at[path] == key_at
    assert located.value_at[path] == value_at
    assert located.position(path, of_key=True) == key_at
    assert located.position(path) == value_at


def test_positions_of_list_items():
    located = load_located(DOC, "a.yaml")
    assert located.value_at[("packages", "add", 0)] == (5, 9)
    assert located.value_at[("packages", "add", 1)] == (5, 15)
    assert located.value_at[("packages", "remove", 0)] == (7, 7)
    assert located.value_at[("repositories", 0)] == (9, 5)


def test_position_of_a_missing_path_falls_back_to_its_nearest_parent():
    located = load_located(DOC, "a.yaml")
    assert located.position(("repositories", 0, "nope")) == (9, 5)
    assert located.position(("packages", "add", 7)) == (5, 8)
    assert located.position(("no", "such", "thing")) == (2, 1)  # the document itself


def test_problem_is_located_and_dotted():
    located = load_located(DOC, "a.yaml")
    problem = located.problem(("packages", "add", 1), "bad name")
    assert (problem.line, problem.column, problem.key) == (5, 15, "packages.add[1]")
    assert str(problem) == "a.yaml:5:15: packages.add[1]: bad name"


def test_problem_without_key_path_omits_it():
    assert str(Problem("f.yaml", 3, 4, "", "broken")) == "f.yaml:3:4: broken"


@pytest.mark.parametrize(
    "path, text",
    [
        ((), ""),
        (("version",), "version"),
        (("packages", "add", 2), "packages.add[2]"),
        (("repositories", 0, "key"), "repositories[0].key"),
        ((0, 1), "[0][1]"),
    ],
)
def test_dotted(path, text):
    assert dotted(path) == text


def test_crlf_line_endings_give_the_same_positions():
    located = load_located(DOC.replace("\n", "\r\n"), "a.yaml")
    assert located.problems == []
    assert located.key_at[("repositories", 0, "key")] == (10, 5)


def test_utf8_byte_order_mark_is_accepted():
    located = load_located("\ufeffversion: 1\n".encode(), "a.yaml")
    assert located.problems == []
    assert located.data == {"version": 1}


def test_str_and_bytes_load_alike():
    assert load_located(DOC, "a").data == load_located(DOC.encode(), "a").data


# --- what YAML hides -----------------------------------------------------------------------


def test_duplicate_key_is_a_problem_at_the_second_key():
    located = load_located("a: 1\nb: 2\na: 3\n", "d.yaml")
    problem = only_problem(located)
    assert (problem.line, problem.column, problem.key) == (3, 1, "a")
    assert "duplicate key (first at line 1)" in problem.message
    assert located.data["a"] == 1  # the first one is kept, not silently the last


def test_duplicate_key_in_a_nested_mapping_and_in_flow_style():
    located = load_located("m:\n  x: 1\n  y: {p: 1, p: 2}\n  x: 2\n", "d.yaml")
    found = {(p.line, p.column, p.key) for p in located.problems}
    assert found == {(3, 13, "m.y.p"), (4, 3, "m.x")}


def test_a_key_that_is_a_list_is_a_problem():
    problem = only_problem(load_located("? [a, b]\n: c\n", "k.yaml"))
    assert (problem.line, problem.column) == (1, 3)
    assert "a key must be a plain word" in problem.message


def test_alias_bomb_is_refused():
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 9) + "]")
    located = load_located("\n".join(lines) + "\n", "bomb.yaml")
    problem = only_problem(located)
    assert (problem.line, problem.column) == (1, 1)
    assert f"more than {MAX_NODES:,} values" in problem.message
    assert located.data is None


def test_small_aliases_are_fine():
    located = load_located("x: &a [1, 2]\ny: *a\n", "a.yaml")
    assert located.problems == []
    assert located.data == {"x": [1, 2], "y": [1, 2]}


def test_more_than_one_document_is_refused_at_the_second():
    problem = only_problem(load_located("a: 1\n---\nb: 2\n", "m.yaml"))
    assert (problem.line, problem.column) == (3, 1)
    assert "more than one YAML document" in problem.message


def test_a_leading_document_marker_is_fine():
    located = load_located("---\na: 1\n", "m.yaml")
    assert located.problems == []
    assert located.data == {"a": 1}


@pytest.mark.parametrize("text", ["", "   \n\n", "# just a comment\n", "\n# one\n  # two\n"])
def test_empty_documents(text):
    problem = only_problem(load_located(text, "e.yaml"))
    assert (problem.line, problem.column) == (1, 1)
    assert "the file is empty" in problem.message


def test_non_utf8_byte_is_located():
    problem = only_problem(load_located(b"a: 1\nb: caf\xe9\n", "n.yaml"))
    assert (problem.line, problem.column) == (2, 7)
    assert "byte 0xe9 is not UTF-8" in problem.message


def test_file_over_the_limit_is_refused_without_parsing():
    raw = b"a: 1\n" + b"#" * MAX_BYTES
    problem = only_problem(load_located(raw, "big.yaml"))
    assert (problem.line, problem.column) == (1, 1)
    assert f"{len(raw):,} bytes" in problem.message


def test_file_at_the_limit_is_read():
    raw = b"a: 1\n#"
    raw += b"x" * (MAX_BYTES - len(raw))
    assert len(raw) == MAX_BYTES
    located = load_located(raw, "big.yaml")
    assert located.problems == []
    assert located.data == {"a": 1}


def test_syntax_error_is_located():
    problem = only_problem(load_located("a: 1\nb: [1, 2\nc: 3\n", "s.yaml"))
    assert problem.line >= 2
    assert problem.message.startswith("this is not valid YAML: ")


def test_unknown_tag_becomes_a_problem_not_an_exception():
    located = load_located("a: !!python/name:os.system\n", "t.yaml")
    problem = only_problem(located)
    assert (problem.line, problem.column, problem.key) == (1, 4, "a")
    assert problem.message.startswith("cannot read this value")


def test_unknown_tag_message_is_one_line():
    problem = only_problem(load_located("a: !!python/name:os.system\n", "t.yaml"))
    assert str(problem) == (
        "t.yaml:1:4: a: cannot read this value: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/name:os.system'; write a plain value"
    )


def test_unknown_tag_on_a_list_item_is_located_at_the_item():
    problem = only_problem(load_located("a:\n  - ok\n  - !custom x\n", "t.yaml"))
    assert (problem.line, problem.column, problem.key) == (3, 5, "a[1]")
    assert "\n" not in problem.message and problem.message.endswith("; write a plain value")


def test_non_printable_character_is_located():
    problem = only_problem(load_located("a: 1\nb: x\x00\n", "z.yaml"))
    assert str(problem) == "z.yaml:2:5: the control character 0x0000 is not allowed in YAML: remove it"


@pytest.mark.parametrize(("text", "where", "code"), [
    ("a: \x1b[31m\n", (1, 4), "0x001b"),
    ("a: 1\r\nb: \x7f\n", (2, 4), "0x007f"),
    ("a: 1\n# a comment with a bell \x07\n", (2, 25), "0x0007"),
])
def test_other_control_characters_are_located(text, where, code):
    problem = only_problem(load_located(text, "z.yaml"))
    assert (problem.line, problem.column) == where
    assert problem.message == f"the control character {code} is not allowed in YAML: remove it"


def test_tab_and_line_ends_are_not_control_characters_to_yaml():
    located = load_located("a: 'x\ty'\r\nb: 2\n", "z.yaml")
    assert located.problems == []
    assert located.data == {"a": "x\ty", "b": 2}


@pytest.mark.parametrize(
    "text",
    [
        "[" * 600 + "]" * 600,
        "{a: " * 600 + "1" + "}" * 600,
        "- " * 600 + "x\n",
        "".join("  " * i + "a:\n" for i in range(600)) + "  " * 600 + "1\n",
    ],
    ids=["flow-lists", "flow-mappings", "block-lists", "block-mappings"],
)
def test_deep_nesting_is_a_problem_not_a_traceback(text):
    located = load_located(text, "deep.yaml")
    problem = only_problem(located)
    assert str(problem) == "deep.yaml:1:1: the document is nested too deeply to be a settings file"
    assert located.data is None


def test_nesting_past_libyamls_own_limit_is_located_where_it_stops():
    problem = only_problem(load_located("[" * 5000 + "]" * 5000, "deep.yaml"))
    assert str(problem) == "deep.yaml:1:1001: this is not valid YAML: exceeded maximum nesting depth"


def test_a_mapping_as_a_key_is_refused_before_it_nests():
    # "{{{…}}}" is a mapping whose key is a mapping: that, at its first key, is the problem.
    problem = only_problem(load_located("{" * 600 + "}" * 600, "deep.yaml"))
    assert str(problem) == "deep.yaml:1:2: a key must be a plain word, not a list or mapping"


def test_moderate_nesting_is_fine():
    text = "[" * 100 + "]" * 100
    located = load_located(text, "n.yaml")
    assert located.problems == []


# --- files -------------------------------------------------------------------------------


def test_load_located_file_reads_the_file(tmp_path: Path):
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n")
    located = load_located_file(path)
    assert located.source == str(path)
    assert located.data == {"a": 1}


def test_missing_file_is_a_problem(tmp_path: Path):
    problem = only_problem(load_located_file(tmp_path / "nope.yaml"))
    assert problem.source == str(tmp_path / "nope.yaml")
    assert "cannot read the file: No such file or directory" in problem.message


def test_a_directory_is_a_problem(tmp_path: Path):
    problem = only_problem(load_located_file(tmp_path))
    assert str(problem) == f"{tmp_path}:1:1: not a regular file: give the path of a YAML file"


def test_libyaml_does_the_parsing_when_it_is_there():
    # The pure-Python parser takes seconds over a megabyte; libyaml a fraction of one.
    from emi_tui.engine.answers import yamlload

    assert yaml.__with_libyaml__, "PyYAML was built without libyaml"
    assert yamlload._LOADER is yaml.CSafeLoader
