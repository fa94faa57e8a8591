"""The review of image-ids: stamp checks, catalogs, every finding, the JSON shape, and bad input."""

from __future__ import annotations

import calendar
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from emi_tui.commands.review import COLUMNS, review_rows
from emi_tui.commands.tables import print_table
from emi_tui.engine.image.imageid import FIELDS, ImageId, date_for, stamp_for
from emi_tui.engine.review.review import ReviewEntry, check_stamp, review_bytes, review_paths

DATA = Path(__file__).parent / "data" / "review"
CATALOG = DATA / "emi-ids.txt"
SHELL_STAMP = r"echo {n} | md5sum | sed '1,$ s/\(....\)\(....\).*/\1-\2/'"

GOOD = ImageId(
    "euca-debian-emi", "2011.08.15", "x86_64", "euca-debian-2011.08.15-x86_64.img", "082d-d3a4", "20110815122021", "debian-based"
).render()


def epoch_of(date: str, offset_minutes: int) -> int:
    """The instant that `date` names when it was written in UTC+offset."""
    return calendar.timegm(datetime.strptime(date, "%Y%m%d%H%M%S").timetuple()) - offset_minutes * 60


def review_text(text: str) -> ReviewEntry:
    entries = review_bytes("test.image-id", text.encode())
    assert len(entries) == 1
    return entries[0]


def kinds(entry: ReviewEntry) -> set[tuple[str, str]]:
    return {(p.field, p.severity) for p in entry.problems}


# --- the stamp


@pytest.mark.parametrize("epoch", [0, 1, 999999999, 1313410821, 1325113448, 1795866735, 2**31 - 1, 4102444800])
def test_stamp_for_matches_the_operators_shell_pipeline(epoch):
    shell = subprocess.run(["sh", "-c", SHELL_STAMP.format(n=epoch)], capture_output=True, text=True, check=True)
    assert stamp_for(epoch) == shell.stdout.strip()


def test_the_documented_stamp_vector():
    assert stamp_for(1313410821) == "a17c-a678"


def test_an_image_built_by_emi_tui_verifies_at_utc_with_no_skew():
    epoch = 1795866735
    check = check_stamp(stamp_for(epoch), date_for(epoch))
    assert (check.verified, check.utc_offset, check.skew_s) == (True, "+00:00", 0)
    assert check.describe() == "verified at UTC+00:00, stamp taken in the same second as the date"


def test_a_stamp_taken_13_s_before_a_date_written_at_utc_minus_8():
    date = "20111229101544"
    stamp = stamp_for(epoch_of(date, -8 * 60) - 13)
    check = check_stamp(stamp, date)
    # skew_s is the stamp's epoch minus the date's: negative when the stamp came first.
    assert (check.verified, check.utc_offset, check.skew_s) == (True, "-08:00", -13)
    assert check.describe() == "verified at UTC−08:00, stamp taken 13 s before the date"
    after = check_stamp(stamp_for(epoch_of(date, -8 * 60) + 13), date)
    assert (after.utc_offset, after.skew_s) == ("-08:00", 13)
    assert after.describe().endswith("stamp taken 13 s after the date")


@pytest.mark.parametrize(
    "offset, text, skew",
    [(0, "+00:00", 0), (-12 * 60, "-12:00", 60), (14 * 60, "+14:00", -60), (5 * 60 + 45, "+05:45", 7), (5 * 60 + 30, "+05:30", -1), (-(3 * 60 + 30), "-03:30", 42)],
)
def test_every_offset_and_the_ends_of_the_window_verify(offset, text, skew):
    date = "20200229235959"
    check = check_stamp(stamp_for(epoch_of(date, offset) + skew), date)
    assert (check.verified, check.utc_offset, check.skew_s) == (True, text, skew)


def test_a_stamp_outside_the_window_does_not_verify():
    date = "20200229235959"
    check = check_stamp(stamp_for(epoch_of(date, 0) + 61), date)
    assert not check.verified and check.utc_offset is None and check.skew_s is None
    assert check.describe() == "not verified: no epoch within ±60 s of the date in any UTC offset gives this stamp"


def test_the_wiki_example_verifies_at_pacific_daylight_time():
    check = check_stamp("082d-d3a4", "20110815122021")
    assert (check.verified, check.utc_offset, check.skew_s) == (True, "-07:00", 5)


@pytest.mark.parametrize("stamp, date", [("082D-D3A4x", "20110815122021"), ("082d-d3a4", "2011081512202"), ("082d-d3a4", "20111315122021"), ("", "")])
def test_malformed_stamps_and_dates_are_not_verified_and_say_why(stamp, date):
    check = check_stamp(stamp, date)
    assert not check.verified
    assert "not xxxx-xxxx" in check.describe() or "not a YYYYmmddHHMMSS date" in check.describe()


# --- a catalog of old and new entries


def test_the_catalog_is_read_entry_by_entry():
    entries = review_paths([CATALOG])
    assert [e.entry for e in entries] == [
        "debian x86_64 6", "centos x86_64 5", "centos i386 5", "centos large x86_64 5",
        "debian i386 6", "debian large x86_64 6", "ubuntu i386 10.04", "ubuntu x86_64 10.04",
    ]
    assert all(e.source == str(CATALOG) and e.stamp_check.verified for e in entries)
    debian, centos, old_centos, large_centos, old_debian, large_debian, ubuntu_i386, ubuntu = entries

    assert debian.fields == dict(zip(FIELDS, ["euca-debian-emi", "2011.08.15", "x86_64", "euca-debian-2011.08.15-x86_64.img", "082d-d3a4", "20110815122021", "debian-based"]))
    assert debian.problems == [] and debian.ok
    assert (centos.problems, centos.stamp_check.utc_offset, centos.stamp_check.skew_s) == ([], "-08:00", -13)

    # Old entries: tarballs, and date/stamp lines, here written the wrong way round.
    assert old_centos.fields == {
        "image_date": "e84b-842a", "image_stamp": "20110716170210",
        "tarball": "euca-centos-2011.07.02-i386.tgz euca-large-centos-2011.07.02-i386.tgz",
    }
    assert kinds(old_centos) == {("", "warning"), ("image_stamp", "error"), ("tarball", "warning")}
    assert (old_centos.stamp_check.utc_offset, old_centos.stamp_check.skew_s) == ("-07:00", 4)
    assert old_debian.fields["image_date"] == "20110702093012" and old_debian.fields["image_stamp"] == "4ce8-e2aa"
    assert kinds(old_debian) == {("", "warning")} and old_debian.ok
    assert "image_name, image_version, image_arch, image_file, recipe_name" in old_debian.problems[0].message

    assert kinds(large_centos) == {("image_file", "warning")}
    assert kinds(large_debian) == {("image_file", "error")}
    assert "2011.11.30" in large_debian.problems[0].message and "2011.12.30" in large_debian.problems[0].message
    assert kinds(ubuntu_i386) == {("image_version", "warning")}
    assert ubuntu.fields["recipe_name"] == "ubuntu-based"  # the unterminated quote is still read
    assert kinds(ubuntu) == {("recipe_name", "error")} and not ubuntu.ok


def test_a_catalog_is_told_from_a_loose_file_by_its_content(tmp_path):
    named_like_a_loose_file = tmp_path / "image-id"
    named_like_a_loose_file.write_text("debian x86_64 6:\n" + "".join(f"  {line}\n" for line in GOOD.splitlines()))
    [entry] = review_paths([named_like_a_loose_file])
    assert entry.entry == "debian x86_64 6" and entry.problems == []
    # A heading-like line with nothing indented under it is just a bad line of a loose file.
    [loose] = review_bytes("x", (GOOD + "notes:\n").encode())
    assert loose.entry is None and kinds(loose) == {("", "error")} and "line 8" in loose.problems[0].message


def test_a_loose_file_written_by_emi_tui_has_no_problems():
    [entry] = review_paths([DATA / "euca-debian.image-id"])
    assert entry.entry is None and entry.problems == [] and entry.ok
    assert (entry.stamp_check.utc_offset, entry.stamp_check.skew_s) == ("+00:00", 0)


# --- every kind of finding


def edit(key: str, value: str | None) -> str:
    """GOOD with one line replaced (or removed when value is None)."""
    lines = [line for line in GOOD.splitlines() if not line.startswith(f"{key}=")] if value is None else [
        value if line.startswith(f"{key}=") else line for line in GOOD.splitlines()
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text, field, severity, words",
    [
        (edit("image_arch", None), "image_arch", "error", "image_arch is missing"),
        (GOOD + 'image_stmp="x"\n', "image_stmp", "warning", "did you mean 'image_stamp'"),
        (GOOD + "this is not a field\n", "", "error", "line 8"),
        (edit("image_arch", "image_arch=x86_64"), "image_arch", "warning", "not quoted"),
        (edit("image_name", 'image_name=""'), "image_name", "error", "is empty"),
        (GOOD + 'image_arch="x86_64"\n', "image_arch", "warning", "second time"),
        (edit("image_stamp", 'image_stamp="082d_d3a4"'), "image_stamp", "error", "like 082d-d3a4"),
        (edit("image_date", 'image_date="2011-08-15"'), "image_date", "error", "14 digits"),
        (edit("image_date", 'image_date="20111315122021"'), "image_date", "error", "not a real date"),
        (edit("image_file", 'image_file="euca-debian-2011.08.16-x86_64.img"'), "image_file", "error", "says version 2011.08.16"),
        (edit("image_file", 'image_file="euca-debian-2011.08.15-i386.img"'), "image_file", "error", "says arch i386"),
        (edit("image_file", 'image_file="debian.img"'), "image_file", "warning", "naming scheme"),
        (edit("image_file", 'image_file="euca-large-debian-2011.08.15-x86_64.img"'), "image_file", "warning", "euca-large-debian"),
        (edit("image_name", 'image_name="debian-image"'), "image_name", "warning", "naming scheme"),
        (edit("recipe_name", 'recipe_name="debian"'), "recipe_name", "warning", "<distro>-based"),
        (edit("recipe_name", 'recipe_name="centos-based"'), "recipe_name", "warning", "not the recipe of"),
        (edit("image_arch", 'image_arch="x86-64"'), "image_arch", "warning", "did you mean 'x86_64'"),
    ],
)
def test_each_finding(text, field, severity, words):
    entry = review_text(text)
    found = [p for p in entry.problems if p.field == field and p.severity == severity]
    assert found, entry.problems
    assert any(words in p.message for p in found), [p.message for p in found]


def test_an_unterminated_quote_is_reported_and_the_value_still_read():
    entry = review_text(edit("image_name", 'image_name="euca-debian-emi'))
    assert entry.fields["image_name"] == "euca-debian-emi"
    assert kinds(entry) == {("image_name", "error")} and "never closes" in entry.problems[0].message


def test_swapped_stamp_and_date_are_reported_and_still_checked():
    text = edit("image_stamp", 'image_stamp="20110815122021"').replace('image_date="20110815122021"', 'image_date="082d-d3a4"')
    entry = review_text(text)
    assert kinds(entry) == {("image_stamp", "error")} and "swap" in entry.problems[0].message
    assert (entry.stamp_check.verified, entry.stamp_check.utc_offset) == (True, "-07:00")


def test_a_version_naming_another_day_than_the_date_is_a_warning():
    text = GOOD.replace("2011.08.15", "2011.07.02")
    entry = review_text(text)
    assert kinds(entry) == {("image_version", "warning")}
    assert "2011.07.02" in entry.problems[0].message and "2011.08.15" in entry.problems[0].message


def test_every_message_says_how_to_fix_it():
    entry = review_text('image_name=debian\nimage_file="x"\nimage_stamp="zz"\nimage_date="1"\njunk\n')
    assert len(entry.problems) >= 8
    for problem in entry.problems:
        what, _, fix = problem.message.partition(": ")
        assert what and fix, problem.message


# --- paths, folders, JSON and the table


def test_a_missing_path_is_an_entry_not_an_exception(tmp_path):
    [entry] = review_paths([tmp_path / "nope"])
    assert entry.source == str(tmp_path / "nope") and entry.fields == {}
    assert kinds(entry) == {("", "error")} and not entry.stamp_check.verified


def test_a_fifo_is_refused_rather_than_read(tmp_path):
    # Reading a FIFO would block the review forever.
    os.mkfifo(tmp_path / "image-id")
    [entry] = review_paths([tmp_path / "image-id"])
    assert "not a regular file" in entry.problems[0].message
    [folder] = review_paths([tmp_path])
    assert kinds(folder) == {("", "warning")}


def test_folders_are_searched_for_image_ids_and_catalogs(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "image-id").write_text(GOOD)
    (tmp_path / "a" / "debian.image-id").write_text(GOOD)
    (tmp_path / "a" / "b" / "EMI-IDs").write_bytes(CATALOG.read_bytes())
    (tmp_path / "a" / "notes.txt").write_text("copied from an instance:\n" + GOOD)
    (tmp_path / "README.txt").write_text("Nothing to see here.\n")
    (tmp_path / ".git" / "image-id").write_text(GOOD)
    (tmp_path / "empty").mkdir()
    entries = review_paths([tmp_path])
    sources = sorted({Path(e.source).relative_to(tmp_path).as_posix() for e in entries})
    assert sources == ["README.txt", "a/b/EMI-IDs", "a/debian.image-id", "a/notes.txt", "image-id"]
    assert len(entries) == 3 + 8 + 1
    [readme] = [e for e in entries if e.source.endswith("README.txt")]  # read as a possible catalog, and not one: said
    assert [(p.severity, p.message) for p in readme.problems] == [
        ("warning", 'skipped: no image-id lines (image_name="…", or a catalog\'s date and stamp lines) in its first 64 KB')]
    [empty] = review_paths([tmp_path / "empty"])
    assert kinds(empty) == {("", "warning")}


def test_the_json_shape():
    entries = review_paths([CATALOG])
    data = json.loads(json.dumps([e.to_json() for e in entries]))
    for item in data:
        assert list(item) == ["source", "entry", "fields", "stamp_check", "problems"]
        assert list(item["stamp_check"]) == ["verified", "utc_offset", "skew_s"]
        assert all(list(p) == ["field", "severity", "message", "line"] and p["severity"] in ("error", "warning") for p in item["problems"])
    assert data[1]["stamp_check"] == {"verified": True, "utc_offset": "-08:00", "skew_s": -13}
    assert data[1]["entry"] == "centos x86_64 5"
    loose = review_paths([DATA / "euca-debian.image-id"])[0].to_json()
    assert loose["entry"] is None and "hygiene" not in loose and "answers" not in loose


def test_the_table_shows_every_entry_and_keeps_untrusted_text_literal():
    entries = review_paths([CATALOG]) + review_bytes("x", GOOD.replace("euca-debian-emi", "[red]euca").encode())
    rows = review_rows(entries)
    assert [c.name for c in COLUMNS] == ["source / entry", "name", "version", "arch", "stamp check", "problems"]
    assert len(rows) == len(entries) and all(len(row) == len(COLUMNS) for row in rows)
    console = Console(width=250, record=True, color_system=None, force_terminal=True)
    print_table(console, "image review", COLUMNS, rows)
    text = console.export_text()
    assert "[red]euca" in text and "ubuntu x86_64 10.04" in text and "verified at UTC−08:00" in text


# --- bad input never raises


def check_harmless(entries: list[ReviewEntry]) -> None:
    assert entries
    for entry in entries:
        json.dumps(entry.to_json())
        entry.stamp_check.describe()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data):
    check_harmless(review_bytes("fuzz", data))


TOKENS = ["image_stamp", "image_date", "image_file", "=", '"', "'", ":", "\n", "\t", "  ", "date ", "stamp ", "euca-", "-emi", ".img", ".tgz",
          "082d-d3a4", "20110815122021", "2011.08.15", "x86_64", "debian x86_64 6:", "-", "\x00", "\ufeff", "é"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=5), max_size=60))
def test_image_id_like_garbage_never_raises(parts):
    check_harmless(review_bytes("fuzz", "".join(parts).encode("utf-8", "surrogatepass")))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=len(CATALOG.read_bytes())), noise=st.binary(max_size=40))
def test_truncated_catalog_files_never_raise(scratch, cut, noise):
    path = scratch / "truncated.txt"
    path.write_bytes(CATALOG.read_bytes()[:cut] + noise)
    check_harmless(review_paths([path]))


# --------------------------------------------------------------------------- the stamp-search budget

def _catalog(entries: list[tuple[int, int]]) -> bytes:
    """A catalog with one entry per (stamp epoch, date epoch): the date written at UTC."""
    return "".join(
        f'entry {i}:\n  image_stamp="{stamp_for(stamp)}"\n  image_date="{date_for(date)}"\n' for i, (stamp, date) in enumerate(entries)
    ).encode()


@pytest.fixture
def md5_calls(monkeypatch):
    """Count the md5s the stamp search computes (and start from an empty cache of checks)."""
    from emi_tui.engine.review import stampcheck

    calls = []
    real = stampcheck._md5

    def counting(data: bytes):
        calls.append(data)
        return real(data)

    monkeypatch.setattr(stampcheck, "_md5", counting)
    stampcheck._check_stamp.cache_clear()
    yield calls
    stampcheck._check_stamp.cache_clear()


def test_a_review_bounds_the_md5s_spent_on_stamps_that_verify_nowhere(md5_calls):
    from emi_tui.engine.review.stampcheck import REVIEW_SEARCH_BUDGET, _search_order

    full, utc_only = len(_search_order()), 2 * 60 + 1
    count = 300
    entries = review_bytes("catalog", _catalog([(1_300_000_000 + 86_400 * i + 500_000, 1_300_000_000 + 86_400 * i) for i in range(count)]))
    searched = [e for e in entries if e.stamp_check.complete]
    cut = [e for e in entries if not e.stamp_check.complete]
    assert len(searched) == REVIEW_SEARCH_BUDGET // full and len(searched) + len(cut) == count
    assert entries[: len(searched)] == searched  # the budget goes to the first entries, in order
    assert len(md5_calls) == len(searched) * full + len(cut) * utc_only
    for entry in cut:
        assert not entry.stamp_check.verified and "not searched" in entry.stamp_check.describe()
        assert any(p.field == "image_stamp" and p.severity == "warning" and "--full-stamp-search" in p.message for p in entry.problems)
    assert all("not searched" not in e.stamp_check.describe() for e in searched)


def test_after_the_budget_a_stamp_at_utc_still_verifies_and_full_search_finds_the_rest(md5_calls, tmp_path):
    spent = [(1_300_000_000 + 86_400 * i + 500_000, 1_300_000_000 + 86_400 * i) for i in range(100)]
    at_utc = (1_500_000_000, 1_500_000_003)  # the stamp 3 s before the date, both UTC
    at_pst = (1_500_100_000, 1_500_100_000 - 8 * 3600)  # a date written at UTC-08:00
    catalog = tmp_path / "catalog.txt"
    catalog.write_bytes(_catalog(spent + [at_utc, at_pst]))
    *_, utc_entry, pst_entry = review_paths([catalog])
    assert utc_entry.stamp_check.verified and utc_entry.stamp_check.skew_s == -3
    assert not pst_entry.stamp_check.verified and not pst_entry.stamp_check.complete
    *_, utc_entry, pst_entry = review_paths([catalog], full_stamp_search=True)
    assert pst_entry.stamp_check.verified and pst_entry.stamp_check.utc_offset == "-08:00"
    assert all(e.stamp_check.complete for e in review_paths([catalog], full_stamp_search=True))


def test_review_full_stamp_search_on_the_command_line(tmp_path):
    catalog = tmp_path / "catalog.txt"
    catalog.write_bytes(_catalog([(1_300_000_000 + 86_400 * i + 500_000, 1_300_000_000 + 86_400 * i) for i in range(90)]))
    env = {**os.environ, "EMI_TUI_STATE_DIR": str(tmp_path / "state")}

    def cut_entries(*flags: str) -> int:
        done = subprocess.run([sys.executable, "-m", "emi_tui", "review", "--json", *flags, str(catalog)], capture_output=True, text=True, env=env)
        assert done.returncode == 1 and not done.stderr, done.stderr  # 1: the entries lack image_name and the rest
        return sum(any("--full-stamp-search" in p["message"] for p in e["problems"]) for e in json.loads(done.stdout))

    assert cut_entries() == 90 - 1_000_000 // 12_705
    assert cut_entries("--full-stamp-search") == 0


def test_a_link_named_on_the_command_line_is_followed_but_not_one_found_in_a_folder(tmp_path):
    """The operator chose a path they name (a link there is theirs); a link found inside a folder is not followed."""
    real = tmp_path / "elsewhere" / "image-id"
    real.parent.mkdir()
    real.write_text('image_name="euca-debian-emi"\n')
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "image-id").symlink_to(real)
    named = review_paths([folder / "image-id"])
    assert named[0].fields.get("image_name") == "euca-debian-emi"
    found = review_paths([folder])
    assert [(e.source, e.problems[0].severity) for e in found] == [(str(folder / "image-id"), "warning")]
    assert found[0].problems[0].message.startswith("a link: not followed")
