"""`validate --format json|github` and `review --format github`: what a CI job reads, placed on the right line.

The annotations are read back as GitHub's runner reads workflow commands
(`::LEVEL k=v,…::MESSAGE`, then %25, %0D, %0A and, in values, %3A and %2C
unescaped), so a test fails when a line, column, file name or message would
not arrive intact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emi_tui.commands.annotations import annotation, escape_data, escape_property

DATA = Path(__file__).parent / "data"
BAD = DATA / "answers" / "bad"
GOOD = DATA / "answers" / "good"


def emi(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", XDG_CONFIG_HOME=str(cwd / ".no-config"))
    done = subprocess.run([sys.executable, "-m", "emi_tui", *args], cwd=cwd, env=env, check=False, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def _unescape(text: str, prop: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else [])
    for escaped, char in pairs:
        text = text.replace(escaped, char)
    return text.replace("%25", "%")


def parse_annotation(line: str) -> dict[str, str]:
    """One workflow command as GitHub's runner reads it: level, properties and message, unescaped."""
    assert line.startswith("::"), line
    command, _, message = line[2:].partition("::")
    level, _, props = command.partition(" ")
    parsed = {"level": level, "message": _unescape(message, prop=False)}
    for prop in props.split(","):
        key, _, value = prop.partition("=")
        parsed[key] = _unescape(value, prop=True)
    return parsed


# --- the escaping itself ------------------------------------------------------------------------


def test_escaping_of_messages_and_properties():
    assert escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("bell\x07 esc\x1b[31m") == "bell\\x07 esc\\x1b[31m"  # shown, never sent to the terminal
    line = annotation("error", "two\nlines: 100%", "t:i,tle", file="d/x:1,y%.yaml", line=3, column=7)
    assert line == "::error file=d/x%3A1%2Cy%25.yaml,line=3,col=7,title=t%3Ai%2Ctle::two%0Alines: 100%25"
    assert parse_annotation(line) == {
        "level": "error", "file": "d/x:1,y%.yaml", "line": "3", "col": "7", "title": "t:i,tle", "message": "two\nlines: 100%",
    }


def test_an_annotation_without_a_place_has_no_line():
    assert annotation("warning", "m", "T") == "::warning title=T::m"
    assert annotation("warning", "m", "T", file="f") == "::warning file=f,title=T::m"


# --- validate --format github -------------------------------------------------------------------


def test_validate_github_places_each_problem_on_its_line_and_column():
    done = emi("validate", "--format", "github", "unknown-keys-typo.yaml", "invalid-yaml.yaml", "not-utf8.yaml", cwd=BAD)
    assert done.returncode == 2
    assert done.stderr == ""
    found = [parse_annotation(line) for line in done.stdout.splitlines()]
    assert [(a["level"], a["file"], a["line"], a["col"], a["title"]) for a in found] == [
        ("error", "unknown-keys-typo.yaml", "4", "1", "emi-tui validate"),
        ("error", "unknown-keys-typo.yaml", "6", "3", "emi-tui validate"),
        ("error", "unknown-keys-typo.yaml", "8", "3", "emi-tui validate"),
        ("error", "invalid-yaml.yaml", "3", "10", "emi-tui validate"),  # the file does not parse as YAML
        ("error", "not-utf8.yaml", "5", "12", "emi-tui validate"),
    ]
    assert found[0]["message"] == "relese: unknown key (did you mean 'release'?)"
    assert found[3]["message"] == "this is not valid YAML: mapping values are not allowed in this context"


def test_validate_github_keeps_odd_file_names_and_messages_intact(tmp_path):
    name = "x:1,\n50%.yaml"
    (tmp_path / name).write_text('version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\nsize: "50%"\n')
    done = emi("validate", "--format", "github", name, cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stdout.splitlines()  # one line per annotation: the newline of the name is escaped
    found = parse_annotation(line)
    assert (found["file"], found["line"], found["col"]) == (name, "4", "7")
    assert found["message"].startswith("size: '50%' is not a size")


def test_validate_github_of_good_files_prints_nothing_and_exits_0():
    done = emi("validate", "--format", "github", "minimal-debian.yaml", "ubuntu.yaml", cwd=GOOD)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


# --- validate --format json ---------------------------------------------------------------------


def test_validate_json_lists_every_problem_with_its_place():
    done = emi("validate", "--format", "json", "choice-typos.yaml", "tab-indent.yaml", cwd=BAD)
    assert done.returncode == 2
    assert json.loads(done.stdout) == [
        {"file": "choice-typos.yaml", "line": 5, "column": 13, "key": "output.compress", "severity": "error",
         "message": "'gz' is not one of gzip, zstd, xz or none (did you mean 'gzip'?)"},
        {"file": "choice-typos.yaml", "line": 7, "column": 12, "key": "metadata.ssh_key", "severity": "error",
         "message": "'admin' is not one of root, ec2-user or none"},
        {"file": "tab-indent.yaml", "line": 4, "column": 1, "key": "", "severity": "error",
         "message": "this is not valid YAML: found character that cannot start any token"},
    ]


def test_validate_json_matches_the_text_form_for_every_bad_file():
    names = sorted(p.name for p in BAD.glob("*.yaml"))
    text = emi("validate", *names, cwd=BAD)
    done = emi("validate", "--format", "json", *names, cwd=BAD)
    assert done.returncode == text.returncode == 2
    as_text = [f"{p['file']}:{p['line']}:{p['column']}: " + (f"{p['key']}: " if p["key"] else "") + p["message"] for p in json.loads(done.stdout)]
    assert as_text == [line for line in text.stderr.splitlines() if not line.endswith(("problems", "problem"))]


def test_validate_json_of_a_good_file_is_an_empty_list_and_warnings_are_warnings(tmp_path):
    (tmp_path / "a.yaml").write_text(
        "version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\n"
        "repositories:\n  - line: deb [trusted=yes] http://extra.example/debian bookworm main\n    allow_unsigned: true\n"
    )
    assert json.loads(emi("validate", "--format", "json", str(GOOD / "minimal-debian.yaml"), cwd=tmp_path).stdout) == []
    done = emi("validate", "--format", "json", "a.yaml", cwd=tmp_path)
    assert done.returncode == 0
    found = json.loads(done.stdout)
    assert found and {(p["file"], p["severity"]) for p in found} == {("a.yaml", "warning")}
    github = emi("validate", "--format", "github", "a.yaml", cwd=tmp_path)
    assert github.returncode == 0 and all(line.startswith("::warning file=a.yaml,line=1,col=1,") for line in github.stdout.splitlines())


@pytest.mark.parametrize("fmt", ["json", "github"])
def test_validate_formats_keep_the_exit_status_of_a_missing_file(fmt, tmp_path):
    done = emi("validate", "--format", fmt, "nope.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "nope.yaml" in done.stdout


# --- review --format github ---------------------------------------------------------------------


def test_review_github_annotates_errors_and_warnings_and_keeps_the_exit_status():
    catalog = DATA / "review" / "emi-ids.txt"
    done = emi("review", "--format", "github", str(catalog), cwd=DATA)
    assert done.returncode == 1
    found = [parse_annotation(line) for line in done.stdout.splitlines()]
    entries = json.loads(emi("review", "--json", str(catalog), cwd=DATA).stdout)
    expected = [(p["severity"], f"{e['entry']}: " + (f"{p['field']}: " if p["field"] else "") + p["message"])
                for e in entries for p in e["problems"]]
    assert [(a["level"], a["message"]) for a in found] == expected
    assert {"error", "warning"} <= {a["level"] for a in found}
    assert {(a["file"], a["title"]) for a in found} == {(str(catalog), "emi-tui review")}


def test_review_github_places_each_annotation_on_the_line_it_is_about():
    # Before, every review annotation named the file only: a CI system showed them all at its top.
    catalog = DATA / "review" / "emi-ids.txt"
    lines = catalog.read_text().splitlines()
    found = [parse_annotation(line) for line in emi("review", "--format", "github", str(catalog), cwd=DATA).stdout.splitlines()]
    assert found and all(a.get("line", "").isdigit() for a in found), found
    for a in found:
        text = lines[int(a["line"]) - 1]
        entry, _, rest = a["message"].partition(": ")
        key = rest.partition(": ")[0]
        if key in ("image_name", "image_file", "image_version", "image_arch", "image_date", "image_stamp", "recipe_name") and "is missing" not in rest:
            assert key.removeprefix("image_") in text, (a, text)  # an old entry's `date …`/`stamp …` line is its date or stamp
        elif key == "tarball":
            assert rest.split()[2] == text.strip(), (a, text)  # "tarball: tarball NAME …": the line of NAME
        else:
            assert text.rstrip().endswith(":") and entry in text, (a, text)  # about the entry as a whole: its heading


def test_review_github_lines_in_a_loose_file(tmp_path):
    path = tmp_path / "image-id"
    path.write_text(
        'image_name="euca-debian-emi"\nimage_version="2011.08.15"\nimage_arch="x86_64"\n'
        'image_file="euca-debian-2011.08.15-x86_64.img"\nimage_stamp="nothex"\nimage_date=20110815122021\n'
        "not a key value line\nimage_arch=\"x86_64\"\n"
    )
    found = [parse_annotation(line) for line in emi("review", "--format", "github", str(path), cwd=tmp_path).stdout.splitlines()]
    where = {(a["line"], a["message"].partition(":")[0]) for a in found}
    assert ("5", "image_stamp") in where  # the stamp's own line
    assert ("6", "image_date") in where  # unquoted: the line that says so
    assert any(a["line"] == "7" and "is not a key" in a["message"] for a in found)
    assert ("8", "image_arch") in where  # set a second time: the second line
    assert ("1", "recipe_name") in where  # missing: the top of the file


def test_review_format_json_is_review_json():
    path = str(DATA / "review" / "euca-debian.image-id")
    done = emi("review", "--format", "json", path, cwd=DATA)
    assert done.returncode == 0
    assert json.loads(done.stdout) == json.loads(emi("review", "--json", path, cwd=DATA).stdout)
    assert emi("review", "--format", "github", path, cwd=DATA).stdout == ""
