"""`emi-tui catalog plan|build|collect|schema`: what the commands print and refuse (no build runs here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emi_tui.cli import main
from emi_tui.engine.answers import model as answers_module

DATA = Path(__file__).parent / "data" / "catalogs"


@pytest.fixture(autouse=True)
def no_workstation(monkeypatch):
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: "http://mirror.example/debian")


def _catalog(tmp_path) -> Path:
    path = tmp_path / "release.yaml"
    path.write_text((DATA / "release.yaml").read_text().replace("dir: ./release", f"dir: {tmp_path / 'release'}"))
    return path


def test_plan_json_is_one_job_per_image_for_a_ci_matrix(tmp_path, capsys):
    assert main(["catalog", "plan", "--format", "json", str(_catalog(tmp_path))]) == 0
    jobs = json.loads(capsys.readouterr().out)
    assert [j["heading"] for j in jobs] == ["debian x86_64 12", "debian i386 12", "debian x86_64 11", "debian large x86_64 12"]
    assert [j["bootstraps_base"] for j in jobs] == [True, True, True, False]
    assert all(j["estimated_seconds"] > 0 and j["estimated_bytes"] > 0 for j in jobs)


def test_plan_text_names_the_shared_bases_and_the_jobs_default(tmp_path, capsys):
    assert main(["catalog", "plan", str(_catalog(tmp_path))]) == 0
    printed = capsys.readouterr().out
    assert "bases: debian-based bookworm x86_64 for 2 image(s); debian-based bookworm i386 for 1 image(s)" in printed
    assert "reuses debian-based bookworm x86_64" in printed and " at once: " in printed and "bounded by the " in printed


def test_a_bad_catalog_builds_nothing(tmp_path, capsys):
    bad = DATA / "bad" / "bad-arch-in-matrix.yaml"
    assert main(["catalog", "build", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad-arch-in-matrix.yaml:5:20: arch: debian-based does not build 'sparc'" in err and "nothing was done" in err
    assert "Traceback" not in err


def test_build_refuses_zero_jobs(tmp_path, capsys):
    assert main(["catalog", "build", "--jobs", "0", str(_catalog(tmp_path))]) == 2
    assert "--jobs 0 builds nothing" in capsys.readouterr().err
    assert not (tmp_path / "release").exists()


def test_build_refuses_an_unknown_image_before_building(tmp_path, capsys):
    assert main(["catalog", "build", "--only", "debian sparc 12", str(_catalog(tmp_path))]) == 2
    assert "the catalog has no image 'debian sparc 12'" in capsys.readouterr().err


def test_collect_says_which_artifacts_are_missing_and_writes_nothing(tmp_path, capsys):
    empty = tmp_path / "ci"
    empty.mkdir()
    assert main(["catalog", "collect", str(_catalog(tmp_path)), str(empty)]) == 2
    err = capsys.readouterr().err
    assert f"debian i386 12: no euca-debian-2026.12.03-i386.tar.zst in {empty}" in err
    assert not (tmp_path / "release").exists()


def test_since_must_be_a_previous_release(tmp_path, capsys):
    assert main(["catalog", "collect", "--since", str(tmp_path), str(_catalog(tmp_path)), str(tmp_path)]) == 2
    assert "holds no readable EMI-IDs" in capsys.readouterr().err


def test_schema_prints_the_catalog_schema(capsys):
    assert main(["catalog", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "emi-tui catalog file, format 1"
