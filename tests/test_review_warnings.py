"""`emi-tui review`: a stamp that verifies nowhere is a warning that names what was searched and fails the review;
a folder review reports each file it read and could not use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from emi_tui.engine.review import stampcheck
from emi_tui.engine.review.review import review_bytes, review_paths

GOOD_ID = (Path(__file__).parent / "data" / "review" / "euca-debian.image-id").read_text()


def forged(stamp: str = "dead-beef") -> str:
    return "\n".join(f'image_stamp="{stamp}"' if line.startswith("image_stamp=") else line for line in GOOD_ID.splitlines()) + "\n"


def review(tmp_path: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="400", NO_COLOR="1", XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run([sys.executable, "-m", "emi_tui", "review", *map(str, paths)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_stamp_that_verifies_at_no_offset_is_a_warning_naming_the_search():
    [entry] = review_bytes("x", forged().encode())
    date = entry.fields["image_date"]
    assert not entry.stamp_check.verified
    [warning] = [p for p in entry.problems if p.field == "image_stamp"]
    assert warning.severity == "warning"
    assert warning.message == (
        f"image_stamp 'dead-beef' is not verified: no second within ±60 s of image_date {date}, read in any UTC offset "
        "(−12:00 to +14:00, each quarter hour), gives it: copy both again from the same image"
    )
    assert entry.ok and not entry.passes  # no error, yet the review fails


def test_the_review_of_an_unverified_stamp_exits_1(tmp_path):
    loose = tmp_path / "euca.image-id"
    loose.write_text(forged())
    done = review(tmp_path, loose)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "image_stamp 'dead-beef' is not verified" in done.stdout
    good = tmp_path / "good.image-id"
    good.write_text(GOOD_ID)
    assert review(tmp_path, good).returncode == 0


def test_a_stamp_searched_at_utc_only_says_so():
    with stampcheck.search_budget(0):  # the review's stamp-search time is spent: UTC only
        [entry] = review_bytes("x", forged("dead-bee0").encode())
    [warning] = [p for p in entry.problems if p.field == "image_stamp"]
    assert "at UTC gives it, and the other UTC offsets were not searched" in warning.message
    assert "review --full-stamp-search" in warning.message and not entry.passes


def test_a_folder_review_reports_each_file_it_could_not_use(tmp_path):
    (tmp_path / "good.image-id").write_text(GOOD_ID)
    (tmp_path / "README.txt").write_text("Nothing to see here.\n")
    (tmp_path / "EMI-IDs").write_bytes(b"image_name=\0\x01\x02")
    entries = {Path(e.source).name: e for e in review_paths([tmp_path])}
    assert set(entries) == {"good.image-id", "README.txt", "EMI-IDs"}
    assert [(p.severity, p.message) for p in entries["EMI-IDs"].problems] == [
        ("warning", "skipped: binary content, not an image-id file or catalog")]
    assert [(p.severity, p.message) for p in entries["README.txt"].problems] == [
        ("warning", 'skipped: no image-id lines (image_name="…", or a catalog\'s date and stamp lines) in its first 64 KB')]
    assert entries["good.image-id"].problems == []
