"""Answer files, format v1: good files resolve with every default, round-trip, and never raise."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emi_tui.core import answers as answers_module
from emi_tui.core import mirror as mirror_module
from emi_tui.core import paths
from emi_tui.core.answers import (
    CURRENT_VERSION,
    Answers,
    Metadata,
    Output,
    effective_packages,
    validate_bytes,
    validate_file,
)
from emi_tui.core import answers_io
from emi_tui.core.answers_io import HEADER, render_answers, save_answers
from emi_tui.core.recipes import RecipeBook

GOOD = Path(__file__).parent / "data" / "answers" / "good"
TODAY = date(2026, 11, 28)
WORKSTATION_MIRROR = "http://mirror.example/debian"
SECURITY = "http://security.example/debian-security"


def fake_apt_root(root: Path, uri: str = WORKSTATION_MIRROR, suites: str = "bookworm bookworm-updates") -> Path:
    """A system root whose apt sources serve `suites` from `uri` (and -security from elsewhere)."""
    parts = root / "etc" / "apt" / "sources.list.d"
    parts.mkdir(parents=True, exist_ok=True)
    (parts / "debian.sources").write_text(
        f"Types: deb\nURIs: {SECURITY}\nSuites: bookworm-security\nComponents: main\n\n"
        f"Types: deb\nURIs: {uri}/\nSuites: {suites}\nComponents: main\n"
    )
    return root


@pytest.fixture(autouse=True)
def workstation(tmp_path, monkeypatch):
    """Validation reads this fake workstation's apt sources, never the real /etc/apt."""
    root = fake_apt_root(tmp_path / "workstation")
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: mirror_module.workstation_mirror(releases, root=root))
    return root


@pytest.fixture(scope="module")
def book() -> RecipeBook:
    book = RecipeBook([paths.shipped_dir("recipes")])
    assert book.problems == []
    return book


def check(text: str | bytes, book: RecipeBook, today: date | None = TODAY, source: str = "a.yaml"):
    return validate_bytes(text, source, book, today)


def ok(text: str | bytes, book: RecipeBook, today: date | None = TODAY) -> Answers:
    result = check(text, book, today)
    assert result.ok, [str(p) for p in result.problems]
    assert result.problems == []
    return result.answers


# --- good files --------------------------------------------------------------------------

GOOD_FILES = sorted(p.name for p in GOOD.glob("*.yaml"))


def test_there_are_good_files():
    assert len(GOOD_FILES) >= 5


@pytest.mark.parametrize("name", GOOD_FILES)
def test_good_file_validates(name, book):
    result = validate_file(GOOD / name, book, TODAY)
    assert result.ok, [str(p) for p in result.problems]
    assert result.problems == []
    assert result.recipe is not None and result.recipe.name == result.answers.recipe
    assert result.source == str(GOOD / name)


EXPECTED = {
    "minimal-debian.yaml": {
        "recipe": "debian-based", "release": "bookworm", "arch": "x86_64", "size": "1.3G", "mirror": "http://mirror.example/debian",
        "image": ("euca-debian-emi", "2026.11.28", "euca-debian-2026.11.28-x86_64.img"), "kernel": True, "compress": "gzip", "dir": "./images",
    },
    "full-debian.yaml": {
        "recipe": "debian-based", "release": "trixie", "arch": "aarch64", "size": "2G", "mirror": "https://mirror.example/debian/",
        "image": ("my-debian-emi", "7.1", "my-debian-7.1-aarch64.img"), "kernel": False, "compress": "zstd", "dir": "/srv/images",
    },
    "large-debian.yaml": {
        "recipe": "debian-based", "release": "bookworm", "arch": "x86_64", "size": "4.5G", "mirror": "http://mirror.example/debian",
        "image": ("euca-large-debian-emi", "2026.11.28", "euca-large-debian-2026.11.28-x86_64.img"), "kernel": True, "compress": "gzip",
        "dir": "./images",
    },
    "centos.yaml": {
        "recipe": "centos-based", "release": "10-stream", "arch": "x86_64", "size": "1500M", "mirror": "http://mirror.example/centos",
        "image": ("euca-centos-emi", "2026.11.28", "euca-centos-2026.11.28-x86_64.img"), "kernel": True, "compress": "xz", "dir": "./images",
    },
    "ubuntu.yaml": {
        "recipe": "ubuntu-based", "release": "jammy", "arch": "x86_64", "size": "5G", "mirror": "file:///srv/mirror/ubuntu",
        "image": ("euca-large-ubuntu-emi", "2026.11.28", "euca-large-ubuntu-2026.11.28-x86_64.img"), "kernel": True, "compress": "none",
        "dir": "./images",
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_good_file_resolves_every_default(name, book):
    answers = validate_file(GOOD / name, book, TODAY).answers
    want = EXPECTED[name]
    assert answers.version == 1
    assert answers.recipe == want["recipe"]
    assert answers.release == want["release"]
    assert answers.arch == want["arch"]
    assert answers.size == want["size"]
    assert answers.mirror == want["mirror"]
    assert (answers.image.name, answers.image.version, answers.image.file) == want["image"]
    assert answers.kernel is want["kernel"]
    assert answers.output.compress == want["compress"]
    assert answers.output.dir == want["dir"]


def test_full_file_keeps_every_value(book):
    answers = validate_file(GOOD / "full-debian.yaml", book, TODAY).answers
    assert answers.packages.add == ["htop", "tmux", "man-db"]
    assert answers.packages.remove == ["vim-tiny"]
    assert [r.line for r in answers.repositories] == ["deb http://extra.example/debian trixie main contrib"]
    assert answers.repositories[0].key is None
    assert answers.metadata == Metadata(
        url="http://169.254.169.254:8080/latest", ssh_key="ec2-user", ephemeral0=False, swap=False, user_data=False,
        hostname=True, udev_xvd=False,
    )


def test_minimal_file_gets_the_default_metadata_and_output(book):
    answers = validate_file(GOOD / "minimal-debian.yaml", book, TODAY).answers
    assert answers.metadata.url == "http://169.254.169.254"
    assert answers.metadata.ssh_key == "root"
    assert (answers.metadata.ephemeral0, answers.metadata.swap, answers.metadata.user_data) == (True, True, True)
    assert answers.metadata.hostname is False
    assert answers.metadata.udev_xvd is True
    assert answers.output == Output(dir="./images", compress="gzip")
    assert answers.packages.add == [] and answers.packages.remove == []
    assert answers.repositories == []


# --- defaults ------------------------------------------------------------------------------

BASE = "version: 1\nrecipe: debian-based\n"


def test_mirror_defaults_to_the_workstations_apt_source(book):
    answers = ok(BASE, book)
    assert answers.mirror == WORKSTATION_MIRROR  # trailing slash dropped, -security skipped


def test_mirror_default_serves_other_releases_of_the_distro(book):
    # The workstation only follows bookworm; its Debian mirror serves trixie as well.
    assert ok(BASE + "release: trixie\n", book).mirror == WORKSTATION_MIRROR


def _two_mirrors(tmp_path, monkeypatch) -> None:
    root = tmp_path / "two"
    fake_apt_root(root, "http://bookworm.example/debian", "bookworm")
    (root / "etc" / "apt" / "sources.list").write_text("deb http://trixie.example/debian trixie main\n")
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: mirror_module.workstation_mirror(releases, root=root))


def test_mirror_default_follows_the_chosen_release(book, tmp_path, monkeypatch):
    _two_mirrors(tmp_path, monkeypatch)
    assert ok(BASE + "release: trixie\n", book).mirror == "http://trixie.example/debian"


def test_mirror_default_prefers_the_chosen_releases_source(book, tmp_path, monkeypatch):
    # sources.list (trixie) is read before sources.list.d (bookworm): the chosen release's source must still win.
    _two_mirrors(tmp_path, monkeypatch)
    assert ok(BASE + "release: bookworm\n", book).mirror == "http://bookworm.example/debian"
    assert ok(BASE, book).mirror == "http://bookworm.example/debian"  # the default release, bookworm


def test_mirror_default_falls_back_to_a_source_of_another_release(book, tmp_path, monkeypatch):
    root = tmp_path / "trixie-only"
    (root / "etc" / "apt").mkdir(parents=True)
    (root / "etc" / "apt" / "sources.list").write_text("deb http://trixie.example/debian trixie main\n")
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: mirror_module.workstation_mirror(releases, root=root))
    assert ok(BASE + "release: bookworm\n", book).mirror == "http://trixie.example/debian"


def test_no_apt_source_for_the_distro_is_a_problem(book, tmp_path, monkeypatch):
    root = tmp_path / "elsewhere"
    (root / "etc" / "apt").mkdir(parents=True)
    (root / "etc" / "apt" / "sources.list").write_text("deb http://mirror.example/ubuntu noble main\n")
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: mirror_module.workstation_mirror(releases, root=root))
    result = check(BASE, book)
    assert not result.ok
    assert [str(p) for p in result.problems] == [
        "a.yaml:2:9: recipe: no apt source on this workstation serves debian: set `mirror:` to a debian mirror URL"
    ]
    assert ok(BASE + "mirror: http://mirror.example/debian\n", book).mirror == "http://mirror.example/debian"


def test_recipe_without_default_mirror_needs_one(book):
    result = check("version: 1\nrecipe: centos-based\n", book)
    assert [(p.line, p.column, p.key) for p in result.problems] == [(2, 9, "recipe")]
    assert "has no default mirror" in result.problems[0].message


@pytest.mark.parametrize(
    "size, large",
    [("1.3G", False), ("1500M", False), ("4.4G", False), ("4.5G", True), ("4608M", True), ("5G", True), ("1T", True)],
)
def test_large_images_get_large_names(book, size, large):
    answers = ok(BASE + f"size: {size}\n", book)
    assert answers.large is large
    infix = "-large" if large else ""
    assert answers.image.name == f"euca{infix}-debian-emi"
    assert answers.image.file == f"euca{infix}-debian-2026.11.28-x86_64.img"


def test_size_bytes_are_binary(book):
    assert ok(BASE + "size: 1500M\n", book).size_bytes == 1500 * 1024**2
    assert ok(BASE, book).size_bytes == int(1.3 * 1024**3)


def test_image_file_default_follows_version_and_arch(book):
    answers = ok(BASE + "arch: aarch64\nimage:\n  version: '7.1'\n", book)
    assert answers.image.version == "7.1"
    assert answers.image.file == "euca-debian-7.1-aarch64.img"
    assert answers.image.name == "euca-debian-emi"


def test_explicit_image_fields_are_kept(book):
    answers = ok(BASE + "size: 8G\nimage:\n  name: mine\n  file: mine.img\n", book)
    assert (answers.image.name, answers.image.file) == ("mine", "mine.img")
    assert answers.image.version == "2026.11.28"


def test_version_defaults_to_today(book):
    answers = ok(BASE, book, today=None)
    assert re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", answers.image.version)
    assert answers.image.version in {date.today().strftime("%Y.%m.%d"), date.fromordinal(date.today().toordinal() - 1).strftime("%Y.%m.%d")}


def test_release_null_means_the_default(book):
    assert ok(BASE + "release: null\n", book).release == "bookworm"


def test_effective_packages(book):
    result = check(BASE + "packages:\n  add: [htop, man-db, less]\n  remove: [vim-tiny]\n", book)
    assert result.ok
    packages = effective_packages(result.answers, result.recipe)
    # defaults (less vim-tiny sudo psmisc rsync; man-db and manpages trimmed) − vim-tiny + htop man-db
    assert packages == ["less", "sudo", "psmisc", "rsync", "htop", "man-db"]


def test_operator_can_use_a_keyring_that_exists(book, tmp_path):
    keyring = tmp_path / "extra.gpg"
    keyring.write_bytes(b"\x99\x01")
    text = BASE + f"repositories:\n  - line: deb http://extra.example/debian bookworm main\n    key: {keyring}\n"
    answers = ok(text, book)
    assert answers.repositories[0].key == str(keyring)


# --- versions ------------------------------------------------------------------------------


def test_current_version_is_one():
    assert CURRENT_VERSION == 1


def test_newer_version_is_a_clear_error(book):
    result = check("version: 7\nrecipe: debian-based\n", book)
    assert [str(p) for p in result.problems] == [
        "a.yaml:1:10: version: format 7 was written by a newer emi-tui; this one reads up to 1: upgrade emi-tui"
    ]


def test_older_formats_are_migrated_not_rejected(monkeypatch):
    """With a format 2 current, a format 1 file goes through the 1 -> 2 migration."""
    from emi_tui.core.yamlload import load_located

    def one_to_two(data: dict) -> dict:
        data = dict(data, version=2)
        data["renamed"] = data.pop("recipe")
        return data

    monkeypatch.setattr(answers_module, "CURRENT_VERSION", 2)
    monkeypatch.setattr(answers_module, "MIGRATIONS", {1: one_to_two})
    located = load_located("version: 1\nrecipe: debian-based\n", "old.yaml")
    assert answers_module._migrate(located) == []
    assert located.data == {"version": 2, "renamed": "debian-based"}
    newer = load_located("version: 3\n", "new.yaml")
    assert "reads up to 2" in answers_module._migrate(newer)[0].message


def test_missing_version_names_the_key(book):
    result = check("recipe: debian-based\n", book)
    assert [str(p) for p in result.problems] == ["a.yaml:1:1: version: is required but missing: add `version: 1` at the top"]


# --- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "message"), [
    ("size: 2049G", "size: '2049G' is larger than 2T: a starter image is small, and ephemeral disks and EBS hold the rest"),
    ("size: 2.0000001T", "size: '2.0000001T' is larger than 2T: a starter image is small, and ephemeral disks and EBS hold the rest"),
    ("size: 99999999999999999999999G", "size: '99999999999999999999999G' is larger than 2T: a starter image is small, and ephemeral disks "
                                       "and EBS hold the rest"),
    ("size: .nan", "size: nan is not a size: write 1.3G, 4.5G, or a number with K, M, G or T such as 1500M"),
    ("size: .inf", "size: inf is not a size: write 1.3G, 4.5G, or a number with K, M, G or T such as 1500M"),
    ("size: -.inf", "size: -inf is not a size: write 1.3G, 4.5G, or a number with K, M, G or T such as 1500M"),
])
def test_size_limits(book, line, message):
    result = check(BASE + line + "\n", book)
    assert [str(p) for p in result.problems] == [f"a.yaml:3:7: {message}"]


def test_size_at_the_upper_limit_is_fine(book):
    assert ok(BASE + "size: 2T\n", book).size_bytes == 2 * 1024**4
    assert ok(BASE + "size: 2048G\n", book).size_bytes == 2 * 1024**4


@pytest.mark.parametrize(("key", "longest", "what", "suffix"), [
    ("name", 64, "image name", ""), ("version", 64, "image version", ""), ("file", 128, "image file name", ".img"),
])
def test_image_field_length_limits(book, key, longest, what, suffix):
    fits = "a" * (longest - len(suffix)) + suffix
    assert getattr(ok(BASE + f"image:\n  {key}: {fits}\n", book).image, key) == fits
    too_long = "a" + fits
    result = check(BASE + f"image:\n  {key}: {too_long}\n", book)
    column = len(key) + 5  # "  KEY: " then the value
    assert [str(p) for p in result.problems] == [
        f"a.yaml:4:{column}: image.{key}: the {what} is {longest + 1} characters long; keep it to {longest}"
    ]


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
    "deb [trusted=yes] file:///srv/repo ./",
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
    (folder / "tiny-debian.yaml").write_text((Path(__file__).parent / "data" / "recipes" / "good" / "tiny-debian.yaml").read_text())
    book = RecipeBook([paths.shipped_dir("recipes"), folder])
    answers = ok("version: 1\nrecipe: tiny-debian\nsize: 1G\n", book)
    assert answers.mirror == "http://mirror.example/debian"  # the recipe's own default
    assert answers.image.file == "euca-debian-2026.11.28-x86_64.img"
    assert check("version: 1\nrecipe: tiny-debian\nsize: 400M\n", book).problems[0].message == (
        "400M is too small for tiny-debian: its root needs at least 500M"
    )


# --- round trip and comments ----------------------------------------------------------------


@pytest.mark.parametrize("name", GOOD_FILES)
def test_rendered_answers_revalidate_to_equal_answers(name, book):
    first = validate_file(GOOD / name, book, TODAY)
    text = render_answers(first.answers)
    again = check(text, book, source="rendered.yaml")
    assert again.ok, [str(p) for p in again.problems] + [text]
    assert again.answers == first.answers
    assert render_answers(again.answers) == text  # a fixed point


def test_rendered_answers_with_repositories_and_keyring_round_trip(book, tmp_path):
    keyring = tmp_path / "k.gpg"
    keyring.write_bytes(b"key")
    text = BASE + (
        "repositories:\n"
        f"  - line: deb [arch=amd64] http://extra.example/debian bookworm main\n    key: {keyring}\n"
        "  - line: deb-src http://extra.example/debian bookworm main\n"
        "packages:\n  add: [g++, libc6-dev, python3.11]\n"
        "image:\n  version: '1.0'\n  name: '2026'\n"
        "output:\n  dir: 'my images: #1'\n"
    )
    first = ok(text, book)
    again = ok(render_answers(first), book)
    assert again == first


@pytest.mark.parametrize(
    "yaml_line",
    [
        "image:\n  version: '2026-11-28'",     # plain, it reads back as a date
        "packages:\n  add: ['0x1f']",            # plain, it reads back as the number 31
        "image:\n  name: '0b101'",              # plain, it reads back as the number 5
        "output:\n  dir: '.inf'",               # plain, it reads back as a float
        "output:\n  dir: '- x'",                # plain, it starts a sequence
        "output:\n  dir: '? x'",                # plain, it starts a complex key
        "output:\n  dir: 'x: y'",               # plain, it is a mapping
        "output:\n  dir: 'a #b'",               # plain, the rest is a comment
        "output:\n  dir: ' lead'",              # plain, the space is dropped
        "image:\n  version: '1.10'",           # plain, it reads back as the float 1.1
        "image:\n  version: '1_000'",          # plain, YAML 1.1 reads it back as the number 1000
        "image:\n  name: 'null'",              # plain, it reads back as None
        "image:\n  name: 'on'",                # plain, YAML 1.1 reads it back as True
    ],
)
def test_render_quotes_every_value_that_yaml_would_misread(book, yaml_line):
    first = ok(BASE + yaml_line + "\n", book)
    again = check(render_answers(first), book)
    assert again.ok, [str(p) for p in again.problems]
    assert again.answers == first


def _key_lines(text: str) -> list[str]:
    body = text[len(HEADER):]
    return [line for line in body.splitlines() if re.match(r"^\s*(- )?[a-z_0-9]+:", line)]


def test_render_starts_with_the_header_and_parses_as_yaml(book):
    text = render_answers(ok(BASE, book))
    assert text.startswith(HEADER)
    data = yaml.safe_load(text)
    assert data["version"] == 1 and data["recipe"] == "debian-based"
    assert set(data) == set(Answers.model_fields)


def test_rendered_leaf_keys_all_carry_a_comment(book, tmp_path):
    keyring = tmp_path / "k.gpg"
    keyring.write_bytes(b"key")
    answers = ok(BASE + f"repositories:\n  - line: deb http://extra.example/debian bookworm main\n    key: {keyring}\n", book)
    lines = [line for line in _key_lines(render_answers(answers)) if not line.rstrip().endswith(":")]
    assert len(lines) >= 24
    missing = [line for line in lines if "  # " not in line]
    assert missing == []
    assert "ssh_key: root  # who gets the SSH key of the instance" in render_answers(answers)


def test_rendered_section_keys_carry_a_comment_too(book):
    text = render_answers(ok(BASE, book))
    missing = [line for line in _key_lines(text) if "  # " not in line]
    assert missing == []
    for section in ("packages", "metadata", "image", "output"):
        assert re.search(rf"^{section}:  # \S", text, re.MULTILINE), section


@pytest.mark.parametrize("text", ["a\nb", "tab\there", "bell\x07", " lead", "trail ", "a: b", "#x", "2026-11-28", "0x1f", "", "é"])
def test_scalar_reads_back_as_the_same_text(text):
    rendered = answers_io._scalar(text)
    assert "\n" not in rendered
    assert yaml.safe_load(f"k: {rendered}\n") == {"k": text}


def test_save_answers_writes_a_file_that_validates(book, tmp_path):
    answers = validate_file(GOOD / "full-debian.yaml", book, TODAY).answers
    target = tmp_path / "sub" / "saved.yaml"
    save_answers(answers, target)
    assert target.read_text() == render_answers(answers)
    assert validate_file(target, book, TODAY).answers == answers
    assert [p.name for p in target.parent.iterdir()] == ["saved.yaml"]  # no temporary left behind


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
