"""The package picker's catalog: search, completion, sizes with dependencies, and look-ups that always end."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from test_aptlists import Mirror, mirror  # noqa: F401 (the fixture: a mirror on 127.0.0.1)

from emi_tui.engine.answers.model import Answers, PackageChanges
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build.package_catalog import (
    CatalogSource,
    CatalogUnavailable,
    PackageCatalog,
    cached_descriptions,
    catalog_from_text,
    load_catalog,
    mirror_catalog,
    parse_descriptions,
)

SOURCE = CatalogSource("http://mirror.example/debian", "bookworm", "main", "amd64")
PACKAGES = """\
Package: libc6
Priority: required
Installed-Size: 12000
Description: GNU C Library: Shared libraries

Package: apt
Installed-Size: 4000
Depends: libc6
Description: commandline package manager

Package: libevent-core
Installed-Size: 400
Depends: libc6
Description: Asynchronous event notification library (core)

Package: tmux
Installed-Size: 1100
Depends: libevent-core,
 libc6 (>= 2.34)
Description: terminal multiplexer

Package: tmuxp
Installed-Size: 300
Depends: tmux
Description: tmux session manager

Package: python3-libtmux
Installed-Size: 200
Description: scripting library for tmux

Package: strace
Installed-Size: 2800
Depends: libc6
Description: System call tracer

Package: fcitx5-frontend-tmux
Installed-Size: 10
Description: input method for tmux
"""


@pytest.fixture
def catalog() -> PackageCatalog:
    return catalog_from_text(SOURCE, PACKAGES)


def test_search_puts_the_exact_name_then_prefixes_then_names_containing_it_then_letters_in_order(catalog):
    assert catalog.search("tmux") == ["tmux", "tmuxp", "python3-libtmux", "fcitx5-frontend-tmux"]
    assert catalog.search("TMU")[:2] == ["tmux", "tmuxp"]
    assert catalog.search("strc") == ["strace"]  # s, t, r, c in order
    assert catalog.search("zzz") == [] and catalog.search("  ") == []
    assert catalog.search("t", limit=2) == ["tmux", "tmuxp"]


def test_completion_is_the_shortest_longer_name_with_that_prefix(catalog):
    assert catalog.complete("tm") == "tmux"
    assert catalog.complete("tmux") == "tmuxp"
    assert catalog.complete("str") == "strace"
    assert catalog.complete("nope") is None and catalog.complete("") is None


def test_what_a_package_adds_counts_only_what_the_image_does_not_have_yet(catalog):
    alone = catalog.facts("tmux", ["libc6", "apt"])
    assert alone is not None
    assert (alone.installed_bytes, alone.adds_bytes, alone.adds_packages) == (1100 * 1024, 1500 * 1024, 2)
    assert alone.description == "terminal multiplexer"
    with_event = catalog.facts("tmux", ["libc6", "apt", "libevent-core"])
    assert with_event is not None and (with_event.adds_bytes, with_event.adds_packages) == (1100 * 1024, 1)
    # A package already among the roots: what it adds is what dropping it would save.
    assert catalog.facts("tmux", ["libc6", "tmux"]).adds_packages == 2  # type: ignore[union-attr]
    assert catalog.facts("nosuch", ["libc6"]) is None


def test_a_missing_name_says_the_release_and_arch_and_a_near_name(catalog):
    assert not catalog.has("tmuxx")
    assert catalog.missing_message("tmuxx") == "tmuxx is not in bookworm for amd64 (did you mean 'tmux'?)"
    assert catalog.missing_message("qqqq") == "qqqq is not in bookworm for amd64"


def test_the_image_roots_follow_the_recipe_the_trims_and_the_additions(catalog):
    recipe = RecipeBook().get("debian-based")
    answers = Answers(version=1, recipe="debian-based", packages=PackageChanges(add=["man-db", "tmux"], remove=["sudo"]))
    roots = catalog.image_roots(answers, recipe, "x86_64")
    assert {"libc6", "apt", "openssh-server", "linux-image-cloud-amd64", "less", "man-db", "tmux"} <= set(roots)
    assert "sudo" not in roots and "manpages" not in roots  # removed, and trimmed by the recipe
    assert {"libc6", "apt", "curl"} <= catalog.bootstrap_set(recipe, "x86_64")


def test_the_source_is_the_answers_release_and_the_recipes_name_for_the_arch():
    book = RecipeBook()
    answers = Answers(version=1, recipe="debian-based", release="trixie", arch="aarch64", mirror="http://mirror.example/debian/")
    assert CatalogSource.of(answers, book.get("debian-based")) == CatalogSource(
        "http://mirror.example/debian", "trixie", "main", "arm64", book.get("debian-based").keyring)
    assert CatalogSource.of(Answers(version=1, recipe="centos-based"), book.get("centos-based")) is None


def test_descriptions_are_the_first_line_and_are_kept_beside_the_index(tmp_path: Path):
    assert parse_descriptions(PACKAGES)["tmux"] == "terminal multiplexer"
    download = tmp_path / "x.Packages"
    download.write_text(PACKAGES)
    read: list[int] = []

    def text() -> str:
        read.append(1)
        return PACKAGES

    assert cached_descriptions(download, text)["strace"] == "System call tracer"
    assert cached_descriptions(download, text)["strace"] == "System call tracer"
    assert len(read) == 1  # the second time from the JSON beside it
    (tmp_path / "x.Packages.descriptions.json").write_text('{"format": 1, "descriptions": {"strace": 3}}')
    assert cached_descriptions(download, text)["strace"] == "System call tracer"  # malformed: parsed again
    assert len(read) == 2


def test_a_look_up_that_fails_or_never_ends_is_a_reason_not_a_hang():
    def refused(source: CatalogSource) -> PackageCatalog:
        raise CatalogUnavailable("cannot read http://mirror.example/debian/dists/bookworm/InRelease: refused")

    with pytest.raises(CatalogUnavailable, match="refused"):
        load_catalog(SOURCE, refused)

    def broken(source: CatalogSource) -> PackageCatalog:
        raise RuntimeError("boom")

    with pytest.raises(CatalogUnavailable, match="RuntimeError: boom"):
        load_catalog(SOURCE, broken)

    never = threading.Event()

    def stuck(source: CatalogSource) -> PackageCatalog:
        never.wait(30)
        raise CatalogUnavailable("unreachable")

    try:
        with pytest.raises(CatalogUnavailable, match="did not send the bookworm index within"):
            load_catalog(SOURCE, stuck, seconds=0.2)
    finally:
        never.set()


def test_the_mirrors_catalog_comes_through_the_builds_index_cache(mirror: tuple[Mirror, str]):  # noqa: F811
    served, url = mirror
    served.publish(PACKAGES)
    source = CatalogSource(url, "bookworm", "main", "amd64")
    catalog = load_catalog(source)
    assert catalog.has("tmux") and catalog.descriptions["tmux"] == "terminal multiplexer"
    assert load_catalog(source).names == catalog.names
    assert served.fetched("Packages.xz") == 1  # the second look-up read the cache


def test_an_unreachable_mirror_is_a_reason(mirror: tuple[Mirror, str]):  # noqa: F811
    served, url = mirror
    with pytest.raises(CatalogUnavailable, match="cannot read"):
        mirror_catalog(CatalogSource(url, "trixie", "main", "amd64"))  # the mirror serves no trixie


def test_a_mirror_that_stops_answering_falls_back_to_the_index_kept_before(mirror: tuple[Mirror, str]):  # noqa: F811
    served, url = mirror
    served.publish(PACKAGES)
    source = CatalogSource(url, "bookworm", "main", "amd64")
    assert mirror_catalog(source).note == ""
    (served.root / "debian/dists/bookworm/InRelease").unlink()  # the mirror no longer serves the release
    kept = mirror_catalog(source)
    assert kept.has("tmux") and kept.descriptions["strace"] == "System call tracer"
    assert kept.note.startswith("the mirror cannot be read (cannot read ") and "the index kept on " in kept.note
