"""Catalog files: a good one resolves to one valid set of answers per image; each bad one in tests/data/catalogs/bad/
produces exactly the problems of its .expected sidecar, located in the catalog (FILE:LINE:COL as `emi-tui validate` prints them)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from emi_tui.cli import main
from emi_tui.engine.answers import model as answers_module
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.catalog.model import is_catalog, json_schema
from emi_tui.engine.catalog.resolve import resolve_bytes, resolve_file

DATA = Path(__file__).parent / "data" / "catalogs"
BAD = DATA / "bad"
TODAY = date(2026, 11, 28)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_workstation(monkeypatch):
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: "http://mirror.example/debian")


@pytest.fixture(scope="module")
def book():
    return RecipeBook.named(None)


def test_the_sample_catalog_resolves_every_image(book):
    catalog = resolve_file(DATA / "release.yaml", book, TODAY)
    assert catalog.ok, catalog.problems
    by_heading = {i.heading: i.answers for i in catalog.images}
    # The matrix is 2 arches x 2 sizes minus the excluded i386 4.5G; the entry adds a bullseye image.
    assert list(by_heading) == ["debian x86_64 12", "debian large x86_64 12", "debian i386 12", "debian x86_64 11"]
    for answers in by_heading.values():
        assert answers.output.compress == "zstd" and answers.image.version == "2026.12.03"  # shared settings
        assert answers.mirror == "http://mirror.example/debian"
    assert by_heading["debian i386 12"].packages.add == ["htop"]  # the override that matches i386
    assert by_heading["debian x86_64 12"].packages.add == []
    assert by_heading["debian large x86_64 12"].image.file == "euca-large-debian-2026.12.03-x86_64.img"
    assert by_heading["debian x86_64 11"].release == "bullseye"
    assert catalog.folder == Path("release").resolve()


def test_an_entry_keeps_its_own_heading_and_overrides_the_shared_settings(book):
    text = """catalog: 1
mirror: http://mirror.example/debian
metadata: {hostname: true, swap: false}
entries:
  - recipe: debian-based
    heading: debian x86_64 6
    metadata: {swap: true}
"""
    catalog = resolve_bytes(text, "c.yaml", book, TODAY)
    assert catalog.ok, catalog.problems
    image = catalog.images[0]
    assert image.heading == "debian x86_64 6"
    assert image.answers.metadata.hostname is True and image.answers.metadata.swap is True  # merged key by key


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.glob("*.yaml")))
def test_bad_catalog(name, book):
    catalog = resolve_file(BAD / name, book, TODAY)
    assert not catalog.ok and not catalog.images
    got = [str(p).removeprefix(str(BAD) + "/") for p in catalog.problems]
    assert got == (BAD / name).with_suffix(".expected").read_text().splitlines()


def test_validate_recognises_a_catalog(capsys, monkeypatch):
    assert main(["validate", str(DATA / "release.yaml")]) == 0
    printed = capsys.readouterr().out
    assert "ok, a catalog of 4 images" in printed and "debian large x86_64 12: euca-large-debian-" in printed


def test_validate_reports_a_bad_catalog_by_line_and_column(capsys):
    assert main(["validate", str(BAD / "unknown-shared-key.yaml")]) == 2
    assert "unknown-shared-key.yaml:3:1: metadta: unknown key (did you mean 'metadata'?)" in capsys.readouterr().err


def test_validate_json_lists_a_catalogs_problems(capsys):
    assert main(["validate", "--format", "json", str(BAD / "bad-arch-in-matrix.yaml")]) == 2
    problems = json.loads(capsys.readouterr().out)
    assert [(p["line"], p["column"]) for p in problems] == [(5, 20)]


def test_a_catalog_is_told_from_an_answer_file():
    assert is_catalog({"catalog": 1}) and is_catalog({"matrix": {}}) and is_catalog({"entries": []})
    assert not is_catalog({"version": 1, "recipe": "debian-based"}) and not is_catalog(["catalog"])


def test_schema_file_matches_the_model():
    assert json.loads((REPO / "catalog.schema.json").read_text()) == json_schema(), "regenerate with `emi-tui catalog schema > catalog.schema.json`"


def test_schema_takes_every_answer_key_as_shared_settings_but_the_format():
    properties = json_schema()["properties"]
    assert {"mirror", "metadata", "output", "image", "packages", "matrix", "entries", "overrides", "catalog"} <= set(properties)
    assert "version" not in properties


def test_a_catalog_made_in_code_resolves_as_a_file_would(book):
    from emi_tui.engine.catalog.resolve import resolve_mapping

    data = {"catalog": 1, "mirror": "http://mirror.example/debian", "matrix": {"recipes": ["debian-based"], "arches": ["x86_64", "i386"]}}
    catalog = resolve_mapping(data, "wizard", book, TODAY)
    assert [i.heading for i in catalog.images] == ["debian x86_64 12", "debian i386 12"]
    data["matrix"]["arches"] = ["sparc"]
    assert not resolve_mapping(data, "wizard", book, TODAY).ok
