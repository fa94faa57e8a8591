"""What a released catalog writes: EMI-IDs in the seed's format (read back by review, every stamp verified at UTC),
SHA256SUMS as sha256sum reads it, and the release note with each image's size, packages, kernel and changes."""

from __future__ import annotations

import hashlib
import subprocess

from emi_tui.engine.artifact.manifest import diff_manifests
from emi_tui.engine.catalog.write import (
    ReleasedImage,
    emi_ids_text,
    kernel_of,
    parse_image_id,
    release_note,
    sha256sums_text,
    write_catalog_files,
)
from emi_tui.engine.image.imageid import FIELDS, ImageId
from emi_tui.engine.review.review import review_paths

EPOCH = 1_764_700_000  # 2025-12-02, a fixed instant


def _image(heading: str, arch: str, large: bool, offset: int, manifest: dict[str, str] | None = None) -> ReleasedImage:
    name = f"euca{'-large' if large else ''}-debian"
    image_id = ImageId.stamped(name=f"{name}-emi", version="2026.12.03", arch=arch, file=f"{name}-2026.12.03-{arch}.img",
                               recipe="debian-based", epoch_seconds=EPOCH + offset)
    return ReleasedImage(heading, image_id.as_dict(), f"{name}-2026.12.03-{arch}.tar.zst", hashlib.sha256(heading.encode()).hexdigest(),
                         400 * 1024**2, manifest or {"bash": "5.2.15-2+b7", "linux-image-6.1.0-28-amd64": "6.1.119-1", "linux-image-amd64": "6.1.119-1"})


IMAGES = [_image("debian x86_64 12", "x86_64", False, 0), _image("debian large x86_64 12", "x86_64", True, 61),
          _image("debian i386 12", "i386", False, 122)]


def test_emi_ids_are_in_the_seeds_format():
    text = emi_ids_text(IMAGES)
    block = text[text.index("debian x86_64 12:"):].split("\n\n")[0].splitlines()
    assert block[0] == "debian x86_64 12:"
    assert [line.split("=")[0] for line in block[1:]] == [f"\t{name}" for name in FIELDS]  # seven lines, tab-indented, in order
    assert block[1] == '\timage_name="euca-debian-emi"'
    assert text.count(":\n\t") == 3


def test_review_reads_the_written_emi_ids_back_and_every_stamp_verifies_at_utc(tmp_path):
    write_catalog_files(tmp_path, "release 2026.12.03", IMAGES)
    entries = review_paths([tmp_path / "EMI-IDs"])
    assert [e.entry for e in entries] == [i.heading for i in IMAGES]
    for entry, image in zip(entries, IMAGES, strict=True):
        assert entry.passes, entry.problems
        assert entry.fields == dict(image.image_id)
        assert entry.stamp_check.verified and entry.stamp_check.utc_offset == "+00:00" and entry.stamp_check.skew_s == 0


def test_sha256sums_is_checked_by_sha256sum(tmp_path):
    for image in IMAGES:
        (tmp_path / image.artifact).write_text(image.heading)
    real = [ReleasedImage(i.heading, i.image_id, i.artifact, hashlib.sha256(i.heading.encode()).hexdigest(), 1) for i in IMAGES]
    (tmp_path / "SHA256SUMS").write_text(sha256sums_text(real))
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(line.split()[1] for line in sha256sums_text(real).splitlines()) == sorted(i.artifact for i in IMAGES)


def test_the_kernel_is_read_from_the_manifest():
    assert kernel_of({"linux-image-6.1.0-28-686": "6.1.119-1", "linux-image-686": "6.1.119-1"}) == "6.1.0-28-686"
    assert kernel_of({"kernel-core": "5.14.0-503.el9"}) == "5.14.0-503.el9"
    assert kernel_of({"bash": "5"}) == ""


def test_release_note_lists_size_packages_and_kernel_of_each_image():
    note = release_note("release 2026.12.03", IMAGES)
    row = next(line for line in note.splitlines() if line.startswith("| debian i386 12 |"))
    assert "| 400.0 MB | 3 | 6.1.0-28-amd64 |" in row
    assert "Changes since" not in note


def test_release_note_lists_the_packages_added_removed_and_upgraded_since_the_previous_release():
    before = {"bash": "5.2.15-2", "nano": "7.2-1", "linux-image-6.1.0-28-amd64": "6.1.119-1"}
    note = release_note("r", IMAGES[:2], since={"debian x86_64 12": before})
    section = note[note.index("### debian x86_64 12"):note.index("### debian large")]
    assert "- 1 added, 1 removed, 1 upgraded" in section and "  - added linux-image-amd64 6.1.119-1" in section
    assert "  - upgraded bash 5.2.15-2 → 5.2.15-2+b7" in section and "  - removed nano 7.2-1" in section
    assert "new in this release" in note[note.index("### debian large"):]


def test_a_heading_or_version_from_outside_cannot_break_the_notes_table():
    image = _image("debian | x86_64", "x86_64", False, 0, {"evil|pkg": "1*2"})
    row = next(line for line in release_note("t", [image]).splitlines() if line.startswith("| debian"))
    assert row.count("|") - row.count("\\|") == 7


def test_diff_manifests_is_the_package_diff_modify_reports():
    diff = diff_manifests({"a": "1", "b": "1"}, {"b": "2", "c": "1"})
    assert (diff.added, diff.removed, diff.upgraded) == ({"c": "1"}, {"a": "1"}, {"b": ("1", "2")})


def test_parse_image_id_reads_the_seven_fields():
    text = ImageId.stamped(name="n", version="v", arch="i386", file="f.img", recipe="r", epoch_seconds=EPOCH).render()
    assert parse_image_id(text)["image_arch"] == "i386" and len(parse_image_id(text)) == 7


def test_the_files_are_written_under_a_temporary_name_and_renamed(tmp_path):
    written = write_catalog_files(tmp_path, "t", IMAGES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written) == ["EMI-IDs", "RELEASE-NOTES.md", "SHA256SUMS"]
