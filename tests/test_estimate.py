"""The size estimate from a package index, on a small index written here."""

from emi_tui.engine.build.estimate import EXTRA_BYTES, MARGIN, PackageIndex, estimate, usable_bytes
from emi_tui.engine.sizes import parse_size

INDEX = """\
Package: base-files
Priority: required
Installed-Size: 100

Package: libc6
Priority: required
Installed-Size: 1000

Package: apt
Priority: important
Installed-Size: 400
Depends: libc6 (>= 2.36), libapt | libapt-alt

Package: libapt
Installed-Size: 300
Pre-Depends: libc6

Package: libapt-alt
Installed-Size: 9000

Package: openssh-server
Installed-Size: 2000
Depends: openssh-client (= 1:9.2), systemd | sysvinit-core,
 mail-transport-agent

Package: openssh-client
Installed-Size: 3000

Package: systemd
Installed-Size: 5000

Package: exim4
Installed-Size: 700
Provides: mail-transport-agent
"""


def test_closure_follows_depends_first_alternative_and_provides():
    index = PackageIndex.parse(INDEX)
    assert index.required == ["base-files", "libc6"]
    closure = index.closure(["openssh-server"])
    assert closure == {"openssh-server", "openssh-client", "systemd", "exim4"}
    assert "libapt-alt" not in index.closure(["apt"])


def test_estimate_sums_installed_size_with_margin():
    index = PackageIndex.parse(INDEX)
    result = estimate(index, ["openssh-server"], [])
    kilobytes = 100 + 1000 + 400 + 300 + 2000 + 3000 + 5000 + 700
    assert result.needed_bytes == int(kilobytes * 1024 * MARGIN) + EXTRA_BYTES
    assert result.packages == 8
    assert result.missing == []


def test_missing_packages_are_named_with_a_suggestion():
    result = estimate(PackageIndex.parse(INDEX), ["openssh-sever"], [])
    assert result.missing == [("openssh-sever", " (did you mean 'openssh-server'?)")]


def test_usable_space_of_the_standard_sizes():
    standard = usable_bytes(parse_size("1.3G"))
    assert parse_size("1.1G") < standard < parse_size("1.3G")
    assert usable_bytes(parse_size("4.5G")) > parse_size("4.1G")


# --- the parsed-index cache: data only, never code ------------------------------------------------

import json  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from emi_tui.engine.build import estimate as estimate_module  # noqa: E402
from emi_tui.engine.build.aptlists import SharedIndex, package_index  # noqa: E402


class _Planted:
    """A pickle that, when loaded, creates a marker file: what a hostile cache folder could hold."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _cached_download(cache: Path) -> SharedIndex:
    """A checked index in the cache folder, as `fetch_shared_index` leaves it (so nothing is fetched)."""
    folder = cache / "indexes"
    folder.mkdir(parents=True)
    download = folder / "0123.abcd.Packages"
    download.write_text(INDEX)
    old = time.time() - 60
    os.utime(download, (old, old))  # older than any parse written after it
    return SharedIndex("http://mirror.invalid/debian", "bookworm", "main", "amd64", folder / "0123.InRelease", download, False)


def test_a_planted_pickle_in_the_cache_folder_runs_no_code(tmp_path, monkeypatch):
    monkeypatch.setenv("EMI_TUI_CACHE_DIR", str(tmp_path / "cache"))
    shared = _cached_download(tmp_path / "cache")
    download = shared.packages
    marker = tmp_path / "code-ran"
    for name in (".pickle", ".json"):  # where older versions read their parse, and where this one does
        download.with_suffix(name).write_bytes(pickle.dumps(_Planted(marker)))

    index = package_index(shared)

    assert not marker.exists(), "loading the package index ran code planted in the cache folder"
    assert index.required == ["base-files", "libc6"]
    stored = json.loads(download.with_suffix(".json").read_text())  # the planted file was replaced by a real parse
    assert stored["sizes_kb"]["apt"] == 400


def test_the_parse_is_kept_as_json_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("EMI_TUI_CACHE_DIR", str(tmp_path / "cache"))
    shared = _cached_download(tmp_path / "cache")
    first = package_index(shared)
    parsed = shared.packages.with_suffix(".json")
    assert json.loads(parsed.read_text())["depends"]["apt"] == "libc6 (>= 2.36), libapt | libapt-alt"
    assert first.groups("apt") == [["libc6"], ["libapt", "libapt-alt"]]
    monkeypatch.setattr(estimate_module.PackageIndex, "parse", None)  # a second load must not parse again
    assert package_index(shared) == first
    assert [p.name for p in parsed.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_malformed_or_oversized_parse_is_a_cache_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("EMI_TUI_CACHE_DIR", str(tmp_path / "cache"))
    shared = _cached_download(tmp_path / "cache")
    parsed = shared.packages.with_suffix(".json")
    wrong_shapes = [
        b"{not json", b"\xff\xfe", b"[]", b"[" * 100000,
        json.dumps({"format": 2, "sizes_kb": {"apt": "400"}, "depends": {}, "provides": {}, "required": []}).encode(),
        json.dumps({"format": 2, "sizes_kb": {}, "depends": {"apt": ["libc6", 3]}, "provides": {}, "required": []}).encode(),
        json.dumps({"format": 1, "sizes_kb": {}, "depends": {}, "provides": {}, "required": []}).encode(),
    ]
    for content in wrong_shapes:
        parsed.write_bytes(content)
        assert package_index(shared).sizes_kb["apt"] == 400, content[:40]
    good = parsed.read_bytes()
    monkeypatch.setattr(estimate_module, "PARSED_MAX_BYTES", len(good))
    tampered = json.loads(good)
    tampered["sizes_kb"]["apt"] = 4000000  # well-formed, but longer than the bound
    parsed.write_text(json.dumps(tampered, separators=(",", ":")))
    assert package_index(shared).sizes_kb["apt"] == 400  # too big to read: parsed again, not trusted
