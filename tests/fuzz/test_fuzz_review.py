"""Fuzzing the review: image-id files, catalogs and images that are anything but what they should be.

`review_bytes` and `review_paths` must never raise for bad input, every entry
must turn into JSON (the `--json` output), and the table must render. Inputs:
image-id-like text built from the real field names (and their typos, every
quoting mistake, old-style lines, catalog headings), the project's own
image-ids and catalog mutated and truncated, random bytes, and files named
like images or artifacts that are not.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from emi_tui.commands.review import COLUMNS, review_rows
from emi_tui.commands.tables import print_table
from emi_tui.engine.image.imageid import date_for, stamp_for
from emi_tui.engine.review import stampcheck
from emi_tui.engine.review.review import ReviewEntry, review_bytes, review_paths
from emi_tui.engine.review.stampcheck import REVIEW_SEARCH_BUDGET, SKEW_WINDOW_S

from .harness import HANG_GUARD_SECONDS, run_bounded
from .strategies import fuzz_settings, image_id_texts, mutated, random_bytes, review_seeds

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

#: md5s of a stamp check at UTC only, what an entry costs once the review's search budget is spent.
UTC_ONLY_SEARCH = 2 * SKEW_WINDOW_S + 1

GENERATED, MUTATED, TRUNCATED, RANDOM_BYTES, ON_DISK, IMAGES = 300, 200, 150, 150, 60, 20
SEEDS = review_seeds()
_truncated = st.sampled_from(SEEDS).flatmap(lambda seed: st.integers(0, len(seed)).map(lambda n: seed[:n]))


def check_entries(entries: list[ReviewEntry], sources: set[str], stats: Counter) -> None:
    assert entries, "a review always has at least one entry"
    for entry in entries:
        assert isinstance(entry, ReviewEntry)
        assert entry.source in sources, (entry.source, sources)
        data = entry.to_json()
        # JSON-native all the way down: a tuple, a Path or a NaN would not come back equal.
        assert json.loads(json.dumps(data, allow_nan=False)) == data
        assert data["source"] == entry.source and isinstance(data["problems"], list)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in entry.fields.items())
        for finding in entry.problems:
            assert finding.severity in ("error", "warning") and finding.message.strip(), finding
        stats["ok" if entry.ok else "problems"] += 1
    stats["checked"] += 1
    if stats["checked"] % 10 == 1:  # the table is the slow part: every tenth review is rendered too
        console = Console(file=io.StringIO(), width=120, color_system=None)
        print_table(console, "image review", COLUMNS, review_rows(entries))
        assert console.file.getvalue().strip()


def check_review_bytes(data: bytes, stats: Counter, source: str = "fuzz.image-id") -> list[ReviewEntry]:
    stats["files"] += 1
    entries = review_bytes(source, data)
    check_entries(entries, {source}, stats)
    return entries


def test_generated_image_ids_and_catalogs():
    stats: Counter = Counter()

    @fuzz_settings(GENERATED)
    @given(image_id_texts())
    def run(data):
        entries = check_review_bytes(data, stats)
        if len(entries) > 1:
            stats["catalogs"] += 1

    run()
    print(dict(stats))
    assert stats["files"] >= GENERATED and stats["catalogs"] >= 10 and stats["problems"] >= GENERATED // 2, stats


def test_mutated_image_ids_and_catalogs():
    stats: Counter = Counter()

    @fuzz_settings(MUTATED)
    @given(mutated(SEEDS))
    def run(data):
        check_review_bytes(data, stats)

    run()
    print(dict(stats))
    assert stats["files"] >= MUTATED and stats["ok"] >= 5 and stats["problems"] >= 5, stats


def test_truncated_image_ids_and_catalogs():
    stats: Counter = Counter()
    @fuzz_settings(TRUNCATED)
    @given(_truncated)
    def run(data):
        check_review_bytes(data, stats)

    run()
    print(dict(stats))
    assert stats["files"] >= TRUNCATED and stats["problems"] >= TRUNCATED // 2, stats


def test_random_bytes_reviews():
    stats: Counter = Counter()

    @fuzz_settings(RANDOM_BYTES)
    @given(random_bytes)
    def run(data):
        entries = check_review_bytes(data, stats)
        if b"\0" in data:
            assert len(entries) == 1 and not entries[0].ok

    run()
    print(dict(stats))
    assert stats["files"] >= RANDOM_BYTES and stats["ok"] == 0, stats


_names = st.sampled_from(["image-id", "euca.image-id", "EMI-IDs", "catalog.txt", "notes", "weird name.txt", "ünï.image-id"])
_contents = st.one_of(image_id_texts(), mutated(SEEDS), _truncated, random_bytes)


def test_review_paths_of_files_and_folders():
    stats: Counter = Counter()

    @fuzz_settings(ON_DISK)
    @given(st.lists(st.tuples(_names, _contents), min_size=1, max_size=3, unique_by=lambda f: f[0]))
    def run(files):
        with tempfile.TemporaryDirectory(prefix="emi-fuzz-review-") as tmp:
            folder = Path(tmp)
            for name, data in files:
                (folder / name).write_bytes(data)
            for name, _ in files:
                stats["files"] += 1
                check_entries(review_paths([folder / name]), {str(folder / name)}, stats)
            entries = review_paths([folder, folder / "missing"])
            check_entries(entries, {str(folder / name) for name, _ in files} | {str(folder), str(folder / "missing")}, stats)
            assert not entries[-1].ok and entries[-1].source == str(folder / "missing")

    run()
    print(dict(stats))
    assert stats["files"] >= ON_DISK, stats


# --------------------------------------------------------------------------- files named like images


def _tarball(members: dict[str, bytes], compression: str = "") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=f"w:{compression}") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@st.composite
def fake_images(draw) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from([".img", ".tgz", ".tar.gz", ".tar.xz", ".tar.zst", ".tar", ".IMG"]))
    kind = draw(st.sampled_from(["random", "truncated-tar", "tar-of-junk"]))
    if kind == "random":
        return suffix, draw(st.binary(max_size=4096))
    tar = _tarball({"euca-x/euca-x.img": draw(st.binary(max_size=2048)), "euca-x/kvm-kernel/vmlinuz-1": b"k"}, "gz" if "gz" in suffix else "")
    if kind == "truncated-tar":
        return suffix, tar[: draw(st.integers(0, len(tar)))]
    return suffix, tar


def test_files_named_like_images():
    stats: Counter = Counter()

    @fuzz_settings(IMAGES)
    @given(fake_images())
    def run(image):
        suffix, data = image
        with tempfile.TemporaryDirectory(prefix="emi-fuzz-image-") as tmp:
            path = Path(tmp) / f"euca-x{suffix}"
            path.write_bytes(data)
            stats["files"] += 1
            entries = review_paths([path])
            check_entries(entries, {str(path)}, stats)
            # Nothing of it is a readable EMI: each entry says why, none passes.
            assert not any(e.ok for e in entries), [e.to_json() for e in entries]
            assert sorted(os.listdir(tmp)) == [path.name], "the review left files behind"

    run()
    print(dict(stats))
    assert stats["files"] >= IMAGES and stats["ok"] == 0, stats


def test_artifact_members_cannot_escape_the_review(tmp_path):
    """A hostile tarball's members land in the review's own temporary folder or nowhere."""
    outside = tmp_path / "outside"
    outside.mkdir()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in [("../../escape-up.img", b"x"), (str(tmp_path / "escape-abs.img"), b"x")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("d")
        link.type, link.linkname = tarfile.SYMTYPE, str(outside)
        tar.addfile(link)
        for name in ("d/escape-link.img", "e.img"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        evil = tarfile.TarInfo("passwd.img")
        evil.type, evil.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(evil)
    artifact = tmp_path / "work" / "a" / "b" / "evil.tgz"
    artifact.parent.mkdir(parents=True)
    artifact.write_bytes(out.getvalue())
    entries = review_paths([artifact])
    check_entries(entries, {str(artifact)}, Counter())
    assert not any(e.ok for e in entries)
    escaped = [p for p in tmp_path.rglob("escape-*") if p.is_file()]
    assert escaped == [] and list(outside.iterdir()) == [], escaped
    assert sorted(os.listdir(artifact.parent)) == ["evil.tgz"]


# --------------------------------------------------------------------------- fixed adversarial files



def _catalog_of_unverifiable_entries(count: int) -> bytes:
    out = []
    for i in range(count):
        epoch = 1_300_000_000 + 86_400 * i
        out.append(f"entry {i}:\n  image_stamp=\"{stamp_for(epoch + 500_000)}\"\n  image_date=\"{date_for(epoch)}\"\n")
    return "".join(out).encode()


ADVERSARIAL = {
    "one-1MB-line": b'image_file="' + b"a-" * 500_000 + b'.img"\n',
    "4MB-of-NUL": b"\0" * (4 << 20),
    "100k-junk-lines": b"junk line\n" * 100_000,
    "20k-repeated-fields": b'image_name="euca-debian-emi"\n' * 20_000,
    "catalog-of-2000-entries": b"".join(b'e%d:\n  image_name="x"\n' % i for i in range(2000)),
}


def _counted_review(data: bytes):
    """review_bytes (to run in a child), counting the md5s its stamp checks compute (the expensive part)."""

    def call():
        md5s = []
        real = stampcheck._md5

        def counting(raw: bytes):
            md5s.append(None)
            return real(raw)

        stampcheck._md5 = counting
        stampcheck._check_stamp.cache_clear()  # cached checks would cost nothing, and hide the work
        try:
            entries = review_bytes("adversarial", data)
        finally:
            stampcheck._md5 = real
            stampcheck._check_stamp.cache_clear()
        return len(entries), [e.to_json() for e in entries[:3]], len(md5s)

    return call


def _check_bounded(data: bytes) -> int:
    """Review `data` once: it answers, with JSON-clean entries, and within the review's md5 budget.

    The work bound is exact, so it holds on any machine: full stamp searches
    share REVIEW_SEARCH_BUDGET md5s, and past it an entry costs a UTC-only
    search. How long these inputs take is a figure of benchmarks/inputs_bench.py.
    """
    result = run_bounded(_counted_review(data))
    assert "timeout" not in result, f"review_bytes hung: no answer within the {HANG_GUARD_SECONDS:.0f} s hang guard"
    assert "raised" not in result, result.get("traceback", result)
    count, first, md5s = result["value"]
    assert count >= 1 and json.loads(json.dumps(first)) == first
    assert md5s <= REVIEW_SEARCH_BUDGET + count * UTC_ONLY_SEARCH, f"{md5s} md5s for {count} entries"
    return md5s


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_review_input(name):
    _check_bounded(ADVERSARIAL[name])


def test_many_heading_lines_are_reviewed_without_a_stamp_search():
    assert _check_bounded(b"a:\n" * 100_000) == 0  # no stamp, so no md5 at all


def test_catalog_of_unverifiable_stamps_stays_within_the_search_budget():
    # Each such stamp costs a full search (12,705 md5s) until the review's budget is spent;
    # without the budget, 600 of them would cost 7.6 million md5s, and the bound below fails.
    md5s = _check_bounded(_catalog_of_unverifiable_entries(600))
    assert md5s > REVIEW_SEARCH_BUDGET - len(stampcheck._search_order())  # the budget was really spent


def test_the_md5_bound_can_fail():
    with stampcheck.search_budget(None):  # unlimited: the enclosing budget wins inside review_bytes
        result = _counted_review(_catalog_of_unverifiable_entries(100))()
    count, _first, md5s = result
    assert md5s > REVIEW_SEARCH_BUDGET + count * UTC_ONLY_SEARCH


def test_review_paths_refuses_what_it_cannot_read(tmp_path):
    big = tmp_path / "big.image-id"
    big.write_bytes(b"#" * ((4 << 20) + 1))
    fifo = tmp_path / "fifo.image-id"
    os.mkfifo(fifo)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")

    def call():
        return [e.to_json() for e in review_paths([big, fifo, tmp_path / "loop", tmp_path])]

    result = run_bounded(call)
    assert "value" in result, result
    entries = result["value"]
    by_source: dict[str, list[dict]] = {}
    for e in entries:
        by_source.setdefault(e["source"], []).append(e)
    for path in (big, fifo, tmp_path / "loop"):  # named: the first entry of each is the named path's own
        assert by_source[str(path)][0]["problems"][0]["severity"] == "error", entries
    # Found again in the folder: the link is reported as skipped, not followed.
    assert by_source[str(tmp_path / "loop")][1]["problems"][0]["message"].startswith("a link: not followed"), entries
    assert json.loads(json.dumps(entries)) == entries
