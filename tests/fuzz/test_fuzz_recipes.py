"""Fuzzing recipes: `load_recipe_file` and `RecipeBook` never raise, and every problem is located.

The same four generators as for answer files (random YAML made of the
recipe's own key names, near-valid recipes, mutated shipped recipes, random
bytes), written to real files, then whole recipe folders with several files
at once, and the files a folder can hold that are not files at all.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from emi_tui.engine.answers.recipes import Recipe, RecipeBook, load_recipe_file

from .harness import (
    HANG_GUARD_SECONDS,
    known_core_bug,
    known_silent_recipe,
    line_breaks,
    located_summary,
    problem_errors,
    run_bounded,
)
from .strategies import (
    RECIPE_KEYS,
    documents,
    dumped,
    fuzz_settings,
    mutated,
    near_valid_recipes,
    random_bytes,
    shipped_recipe_texts,
)

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

RANDOM_YAML, NEAR_VALID, MUTATED, RANDOM_BYTES, BOOKS = 200, 150, 200, 100, 80

SEEDS = [(yaml.safe_load(text)["name"], text.encode()) for text in shipped_recipe_texts()]


def check_recipe_file(path: Path, raw: bytes, stats: Counter) -> Recipe | None:
    """The contract for one recipe file: no exception, a recipe or located problems (its time: benchmarks/inputs_bench.py)."""
    stats["files"] += 1
    try:
        recipe, problems = load_recipe_file(path)
    except Exception as exc:
        bug = known_core_bug(exc)
        if bug is None:
            raise
        stats[f"known core bug: {bug}"] += 1
        return None
    wrong = problem_errors(problems, str(path), raw)
    assert not wrong, wrong
    if recipe is not None:
        stats["ok"] += 1
        assert isinstance(recipe, Recipe)
        assert not [p for p in problems if p.severity == "error"], problems
        assert recipe.name == path.stem and recipe.default_release in recipe.releases
    else:
        bug = known_silent_recipe(path) if not problems else None
        if bug is not None:
            stats[f"known core bug: {bug}"] += 1
            return None
        stats["problems"] += 1
        assert any(p.severity == "error" for p in problems), f"no recipe and no error for {raw[:200]!r}"
    return recipe


def _in_tmp(stem: str, raw: bytes, stats: Counter, suffix: str = ".yaml") -> None:
    with tempfile.TemporaryDirectory(prefix="emi-fuzz-recipe-") as folder:
        path = Path(folder) / f"{stem}{suffix}"
        path.write_bytes(raw)
        check_recipe_file(path, raw, stats)


def test_random_yaml_recipes():
    stats: Counter = Counter()

    @fuzz_settings(RANDOM_YAML)
    @given(dumped(documents(RECIPE_KEYS)), st.sampled_from([".yaml", ".yml"]))
    def run(raw, suffix):
        _in_tmp("fuzz-recipe", raw, stats, suffix)

    run()
    print(dict(stats))
    assert stats["files"] >= RANDOM_YAML and stats["problems"] > RANDOM_YAML // 2, stats


def _stem_for(doc) -> str:
    name = doc.get("name") if isinstance(doc, dict) else None
    if isinstance(name, str) and name and "/" not in name and "\0" not in name and len(name.encode()) < 200 and name not in (".", ".."):
        return name
    return "debian-based"


def test_near_valid_recipes():
    stats: Counter = Counter()

    @fuzz_settings(NEAR_VALID)
    @given(near_valid_recipes())
    def run(doc):
        raw = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
        _in_tmp(_stem_for(doc), raw, stats)

    run()
    print(dict(stats))
    assert stats["files"] >= NEAR_VALID, stats
    assert stats["ok"] >= 5 and stats["problems"] >= 5, stats


def test_mutated_recipes():
    stats: Counter = Counter()
    # Each mutant keeps its seed's file name, so that a harmless mutation still loads.
    mutants = st.sampled_from(SEEDS).flatmap(lambda seed: mutated([seed[1]]).map(lambda raw: (seed[0], raw)))

    @fuzz_settings(MUTATED)
    @given(mutants)
    def run(mutant):
        stem, raw = mutant
        _in_tmp(stem, raw, stats)

    run()
    print(dict(stats))
    assert stats["files"] >= MUTATED, stats
    assert stats["ok"] >= 5 and stats["problems"] >= 5, stats


def test_random_bytes_recipes():
    stats: Counter = Counter()

    @fuzz_settings(RANDOM_BYTES)
    @given(random_bytes)
    def run(raw):
        _in_tmp("fuzz-recipe", raw, stats)

    run()
    print(dict(stats))
    assert stats["files"] >= RANDOM_BYTES and stats["ok"] == 0, stats


# --------------------------------------------------------------------------- whole folders

_contents = st.one_of(
    st.sampled_from(SEEDS).map(lambda seed: seed[1]),
    st.sampled_from(SEEDS).map(lambda seed: seed[1]),
    mutated([raw for _, raw in SEEDS], max_ops=2),
    dumped(documents(RECIPE_KEYS)),
    random_bytes,
)
_names = st.sampled_from([stem for stem, _ in SEEDS] + ["fuzz", "Bad Name", "ünïcode", ".hidden", "a.b"])
_files = st.one_of(
    st.sampled_from(SEEDS).map(lambda seed: (seed[0], ".yaml", seed[1])),  # a good recipe under its own name
    st.tuples(_names, st.sampled_from([".yaml", ".yml", ".txt"]), _contents),
)
folders = st.lists(_files, min_size=1, max_size=5, unique_by=lambda f: f[0] + f[1])


def test_recipe_books():
    stats: Counter = Counter()

    @fuzz_settings(BOOKS)
    @given(folders)
    def run(files):
        stats["books"] += 1
        with tempfile.TemporaryDirectory(prefix="emi-fuzz-book-") as folder:
            written = {}
            for stem, suffix, raw in files:
                path = Path(folder) / f"{stem}{suffix}"
                path.write_bytes(raw)
                written[path] = raw
            book = RecipeBook([Path(folder)])
            # The book is exactly its files, each read as load_recipe_file reads it, *.yaml before *.yml.
            order = sorted(p for p in written if p.suffix == ".yaml") + sorted(p for p in written if p.suffix == ".yml")
            expected_problems, expected_recipes = [], {}
            for path in order:
                recipe = check_recipe_file(path, written[path], stats)
                expected_problems += load_recipe_file(path)[1]
                if recipe is not None:
                    expected_recipes[recipe.name] = (recipe, path)
            assert book.problems == expected_problems
            assert {name: (r, book.sources[name]) for name, r in book.recipes.items()} == expected_recipes
            for problem in book.problems:
                assert Path(problem.source) in written and problem.source.endswith((".yaml", ".yml"))

    run()
    print(dict(stats))
    assert stats["books"] >= BOOKS and stats["ok"] >= 20 and stats["problems"] >= 20, stats


# --------------------------------------------------------------------------- files that are not files

def _book_in_child(folder: Path):
    def call():
        book = RecipeBook([folder])
        return sorted(book.recipes), located_summary(book.problems)

    return call


def _check_folder(folder: Path, bad_name: str) -> None:
    result = run_bounded(_book_in_child(folder))
    assert "timeout" not in result, f"RecipeBook hung: no answer within the {HANG_GUARD_SECONDS:.0f} s hang guard"
    assert "raised" not in result, result.get("traceback", result)
    names, problems = result["value"]
    assert names == ["tiny-debian"], names  # the good recipe beside the bad entry still loads
    bad = [p for p in problems if p[4].startswith(str(folder / bad_name) + ":")]
    assert bad, problems
    assert all(line >= 1 and column >= 1 and message.strip() for line, column, _k, message, _t, _s in bad)


def _folder_with_good_recipe(tmp_path: Path) -> Path:
    folder = tmp_path / "recipes"
    folder.mkdir()
    stem, raw = next(seed for seed in SEEDS if seed[0] == "tiny-debian")
    (folder / f"{stem}.yaml").write_bytes(raw)
    return folder


@pytest.mark.parametrize("kind", ["directory", "dangling-link", "link-loop", "over-1MB", "link-to-a-folder"])
def test_recipe_folder_entries_that_cannot_be_read(kind, tmp_path):
    folder = _folder_with_good_recipe(tmp_path)
    entry = folder / "odd.yaml"
    if kind == "directory":
        entry.mkdir()
    elif kind == "dangling-link":
        entry.symlink_to(tmp_path / "gone.yaml")
    elif kind == "link-loop":
        entry.symlink_to(entry)
    elif kind == "over-1MB":
        entry.write_bytes(b"name: odd\n" + b"#" * (2 << 20))
    else:
        entry.symlink_to(tmp_path)  # a link to a folder
    _check_folder(folder, "odd.yaml")


def test_fifo_in_a_recipe_folder_is_a_problem_not_a_hang(tmp_path):
    folder = _folder_with_good_recipe(tmp_path)
    os.mkfifo(folder / "fifo.yaml")
    _check_folder(folder, "fifo.yaml")


def test_recipe_size_with_hundreds_of_digits_is_a_problem(tmp_path):
    stem, raw = next(seed for seed in SEEDS if seed[0] == "tiny-debian")
    path = tmp_path / f"{stem}.yaml"
    path.write_bytes(raw.replace(b"min_size: 500M", b"min_size: " + b"9" * 400 + b"G"))
    recipe, problems = load_recipe_file(path)
    assert recipe is None and not problem_errors(problems, str(path), path.read_bytes())
    assert [p.key for p in problems] == ["min_size"], problems


def test_null_recipe_is_a_problem(tmp_path):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(b"---\n")
    recipe, problems = load_recipe_file(path)
    assert recipe is None and problems and not problem_errors(problems, str(path), b"---\n")


@pytest.mark.parametrize(
    "text",
    ["[" * 10_000 + "]" * 10_000, "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7))],
    ids=["nested-10k", "alias-bomb"],
)
def test_adversarial_recipe_files(text, tmp_path):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)

    def call():
        recipe, problems = load_recipe_file(path)
        return recipe is None, located_summary(problems)

    result = run_bounded(call)
    assert "timeout" not in result and "raised" not in result, result
    rejected, problems = result["value"]
    assert rejected and problems
    assert all(1 <= line <= line_breaks(text.encode()) + 2 and column >= 1 for line, column, *_ in problems)


def test_recipe_arch_names_are_words(tmp_path, monkeypatch):
    from emi_tui.engine.answers import model as answers_module
    from emi_tui.engine.answers.model import validate_bytes

    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: "http://mirror.example/debian")
    stem, raw = next(seed for seed in SEEDS if seed[0] == "debian-based")
    (tmp_path / f"{stem}.yaml").write_bytes(raw.replace(b"  x86_64: amd64\n", b'  "x86 64": amd64\n'))
    book = RecipeBook([tmp_path])
    if "debian-based" not in book.recipes:  # refused where it is written: fine
        assert any(p.key.startswith("arches") for p in book.problems), book.problems
        return
    answers = b'version: 1\nrecipe: debian-based\narch: "x86 64"\nmirror: http://mirror.example/debian\n'
    validation = validate_bytes(answers, "fuzz.yaml", book)
    assert validation.ok or any(p.key == "arch" for p in validation.problems)
