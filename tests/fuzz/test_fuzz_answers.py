"""Fuzzing answer files: whatever the bytes, `validate_bytes` answers within a second, with located problems.

Four generators, 2,200 files in all (derandomized, so CI sees the same ones):
random YAML documents made of the real key names and their typos, near-valid
answer files (so that validation gets past the schema into the recipe and
value checks, and some come out ok), valid files mutated byte by byte and
line by line, and bytes that are not YAML at all. Then a few fixed
adversarial files: over the size limit, nested 10,000 deep, an alias bomb,
100,000 keys, very long lines.
"""

from __future__ import annotations

import sys
import time
from collections import Counter

import pytest
from hypothesis import given

from emi_tui.engine import paths
from emi_tui.engine.answers import model as answers_module
from emi_tui.engine.answers.model import Answers, Validation, validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.answers.storage import render_answers
from emi_tui.engine.answers.yamlload import MAX_BYTES, MAX_NODES
from emi_tui.engine.errors import Problem

from .harness import (
    HANG_GUARD_SECONDS,
    known_core_bug,
    known_silent_answers,
    line_breaks,
    located_summary,
    problem_errors,
    run_bounded,
)
from .strategies import (
    ANSWER_KEYS,
    DATA,
    MIRROR,
    documents,
    dumped,
    fuzz_settings,
    mutated,
    near_valid_answers,
    random_bytes,
)

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

SOURCE = "fuzz.yaml"

RANDOM_YAML, NEAR_VALID, MUTATED, RANDOM_BYTES = 700, 500, 600, 400
assert RANDOM_YAML + NEAR_VALID + MUTATED + RANDOM_BYTES >= 2000


@pytest.fixture(autouse=True)
def workstation(monkeypatch):
    """The default mirror comes from this fake workstation, never from the real apt sources."""
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: MIRROR)


@pytest.fixture(scope="module")
def book() -> RecipeBook:
    book = RecipeBook([paths.shipped_dir("recipes")])
    assert book.problems == [] and len(book.recipes) >= 3
    return book


def seed_files(book: RecipeBook) -> list[bytes]:
    """Valid answer files: the good test files, and one with every key written out by render_answers."""
    seeds = [p.read_bytes() for p in sorted((DATA / "answers" / "good").glob("*.yaml"))]
    full = validate_bytes(seeds[0], "seed.yaml", book)
    assert full.ok, full.problems
    seeds.append(render_answers(full.answers).encode())
    for seed in seeds:
        assert validate_bytes(seed, "seed.yaml", book).ok
    return seeds


def check_answer_file(raw: bytes, book: RecipeBook, stats: Counter) -> None:
    """The issue's contract for one file: no exception, ok or located problems.

    How long a file takes is a benchmark figure (benchmarks/inputs_bench.py), not asserted here.
    """
    stats["files"] += 1
    try:
        validation = validate_bytes(raw, SOURCE, book)
    except Exception as exc:
        bug = known_core_bug(exc)
        if bug is None:
            raise
        stats[f"known core bug: {bug}"] += 1
        return
    assert not problem_errors(validation.problems, SOURCE, raw), problem_errors(validation.problems, SOURCE, raw)
    if validation.ok:
        stats["ok"] += 1
        answers, recipe = validation.answers, validation.recipe
        assert isinstance(answers, Answers) and recipe is not None
        # Resolved: every default is filled in, from the recipe.
        assert answers.release in recipe.releases and answers.arch in recipe.arches
        assert answers.mirror and answers.image.name and answers.image.version and answers.image.file
    else:
        bug = known_silent_answers(validation)
        if bug is not None:
            stats[f"known core bug: {bug}"] += 1
            return
        stats["problems"] += 1
        assert validation.problems, f"neither ok nor any problem for {raw[:200]!r}"
        assert any(p.severity == "error" for p in validation.problems)


def test_random_yaml_answer_files(book):
    stats: Counter = Counter()

    @fuzz_settings(RANDOM_YAML)
    @given(dumped(documents(ANSWER_KEYS)))
    def run(raw):
        check_answer_file(raw, book, stats)

    run()
    print(dict(stats))
    assert stats["files"] >= RANDOM_YAML, stats
    assert stats["problems"] > RANDOM_YAML // 2, stats


def test_near_valid_answer_files(book):
    stats: Counter = Counter()

    @fuzz_settings(NEAR_VALID)
    @given(dumped(near_valid_answers()))
    def run(raw):
        check_answer_file(raw, book, stats)

    run()
    print(dict(stats))
    assert stats["files"] >= NEAR_VALID, stats
    # The generator must reach both ends: files that resolve, and files with problems.
    assert stats["ok"] >= 10 and stats["problems"] >= 10, stats


def test_mutated_answer_files(book):
    stats: Counter = Counter()

    @fuzz_settings(MUTATED)
    @given(mutated(seed_files(book)))
    def run(raw):
        check_answer_file(raw, book, stats)

    run()
    print(dict(stats))
    assert stats["files"] >= MUTATED, stats
    assert stats["ok"] >= 10 and stats["problems"] >= 10, stats


def test_random_bytes_answer_files(book):
    stats: Counter = Counter()

    @fuzz_settings(RANDOM_BYTES)
    @given(random_bytes)
    def run(raw):
        check_answer_file(raw, book, stats)

    run()
    print(dict(stats))
    assert stats["files"] >= RANDOM_BYTES, stats
    assert stats["ok"] == 0 and stats["problems"] >= RANDOM_BYTES - 10, stats


# --------------------------------------------------------------------------- fixed adversarial files

VALID_HEAD = f"version: 1\nrecipe: debian-based\nmirror: {MIRROR}\n"
LOL = '["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
BILLION_LAUGHS = f"a: &a {LOL}\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")
)

#: name -> (file text, a word the problem must say: lower case, any of them)
ADVERSARIAL = {
    "over-1MB": ("a: " + "x" * MAX_BYTES + "\n", ["bytes"]),
    "1MB-of-comments": ("# " + "x" * (MAX_BYTES - 200) + "\n", ["empty"]),
    "nested-lists-10k-flow": ("[" * 10_000 + "]" * 10_000, ["nest"]),
    "nested-lists-10k-block": ("- " * 10_000 + "x\n", ["nest"]),
    "nested-mappings-10k-flow": ("{a: " * 10_000 + "1" + "}" * 10_000, ["nest"]),
    "billion-laughs": (BILLION_LAUGHS, [f"{MAX_NODES:,}"]),
    "alias-bomb-under-a-real-key": (BILLION_LAUGHS + VALID_HEAD + "packages:\n  add: *i\n", [f"{MAX_NODES:,}"]),
    "100k-key-mapping": ("".join(f"{i:x}: 0\n" for i in range(100_000)), [f"{MAX_NODES:,}"]),
    "100k-key-flow-mapping": ("{" + ", ".join(f"{i:x}: 0" for i in range(100_000)) + "}\n", [f"{MAX_NODES:,}"]),
    "long-value-line": (VALID_HEAD.replace("debian-based", "a" * 200_000), ["no recipe"]),
    "long-key-line": (VALID_HEAD + "k" * 200_000 + ": 1\n", ["unknown key", "yaml"]),
    "long-comment-line": (VALID_HEAD + "# " + "x" * 500_000 + "\nsize: 1Q\n", ["not a size"]),
    "long-escaped-string": (VALID_HEAD.replace(MIRROR, '"' + "\\t" * 100_000 + '"'), ["mirror"]),
    "long-list-on-one-line": (VALID_HEAD + "packages: {add: [" + ", ".join(f"p{i}x" for i in range(3000)) + ", Bad]}\n", ["lower case"]),
    "wide-but-legal-mapping": (VALID_HEAD + "".join(f"x{i}: {i}\n" for i in range(2000)), ["unknown key"]),
    "one-1MB-line": ("recipe: " + "a" * (MAX_BYTES - 100), ["version"]),
}


def _validate_in_child(raw: bytes, book: RecipeBook):
    def call():
        validation = validate_bytes(raw, SOURCE, book)
        return validation.ok, located_summary(validation.problems)

    return call


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_answer_file(name, book):
    text, expected = ADVERSARIAL[name]
    raw = text.encode()
    result = run_bounded(_validate_in_child(raw, book))
    assert "timeout" not in result, f"validate_bytes hung: no answer within the {HANG_GUARD_SECONDS:.0f} s hang guard"
    assert "raised" not in result, result.get("traceback", result)
    ok, problems = result["value"]
    assert not ok and problems
    for line, column, _key, message, text_, _severity in problems:
        assert line >= 1 and column >= 1 and message.strip() and text_.startswith(f"{SOURCE}:")
        assert line <= line_breaks(raw) + 2
    assert any(word in message.lower() for *_, message, _text, _sev in problems for word in expected), problems


# --------------------------------------------------------------------------- the core bugs the generators step over


def test_null_document_is_a_problem(book):
    validation = validate_bytes(b"null\n", SOURCE, book)
    assert not validation.ok
    assert validation.problems and not problem_errors(validation.problems, SOURCE, b"null\n")


def _problem_at(raw: bytes, key: str, book: RecipeBook) -> None:
    validation = validate_bytes(raw, SOURCE, book)
    assert not validation.ok
    assert not problem_errors(validation.problems, SOURCE, raw)
    assert any(p.key == key for p in validation.problems), [str(p) for p in validation.problems]


def test_size_with_hundreds_of_digits_is_a_problem(book):
    _problem_at((VALID_HEAD + "size: " + "9" * 400 + "G\n").encode(), "size", book)


def test_overlong_keyring_path_is_a_problem(book):
    raw = VALID_HEAD + f"repositories:\n  - line: deb http://extra.example/debian bookworm main\n    key: /{'k' * 300}.gpg\n"
    _problem_at(raw.encode(), "repositories[0].key", book)


def test_image_version_with_final_newline_is_a_problem(book):
    _problem_at((VALID_HEAD + 'image:\n  version: "1.0\\n"\n').encode(), "image.version", book)


def test_the_checks_can_fail(book, monkeypatch):
    """The harness itself: a new exception, an unlocated problem or a hang fails a fuzz test."""
    assert known_core_bug(ValueError("boom")) is None
    assert known_core_bug(OSError(2, "No such file or directory")) is None
    assert known_core_bug(OverflowError("int too large to convert")) is None
    bad = [Problem(SOURCE, 0, 1, "", "x"), Problem("other.yaml", 1, 1, "", "x"), Problem(SOURCE, 1, 1, "", " ")]
    assert len(problem_errors(bad, SOURCE, b"a: 1\n")) == 3
    assert problem_errors([Problem(SOURCE, 9, 1, "", "past the end")], SOURCE, b"a: 1\n")

    def raises(*_args):
        raise KeyError("new bug")

    monkeypatch.setattr(sys.modules[__name__], "validate_bytes", raises)
    with pytest.raises(KeyError):
        check_answer_file(b"version: 1\n", book, Counter())

    # A call that never returns is reported as a hang (with a short guard, so that this test is quick).
    assert run_bounded(lambda: time.sleep(60), 0.5) == {"timeout": 0.5}
    assert run_bounded(lambda: 1 // 0)["raised"].startswith("ZeroDivisionError")

    monkeypatch.setattr(sys.modules[__name__], "validate_bytes", lambda *a: Validation(SOURCE))
    with pytest.raises(AssertionError, match="neither ok nor any problem"):
        check_answer_file(b"version: 1\n", book, Counter())
