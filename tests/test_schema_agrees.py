"""The editor schema (answers.schema.json) catches what `validate` catches, except what it cannot know.

Every file of the bad-answers folder runs through the `jsonschema` library with
the generated schema and through `validate`. Each problem `validate` reports
that the schema misses must carry one reason from the closed list `REASONS`,
declared per file and key below; any other difference fails, and so does a
declared reason that no longer applies. A corpus of single values checks each
pattern against the Python rule it mirrors, both ways.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
import yaml

from emi_tui.engine import paths
from emi_tui.engine.answers import model as answers_module
from emi_tui.engine.answers.keyrings import KeyringError, read_keyring
from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.answers.storage import render_answers
from emi_tui.engine.answers.valuechecks import _source_problem
from emi_tui.engine.answers.yamlload import dotted
from emi_tui.engine.sizes import SizeError, parse_size

DATA = Path(__file__).parent / "data" / "answers"
TODAY = date(2026, 11, 28)
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "answers.schema.json"

RECIPE = "needs a recipe"
YAML_LEVEL = "YAML-level (a plain YAML loader keeps the last duplicate key, expands aliases, refuses tags or the bytes)"
FILESYSTEM = "needs the filesystem"
TWO_VALUES = "relates two values (JSON Schema has no way to compare them)"
#: The closed list: the only reasons a schema may let pass what validate refuses.
REASONS = (RECIPE, YAML_LEVEL, FILESYSTEM, TWO_VALUES)

#: Per file, a reason for the whole file (it does not load as plain YAML) or per key path validate reports.
DIFFERENCES: dict[str, str | dict[str, str]] = {
    "alias-bomb.yaml": YAML_LEVEL,
    "collection-tag.yaml": YAML_LEVEL,
    "invalid-yaml.yaml": YAML_LEVEL,
    "multi-document.yaml": YAML_LEVEL,
    "non-scalar-key.yaml": YAML_LEVEL,
    "not-utf8.yaml": YAML_LEVEL,
    "nul-byte.yaml": YAML_LEVEL,
    "scalar-tag.yaml": YAML_LEVEL,
    "tab-indent.yaml": YAML_LEVEL,
    "duplicate-key.yaml": {"recipe": YAML_LEVEL},
    "duplicate-nested-key.yaml": {"metadata.swap": YAML_LEVEL},
    "duplicate-and-other-problems.yaml": {"recipe": YAML_LEVEL},
    "added-and-removed.yaml": {"packages.add[1]": TWO_VALUES},
    "bad-package-names.yaml": {"packages.add[2]": RECIPE, "packages.add[3]": RECIPE},  # Debian's rule: lower case, two characters
    "no-mirror-ubuntu.yaml": {"recipe": RECIPE},
    "unknown-recipe.yaml": {"recipe": RECIPE},
    "unknown-release-arch.yaml": {"release": RECIPE},
    "trixie-i386.yaml": {"release": RECIPE},  # the recipe says which releases an arch is built for
    "size-too-small.yaml": {"size": RECIPE},
    "size-too-small-centos.yaml": {"size": RECIPE},
    "repository-family-mismatch.yaml": {"repositories[0].line": RECIPE},
    "repository-family-mismatch-rpm.yaml": {"repositories[0].line": RECIPE},
    "repositories-bad.yaml": {"repositories[3].key": FILESYSTEM},
}

BAD_FILES = sorted(p.name for p in (DATA / "bad").glob("*.yaml"))
GOOD_FILES = sorted(p.name for p in (DATA / "good").glob("*.yaml"))


@pytest.fixture(autouse=True)
def no_workstation(monkeypatch):
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: "http://mirror.example/debian")


@pytest.fixture(scope="module")
def book() -> RecipeBook:
    return RecipeBook([paths.shipped_dir("recipes")])


@pytest.fixture(scope="module")
def checker() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_keys(checker: jsonschema.Draft202012Validator, data: object) -> set[str]:
    """The key paths (validate's dotted form) at which the schema finds something wrong."""
    keys: set[str] = set()
    for error in checker.iter_errors(data):
        base = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            keys |= {dotted((*base, k)) for k in error.instance if k not in error.schema.get("properties", {})}
        elif error.validator == "required":
            keys |= {dotted((*base, k)) for k in error.validator_value if k not in error.instance}
        else:
            keys.add(dotted(base))
    return keys


def test_every_declared_reason_is_from_the_closed_list_and_names_a_bad_file():
    for name, reason in DIFFERENCES.items():
        assert name in BAD_FILES, name
        reasons = [reason] if isinstance(reason, str) else list(reason.values())
        assert all(r in REASONS for r in reasons), name


@pytest.mark.parametrize("name", BAD_FILES)
def test_schema_catches_what_validate_catches_or_says_why_not(name, book, checker):
    raw = (DATA / "bad" / name).read_bytes()
    problems = validate_bytes(raw, name, book, TODAY).problems
    assert problems, f"{name} is in the bad folder but validate accepts it"
    declared = DIFFERENCES.get(name, {})
    try:
        data = yaml.safe_load(raw)
    except (yaml.YAMLError, ValueError):
        assert declared == YAML_LEVEL, f"{name} does not load as plain YAML: declare it {YAML_LEVEL!r}"
        return
    if declared == YAML_LEVEL:  # it loads, but only as a plain loader sees it (an alias bomb, expanded)
        assert [p.key for p in problems] == [""], f"{name} loads as plain YAML and validate reads it: its whole-file reason no longer applies"
        return
    assert isinstance(declared, dict)
    found = schema_keys(checker, data)
    missed = {p.key for p in problems} - found
    assert missed == set(declared), f"{name}: the schema misses {sorted(missed)}; declared {sorted(declared)}"
    if not any(p.key == "version" for p in problems):  # a file of another format is read no further than its version
        assert found <= {p.key for p in problems}, f"{name}: the schema refuses {sorted(found - {p.key for p in problems})}, validate does not"


@pytest.mark.parametrize("name", GOOD_FILES)
def test_schema_accepts_the_good_files_and_their_rendering(name, book, checker):
    raw = (DATA / "good" / name).read_bytes()
    result = validate_bytes(raw, name, book, TODAY)
    assert result.ok
    assert not list(checker.iter_errors(yaml.safe_load(raw)))
    assert not list(checker.iter_errors(yaml.safe_load(render_answers(result.answers))))


def test_the_schema_passes_the_issue_list_of_hostile_files(book, checker):
    """The hostile kinds the issue names, each refused by the schema at the key validate names."""
    for name, key in [
        ("bad-package-names.yaml", "packages.add[0]"), ("repository-line-newline.yaml", "repositories[0].line"),
        ("image-file-traversal.yaml", "image.file"), ("size-negative.yaml", "size"),
        ("metadata-url-file-path.yaml", "metadata.url"), ("image-version-shell.yaml", "image.version"),
        ("image-hostile-name.yaml", "image.version"), ("package-names-control.yaml", "packages.add[0]"),
    ]:
        assert key in schema_keys(checker, yaml.safe_load((DATA / "bad" / name).read_bytes())), name


# --- single values: each pattern against the Python rule it mirrors -------------------------------------

BASE = {"version": 1, "recipe": "debian-based", "mirror": "http://mirror.example/debian"}
HOSTILE = ["", " ", "a b", "x;reboot", "$(id)", "`id`", "a|b", "a&&b", "a\nb", "a\n", "\n", "a\tb", "a\x7f", "../x", "a/../b", "é", "\u00a0"]


def _field_verdicts(checker, book, path: tuple[str, ...], value: object) -> tuple[bool, bool]:
    """(validate accepts, schema accepts) for a debian-based answer file with `value` at `path`."""
    data = json.loads(json.dumps(BASE))
    holder = data
    for part in path[:-1]:
        holder = holder.setdefault(part, {})
    holder[path[-1]] = value
    key = dotted(path)
    problems = validate_bytes(json.dumps(data), "corpus.yaml", book, TODAY).problems
    return not any(p.key == key for p in problems), key not in schema_keys(checker, data)


FIELD_CORPUS = {
    ("image", "name"): ["euca-debian-emi", "a", "A.b_c+d-e", "a" * 64, "a" * 65, "a..b", ".a", "-a", "a/b", "a\\b", "a.", "x_"],
    ("image", "version"): ["2026.11.28", "1", "1.0~rc1", "v1+2", "1..2"],
    ("image", "file"): ["x.img", "euca-debian-2026.11.28-x86_64.img", "a" * 124 + ".img", "a" * 125 + ".img", ".img", "a..img",
                        "a.IMG", "a.img.gz", "a/b.img", "a\\b.img", "a b.img"],
    ("mirror",): ["http://mirror.example/debian", "https://m.example:8080/d/", "file:///srv/mirror", "http://", "ftp://m.example/",
                  "http://m.example/a b", "HTTP://m.example", "http://[::1]/debian", "http://user@m.example/~x/%20"],
    ("metadata", "url"): ["http://169.254.169.254", "http://169.254.169.254/", "https://[fd00::1]:80/latest", "http://h/a?b", "file:///x",
                          "/etc/passwd", "http://h/$(x)", "http://h/a%20b"],
    ("output", "dir"): ["./images", "/srv/images", "images with spaces", "x" * 255, "x" * 256, "a/" + "x" * 256, "x/" * 300, "  a  "],
    ("size",): ["1.3G", "4.5G", "1500M", " 2G ", "2GiB", "2gb", "2T", "2.0T", "2048G", "2048.5G", "2.01T", "3T", "0G", "0.0M",
                "-2G", "1.5", "G", "2 G", "2Gi", ".5G", "00002T", "2147483648K", "2147483649K", "2\nG", "2G\n", 2, True],
    ("release",): ["bookworm", "bookworm\n", "a\x00"],
    ("arch",): ["x86_64", "aarch64", "x86-64", "X86_64"],
}


@pytest.mark.parametrize("path", list(FIELD_CORPUS), ids=[".".join(p) for p in FIELD_CORPUS])
def test_each_field_pattern_agrees_with_validate(path, book, checker):
    exact = path not in (("release",), ("arch",))  # these two need the recipe: the schema may only be looser
    for value in FIELD_CORPUS[path] + HOSTILE:
        by_validate, by_schema = _field_verdicts(checker, book, path, value)
        if exact:
            assert by_validate == by_schema, f"{'.'.join(path)} = {value!r}: validate {by_validate}, schema {by_schema}"
        else:
            assert by_schema or not by_validate, f"{'.'.join(path)} = {value!r}: the schema refuses what validate accepts"


PACKAGES = ["vim", "libc6", "g++", "x", "Vim", "NetworkManager", "_x", "python3.11", "a+b-c.d", "-rf", ".hidden", "kernel|reboot"]
LINES = [
    "deb http://m.example/debian bookworm main", "deb-src http://m.example/debian bookworm main contrib",
    "deb [arch=amd64 signed-by=/etc/apt/keyrings/x.gpg] http://m.example/d bookworm main", "deb [ ] http://m.example/d s main",
    "deb [trusted=yes] http://m.example/d bookworm main", "deb [arch+=i386] http://m.example/d s", "deb http://m.example/d ./",
    "deb http://m.example/d / main", "deb http://m.example/d bookworm/updates main/", "deb http://m.example/d bookworm/",
    "deb http://m.example/debian", "deb  http://m.example/d  bookworm  main  ", " deb http://m.example/d s", "deb [x] http://m.example/d s",
    "deb [arch=amd64]http://m.example/d s", "deb ftp://m.example/d s", "baseurl http://m.example/el9/x86_64", "  baseurl  http://m.example/x  ",
    "baseurl http://m.example/$(x)", "baseurl", "baseurl http://a http://b", "deb http://m.example/d main;", "rm -rf /",
    "deb\u00a0http://m.example/d\u00a0s", "deb http://m.example/d s\n", "deb http://m.example/d s\ndeb http://evil/ s",
]
KEYS = ["/usr/share/keyrings/x.gpg", "/etc/apt/keyrings/x.asc", "/x.pgp", "/etc/pki/rpm-gpg/RPM-GPG-KEY", "/etc/pki/", "x.gpg",
        "keyrings/x.gpg", "/a/../x.gpg", "/a/..gpg", "/.gpg", "/a/x.GPG", "/a/x.txt", "/a/x.gpg/", "/a/x.gpg/.", "/a/x.gpg/..",
        "//etc/pki/x", "/a/x.gpg.", "/a/x.gpg\n"]


def test_package_pattern_agrees_with_either_family(checker):
    for name in PACKAGES + HOSTILE:
        data = dict(BASE, packages={"add": [name]})
        by_schema = "packages.add[0]" not in schema_keys(checker, data)
        assert by_schema == (package_name_problem(name, "any") is None), repr(name)


def test_repository_line_pattern_agrees_with_either_family(checker):
    for line in LINES + HOSTILE:
        data = dict(BASE, repositories=[{"line": line, "allow_unsigned": True}])  # the form of the line alone
        by_schema = "repositories[0].line" not in schema_keys(checker, data)
        assert by_schema == (_source_problem(line, None) is None), repr(line)


def test_keyring_pattern_agrees_with_the_checks_before_the_file_is_opened(checker):
    for key in KEYS + HOSTILE:
        data = dict(BASE, repositories=[{"line": "deb http://m.example/d s main", "key": key}])
        by_schema = "repositories[0].key" not in schema_keys(checker, data)
        try:
            read_keyring(key)
            before_opening = True
        except KeyringError as exc:  # the path's form is judged first; anything after that is the filesystem's
            before_opening = not ("must be an absolute path" in str(exc) or "is not a keyring file" in str(exc))
        assert by_schema == before_opening, repr(key)


def test_size_pattern_agrees_with_parse_size(checker):
    for size in FIELD_CORPUS[("size",)] + HOSTILE + ["0.5K", "1K", "0.0000001K", "2097152M", "2097152.1M", "٣G"]:
        try:
            by_python = parse_size(size) >= 0 and not (isinstance(size, str) and not size.isascii())
        except SizeError:
            by_python = False
        assert ("size" not in schema_keys(checker, dict(BASE, size=size))) == by_python, repr(size)


def test_unsigned_rule_agrees_with_validate_on_debian_lines(book, checker):
    """`allow_unsigned: true` is needed exactly when validate (for a Debian recipe) asks for it."""
    options = ["trusted=yes", "trusted=no", "trusted=No", "trusted=0", "trusted=1", "trusted=true", "trusted=no=x", "trusted+=yes",
               "allow-insecure=yes", "allow-insecure=off", "allow-weak=yes", "allow-downgrade-to-insecure=yes", "arch=amd64",
               "arch=amd64 trusted=yes", "trusted=yes arch=amd64", "signed-by=/k.gpg", "untrusted=yes", "trusted-x=yes", "trusted=FALSE"]
    for option in options:
        line = f"deb [{option}] http://m.example/d bookworm main"
        for allow in (None, False, True):
            repository = {"line": line} if allow is None else {"line": line, "allow_unsigned": allow}
            data = dict(BASE, repositories=[repository])
            by_validate = not validate_bytes(json.dumps(data), "corpus.yaml", book, TODAY).problems
            by_schema = not schema_keys(checker, data)
            assert by_validate == by_schema, (option, allow, by_validate, by_schema)
            assert by_validate or allow is not True, (option, allow)


def test_a_pattern_validate_enforces_itself_speaks_in_words(book):
    """The size pattern is enforced by the model too (so the schema is never stricter); its refusal reads as a sentence."""
    text = "version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\nsize: \"\u0663G\"\n"  # an Arabic-Indic three
    assert [str(p) for p in validate_bytes(text, "digits.yaml", book, TODAY).problems] == [
        "digits.yaml:4:7: size: '\u0663G' is not a size above zero and at most 2T such as 1.3G, 4.5G or 1500M (digits 0-9 and a unit K, M, G or T)"
    ]
