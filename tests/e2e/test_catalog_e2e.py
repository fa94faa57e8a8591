"""A real catalog release: debian-based x86_64 and i386, 1.3G and 4.5G, zstd; reviewed and checked from the outside.

The images keep the default version (the build's day, in UTC), so that review finds nothing to say about them.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import require_build_prerequisites, run_cli

pytestmark = [pytest.mark.root, pytest.mark.e2e]

CATALOG = """\
catalog: 1
output: {{dir: {out}, compress: zstd}}
matrix:
  recipes: [debian-based]
  arches: [x86_64, i386]
  sizes: [1.3G, 4.5G]
"""
HEADINGS = ["debian x86_64 12", "debian i386 12", "debian large x86_64 12", "debian large i386 12"]


def test_a_catalog_is_released_with_shared_bases_and_reviews_clean(build_env, tmp_path):
    require_build_prerequisites()
    # An empty cache of its own: the session's other builds have cached both bases, and this test is about
    # bootstrapping each base once and sharing it.
    build_env = {**build_env, "EMI_TUI_CACHE_DIR": str(tmp_path / "cache")}
    out = tmp_path / "release"
    catalog = tmp_path / "release.yaml"
    catalog.write_text(CATALOG.format(out=out))
    planned = run_cli("catalog", "plan", "--format", "json", str(catalog), env=build_env)
    assert planned.returncode == 0, planned.stderr
    jobs = json.loads(planned.stdout)
    assert [job["heading"] for job in jobs] == HEADINGS
    artifacts = [job["artifact"] for job in jobs]

    done = run_cli("catalog", "build", "--jobs", "2", str(catalog), env=build_env)
    assert done.returncode == 0, f"catalog build failed:\n{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
    # Two bases, each bootstrapped once: the large images take theirs from the cache.
    for heading in HEADINGS[2:]:
        assert f"[{heading}] bootstrap: skipped" in done.stdout
    for heading in HEADINGS[:2]:
        assert f"[{heading}] bootstrap: done" in done.stdout

    names = {p.name for p in out.iterdir()}
    assert set(artifacts) | {"EMI-IDs", "SHA256SUMS", "RELEASE-NOTES.md"} <= names
    assert all(a.endswith(".tar.zst") for a in artifacts)
    assert not [n for n in names if "partial" in n]
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    note = (out / "RELEASE-NOTES.md").read_text()
    assert "| debian i386 12 |" in note and "-686 |" in note  # the i386 image boots the 686 kernel

    reviewed = run_cli("review", "--json", str(out / "EMI-IDs"), env=build_env)
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    entries = json.loads(reviewed.stdout)
    assert [e["entry"] for e in entries] == HEADINGS
    for entry in entries:
        assert entry["stamp_check"]["verified"] and entry["stamp_check"]["utc_offset"] == "+00:00", entry
        assert not entry["problems"], entry
    # The artifacts themselves carry the image-ids the catalog lists.
    inside = json.loads(run_cli("review", "--json", str(out / artifacts[1]), env=build_env).stdout)
    assert inside[0]["fields"] == entries[1]["fields"]

    mounts = subprocess.run(["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True).stdout
    assert "emi-tui" not in mounts
    loops = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    assert "emi-tui" not in loops
