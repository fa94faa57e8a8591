"""Recipes: the shipped ones, bad recipe files with located problems, operator folders, `emi-tui recipes`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emi_tui.engine import paths
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.answers.recipes import RecipeBook, load_recipe_file, recipe_dirs
from emi_tui.engine.errors import EmiError
from emi_tui.engine.sizes import parse_size

DATA = Path(__file__).parent / "data" / "recipes"
SHIPPED = paths.shipped_dir("recipes")
TINY = DATA / "good" / "tiny-debian.yaml"


# --- the shipped recipes -----------------------------------------------------------------------


def test_shipped_recipes_load_without_problems():
    book = RecipeBook([SHIPPED])
    assert book.problems == []
    assert book.names() == ["centos-based", "debian-based", "ubuntu-based"]
    for name, source in book.sources.items():
        assert source == SHIPPED / f"{name}.yaml"


@pytest.mark.parametrize("name", ["centos-based", "debian-based", "ubuntu-based"])
def test_shipped_recipe_is_consistent(name):
    recipe, problems = load_recipe_file(SHIPPED / f"{name}.yaml")
    assert problems == []
    assert recipe.name == name
    assert recipe.default_release in recipe.releases
    assert "x86_64" in recipe.arches
    assert set(recipe.kernel_packages) <= set(recipe.arches)
    assert recipe.bootstrap in (("debootstrap", "mmdebstrap") if recipe.family == "deb" else ("dnf",))
    assert parse_size(recipe.estimated_size) < parse_size(recipe.min_size) < parse_size("1.3G")
    for package in recipe.base_packages + recipe.packages + list(recipe.kernel_packages.values()):
        assert package_name_problem(package, recipe.family) is None, package
    assert set(recipe.trim) <= set(recipe.packages)
    assert all(p not in recipe.trim for p in recipe.default_package_list())
    assert recipe.cleanup and all(isinstance(step, list) and step for step in recipe.cleanup)


def test_shipped_mirror_defaults():
    book = RecipeBook([SHIPPED])
    assert book.recipes["debian-based"].default_mirror == "apt-sources"
    assert book.recipes["ubuntu-based"].default_mirror is None
    assert book.recipes["centos-based"].default_mirror is None


def test_base_for_adds_the_kernel():
    recipe = RecipeBook([SHIPPED]).recipes["debian-based"]
    assert recipe.base_for("aarch64")[-1] == "linux-image-cloud-arm64"
    assert recipe.base_for("riscv64") == recipe.base_packages


def test_book_get_unknown_recipe_is_an_emi_error():
    with pytest.raises(EmiError) as caught:
        RecipeBook([SHIPPED]).get("debain-based")
    assert "did you mean 'debian-based'?" in caught.value.message
    assert "emi-tui recipes" in caught.value.hint


def test_the_tiny_operator_recipe_is_good():
    recipe, problems = load_recipe_file(TINY)
    assert problems == []
    assert recipe.name == "tiny-debian"
    assert recipe.components == ["main"]
    assert recipe.kernel_files.kernel == "boot/vmlinuz-*"


# --- bad recipe files --------------------------------------------------------------------------

BAD = DATA / "bad"

#: file -> the (line, column, key path, text in the message) of every problem it must produce.
BAD_RECIPES = {
    "unknown-key.yaml": [
        (2, 1, "bootstrap", "is required but missing"),
        (6, 1, "bootstrp", "unknown key (did you mean 'bootstrap'?)"),
    ],
    "nested-unknown-key.yaml": [(17, 3, "kernel_files.kernal", "unknown key (did you mean 'kernel'?)")],
    "name-mismatch.yaml": [(2, 7, "name", "the name 'some-other-name' must match the file name 'name-mismatch'")],
    "bad-family.yaml": [(5, 9, "family", "'dep' is not one of deb or rpm (did you mean 'deb'?)")],
    "bad-min-size.yaml": [(15, 11, "min_size", "'0M' is zero: a size is 1.3G, 4.5G or, say, 2G")],
    "duplicate-key.yaml": [(16, 1, "distro", "duplicate key (first at line 4); YAML would silently keep only the last, so remove one")],
    "not-a-mapping.yaml": [(1, 1, "", "a recipe is a mapping of keys (name:, distro:, releases: …)")],
    "Bad_Name.yaml": [(2, 7, "name", "'Bad_Name' is not lower-case letters, digits and -, starting with a letter or digit")],
    "empty.yaml": [(1, 1, "", "the recipe is empty: it needs at least name:, distro:, family:, bootstrap:, releases: and base_packages:")],
    "null-document.yaml": [(2, 1, "", "the recipe is empty: it needs at least name:, distro:, family:, bootstrap:, releases: and base_packages:")],
    # Each bad package name at its own item.
    "bad-package.yaml": [(14, 5, "base_packages[1]", "'udev; rm -rf /' is not a valid Debian package name (lower-case letters, digits "
                          "and + - . only, at least two characters)")],
    "bad-default-package.yaml": [(18, 5, "packages[1]", "'Vim' is not a valid Debian package name: Debian names are lower case ('vim')")],
    "default-release.yaml": [(8, 18, "default_release", "'bookwrm' is not among releases (did you mean 'bookworm'?)")],
}


def test_every_bad_recipe_file_is_in_the_table():
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(BAD_RECIPES)


@pytest.mark.parametrize("name", sorted(BAD_RECIPES))
def test_bad_recipe_gets_located_problems(name):
    recipe, problems = load_recipe_file(BAD / name)
    assert recipe is None
    got = [(p.line, p.column, p.key) for p in problems]
    assert got == [entry[:3] for entry in BAD_RECIPES[name]], [str(p) for p in problems]
    for problem, (_, _, _, text) in zip(problems, BAD_RECIPES[name]):
        assert problem.message == text
        assert problem.source == str(BAD / name)
        assert "\n" not in str(problem)


def test_default_release_problem_points_at_default_release():
    _, problems = load_recipe_file(BAD / "default-release.yaml")
    assert [(p.line, p.column, p.key) for p in problems] == [(8, 18, "default_release")]  # its value


def test_bad_package_problem_points_at_the_item():
    _, problems = load_recipe_file(BAD / "bad-package.yaml")
    assert [(p.line, p.column, p.key) for p in problems] == [(14, 5, "base_packages[1]")]  # the item's value


def _variant(tmp_path, name: str, *replacements: tuple[str, str]) -> Path:
    text = TINY.read_text().replace("name: tiny-debian", f"name: {name}")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_every_bad_package_name_is_reported(tmp_path):
    path = _variant(tmp_path, "two-bad", ("base_packages: [systemd-sysv, openssh-server]", "base_packages: [Systemd, 'ssh server']"))
    recipe, problems = load_recipe_file(path)
    assert recipe is None
    assert [(p.line, p.column, p.key) for p in problems] == [(12, 17, "base_packages[0]"), (12, 26, "base_packages[1]")]
    assert [p.message for p in problems] == [
        "'Systemd' is not a valid Debian package name: Debian names are lower case ('systemd')",
        "'ssh server' is not a valid Debian package name (lower-case letters, digits and + - . only, at least two characters)",
    ]


def test_duplicate_key_does_not_hide_the_other_problems_of_a_recipe(tmp_path):
    path = _variant(tmp_path, "dup", ("description: A tiny Debian for tests", "description: A\ndescription: B"),
                    ("base_packages: [systemd-sysv, openssh-server]", "base_packages: [Systemd]\nmin_sise: 1G"))
    recipe, problems = load_recipe_file(path)
    assert recipe is None
    assert sorted((p.line, p.column, p.key) for p in problems) == [(4, 1, "description"), (13, 17, "base_packages[0]"), (14, 1, "min_sise")]
    duplicate = next(p for p in problems if p.key == "description")
    assert duplicate.message == "duplicate key (first at line 3); YAML would silently keep only the last, so remove one"


def test_recipe_problems_come_in_file_order(tmp_path):
    # As for answer files: a bad package name (line 12) before an unknown key (line 13), whichever check found it.
    path = _variant(tmp_path, "order", ("base_packages: [systemd-sysv, openssh-server]", "base_packages: [Systemd]\nmin_sise: 1G"))
    _, problems = load_recipe_file(path)
    assert [(p.line, p.key) for p in problems] == [(12, "base_packages[0]"), (13, "min_sise")]


def test_empty_recipe_message_speaks_of_recipes():
    _, problems = load_recipe_file(BAD / "empty.yaml")
    assert [str(p) for p in problems] == [
        f"{BAD / 'empty.yaml'}:1:1: the recipe is empty: it needs at least name:, distro:, family:, bootstrap:, releases: and base_packages:"
    ]


def test_bad_recipe_name_message_is_a_sentence():
    _, problems = load_recipe_file(BAD / "Bad_Name.yaml")
    assert [p.message for p in problems] == ["'Bad_Name' is not lower-case letters, digits and -, starting with a letter or digit"]


def test_bad_distro_message_does_not_offer_a_hyphen(tmp_path):
    # distro's pattern is ^[a-z0-9]+$: a message that offers "-" sends the operator round in circles.
    _, problems = load_recipe_file(_variant(tmp_path, "hyphen-distro", ("distro: debian", "distro: debian-lts")))
    assert [(p.line, p.column, p.key) for p in problems] == [(4, 9, "distro")]
    assert "'debian-lts'" in problems[0].message
    assert "-)" not in problems[0].message and "digits and -" not in problems[0].message


def test_empty_release_list_is_a_sentence(tmp_path):
    _, problems = load_recipe_file(_variant(tmp_path, "no-releases", ("releases: [bookworm, trixie]", "releases: []")))
    assert [(p.key, p.message) for p in problems if p.key == "releases"] == [("releases", "must not be empty")]


def test_a_null_recipe_file_is_reported_by_the_book(tmp_path):
    shutil.copy(BAD / "null-document.yaml", tmp_path)
    book = RecipeBook([SHIPPED, tmp_path])
    assert [(p.source, p.line, p.key) for p in book.problems] == [(str(tmp_path / "null-document.yaml"), 2, "")]


def test_a_bad_recipe_does_not_hide_the_good_ones(tmp_path):
    shutil.copy(BAD / "bad-family.yaml", tmp_path)
    shutil.copy(TINY, tmp_path)
    book = RecipeBook([SHIPPED, tmp_path])
    assert book.names() == ["centos-based", "debian-based", "tiny-debian", "ubuntu-based"]
    assert [(p.source, p.key) for p in book.problems] == [(str(tmp_path / "bad-family.yaml"), "family")]


# --- operator folders ---------------------------------------------------------------------------


@pytest.fixture
def operator(tmp_path, monkeypatch):
    """A cwd and an XDG config home of their own, each with a recipes folder."""
    work = tmp_path / "work"
    config = tmp_path / "config"
    (work / "recipes").mkdir(parents=True)
    (config / "emi-tui" / "recipes").mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return work / "recipes", config / "emi-tui" / "recipes"


def test_recipe_dirs_in_priority_order(operator):
    cwd_recipes, config_recipes = operator
    assert recipe_dirs() == [SHIPPED, config_recipes]  # ./recipes only when named
    assert recipe_dirs(Path("recipes")) == [SHIPPED, config_recipes, cwd_recipes]  # named relative to the cwd, shown absolute


def test_a_named_folder_that_is_not_there_is_an_emi_error(operator, tmp_path):
    with pytest.raises(EmiError) as caught:
        recipe_dirs(tmp_path / "missing")
    assert caught.value.message == f"--recipes {tmp_path / 'missing'}: no such folder"


def test_missing_operator_folders_are_skipped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nothing"))
    assert recipe_dirs() == [SHIPPED]


def test_operator_recipe_in_cwd_is_found_only_when_named(operator):
    cwd_recipes, _ = operator
    shutil.copy(TINY, cwd_recipes)
    assert "tiny-debian" not in RecipeBook().names()
    book = RecipeBook.named(cwd_recipes)
    assert "tiny-debian" in book.names()
    assert book.sources["tiny-debian"] == cwd_recipes / "tiny-debian.yaml"
    assert book.recipes["tiny-debian"].replaces is None  # a recipe of a new name replaces nothing
    assert book.overrides() == {}


def test_operator_recipe_in_config_is_found_also_as_yml(operator):
    _, config_recipes = operator
    shutil.copy(TINY, config_recipes / "tiny-debian.yml")
    book = RecipeBook()
    assert book.problems == []
    assert book.sources["tiny-debian"] == config_recipes / "tiny-debian.yml"


def test_later_folders_win(operator):
    cwd_recipes, config_recipes = operator
    text = (SHIPPED / "debian-based.yaml").read_text()
    (config_recipes / "debian-based.yaml").write_text(text.replace("min_size: 600M", "min_size: 700M"))
    book = RecipeBook()
    assert book.recipes["debian-based"].min_size == "700M"
    assert book.recipes["debian-based"].replaces == SHIPPED / "debian-based.yaml"
    (cwd_recipes / "debian-based.yaml").write_text(text.replace("min_size: 600M", "min_size: 800M"))
    book = RecipeBook.named(cwd_recipes)
    assert book.recipes["debian-based"].min_size == "800M"
    assert book.sources["debian-based"] == cwd_recipes / "debian-based.yaml"
    assert book.overrides() == {"debian-based": cwd_recipes / "debian-based.yaml"}
    assert book.recipes["debian-based"].replaces == SHIPPED / "debian-based.yaml"


def test_bad_operator_recipe_is_a_problem_of_the_book(operator):
    cwd_recipes, _ = operator
    shutil.copy(BAD / "unknown-key.yaml", cwd_recipes)
    book = RecipeBook.named(cwd_recipes)
    assert [str(p) for p in book.problems][1] == (
        f"{cwd_recipes / 'unknown-key.yaml'}:6:1: bootstrp: unknown key (did you mean 'bootstrap'?)"
    )
    assert book.names() == ["centos-based", "debian-based", "ubuntu-based"]


# --- `emi-tui recipes` ----------------------------------------------------------------------------


def run_recipes(cwd: Path, config: Path, *options: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_CONFIG_HOME=str(config), COLUMNS="400", NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "emi_tui", "recipes", *options], cwd=cwd, env=env, check=False, capture_output=True, text=True, timeout=60)


def test_cli_lists_shipped_and_operator_recipes(operator):
    cwd_recipes, config_recipes = operator
    shutil.copy(TINY, cwd_recipes)
    done = run_recipes(cwd_recipes.parent, config_recipes.parent.parent, "--recipes", str(cwd_recipes))
    assert done.returncode == 0, done.stderr
    for name in ("centos-based", "debian-based", "ubuntu-based", "tiny-debian", "A tiny Debian for tests", "debootstrap", "500M"):
        assert name in done.stdout
    assert str(cwd_recipes) in done.stdout  # the searched folders
    assert done.stderr == ""
    assert "Traceback" not in done.stdout + done.stderr


def test_cli_exits_2_on_a_bad_recipe(operator):
    cwd_recipes, config_recipes = operator
    shutil.copy(BAD / "bad-family.yaml", config_recipes)
    done = run_recipes(cwd_recipes.parent, config_recipes.parent.parent)
    assert done.returncode == 2
    assert f"{config_recipes / 'bad-family.yaml'}:5:9: family: 'dep' is not one of deb or rpm (did you mean 'deb'?)" in done.stderr
    assert "debian-based" in done.stdout  # the good ones are still listed
    assert "Traceback" not in done.stdout + done.stderr
