"""Answer files, format v1: good files resolve with every default, versions migrate, limits hold."""

from __future__ import annotations

import re
from datetime import date

import pytest
from answers_support import BASE, GOOD, GOOD_FILES, TODAY, WORKSTATION_MIRROR, check, fake_apt_root, ok, openpgp_keyring

from emi_tui.engine.answers import mirror as mirror_module
from emi_tui.engine.answers import model as answers_module
from emi_tui.engine.answers.model import CURRENT_VERSION, Answers, Metadata, Output, effective_packages, validate_file
from emi_tui.engine.errors import EmiError

# --- good files --------------------------------------------------------------------------



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


def test_resolved_accessors_give_what_resolve_filled_in(book):
    """`resolved_*` are the resolved values as plain text; unresolved answers say which key is unset."""
    answers = validate_file(GOOD / "minimal-debian.yaml", book, TODAY).answers
    assert (answers.resolved_release, answers.resolved_mirror) == (answers.release, answers.mirror)
    image = answers.image
    assert (image.resolved_name, image.resolved_version, image.resolved_file) == (image.name, image.version, image.file)
    unresolved = Answers(version=1, recipe="debian-based")
    for read, key in ((lambda: unresolved.resolved_release, "release"), (lambda: unresolved.resolved_mirror, "mirror"),
                      (lambda: unresolved.image.resolved_file, "image.file")):
        with pytest.raises(EmiError, match=f"set no {re.escape(key)}$"):
            read()


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
    keyring.write_bytes(openpgp_keyring())
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
    from emi_tui.engine.answers.yamlload import load_located

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
