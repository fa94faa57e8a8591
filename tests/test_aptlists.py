"""One download of the package index per build: preflight's checked copy is reused, and apt finds it under its own name."""

from __future__ import annotations

import hashlib
import lzma
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_http import serve_folder

from emi_tui.engine.build import aptlists
from emi_tui.engine.build.aptlists import SharedIndex, apt_list_name, fetch_shared_index, lay_out_lists, listed_sha256, verify_inrelease
from emi_tui.engine.errors import EmiError

PACKAGES = "Package: apt\nVersion: 2.6.1\nInstalled-Size: 4000\n\nPackage: usr-is-merged\nInstalled-Size: 1\n\n"
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def inrelease_for(packages_xz: bytes, packages: bytes) -> bytes:
    """An (unsigned) InRelease listing the two indexes as Debian's does."""
    return (
        "Origin: Debian\nSuite: stable\nCodename: bookworm\nSHA256:\n"
        f" {hashlib.sha256(packages).hexdigest()} {len(packages)} main/binary-amd64/Packages\n"
        f" {hashlib.sha256(packages_xz).hexdigest()} {len(packages_xz)} main/binary-amd64/Packages.xz\n"
    ).encode()


class Mirror:
    """A mirror on 127.0.0.1 serving one release, counting what is downloaded."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.publish(PACKAGES)

    def publish(self, packages: str, listed: bytes | None = None) -> None:
        folder = self.root / "debian/dists/bookworm"
        (folder / "main/binary-amd64").mkdir(parents=True, exist_ok=True)
        xz = lzma.compress(packages.encode())
        (folder / "main/binary-amd64/Packages.xz").write_bytes(xz)
        (folder / "InRelease").write_bytes(inrelease_for(listed if listed is not None else xz, packages.encode()))

    def fetched(self, name: str) -> int:
        return sum(path.endswith(name) for path in self.requests)


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Mirror, str]]:
    monkeypatch.setenv("EMI_TUI_CACHE_DIR", str(tmp_path / "cache"))
    served = Mirror(tmp_path / "www")

    with serve_folder(served.root, served.requests) as url:
        yield served, f"{url}/debian"


def test_apt_list_names_follow_apts_own_rule() -> None:
    assert apt_list_name("http://mirror.example/debian/dists/bookworm/InRelease") == "mirror.example_debian_dists_bookworm_InRelease"
    assert apt_list_name("https://user:secret@mirror.example:3142/debian/dists/bookworm/main/binary-amd64/Packages") == (
        "mirror.example:3142_debian_dists_bookworm_main_binary-amd64_Packages"
    )
    assert apt_list_name("http://mirror.example/deb_ian~x/dists/a") == "mirror.example_deb%5fian%7ex_dists_a"


def test_the_inrelease_hash_of_an_index_is_read_from_its_sha256_section() -> None:
    text = inrelease_for(b"xz", b"plain")
    assert listed_sha256(text, "main/binary-amd64/Packages.xz") == hashlib.sha256(b"xz").hexdigest()
    assert listed_sha256(text, "main/binary-i386/Packages.xz") is None


def test_the_index_is_downloaded_once_and_then_only_the_inrelease(mirror: tuple[Mirror, str]) -> None:
    served, url = mirror
    first = fetch_shared_index(url, "bookworm", "main", "amd64", None)
    assert served.fetched("Packages.xz") == 1 and served.fetched("InRelease") == 1
    assert "usr-is-merged" in aptlists.package_index(first).sizes_kb
    fetch_shared_index(url, "bookworm", "main", "amd64", None)
    assert served.fetched("Packages.xz") == 1, "a cached index that the InRelease still lists was downloaded again"
    assert served.fetched("InRelease") == 2


def test_a_cached_index_the_mirror_no_longer_lists_is_downloaded_again(mirror: tuple[Mirror, str]) -> None:
    served, url = mirror
    fetch_shared_index(url, "bookworm", "main", "amd64", None)
    served.publish(PACKAGES + "Package: htop\nInstalled-Size: 300\n\n")
    again = fetch_shared_index(url, "bookworm", "main", "amd64", None)
    assert served.fetched("Packages.xz") == 2
    assert "htop" in aptlists.package_index(again).sizes_kb
    assert len(list(again.packages.parent.glob("*.Packages"))) == 1  # the older index is gone


def test_an_index_that_does_not_match_its_inrelease_is_refused(mirror: tuple[Mirror, str]) -> None:
    served, url = mirror
    served.publish(PACKAGES, listed=b"something else")
    with pytest.raises(EmiError, match="does not have the hash"):
        fetch_shared_index(url, "bookworm", "main", "amd64", None)
    assert not list((Path(os.environ["EMI_TUI_CACHE_DIR"]) / "indexes").glob("*.Packages*"))


def test_an_unsigned_or_forged_inrelease_is_never_laid_out_for_apt(mirror: tuple[Mirror, str], tmp_path: Path) -> None:
    _served, url = mirror
    shared = fetch_shared_index(url, "bookworm", "main", "amd64", DEBIAN_KEYRING if os.path.isfile(DEBIAN_KEYRING) else None)
    assert shared.verified is False  # not signed by Debian's key
    assert verify_inrelease(shared.inrelease, DEBIAN_KEYRING) is False
    lists = tmp_path / "lists"
    lists.mkdir()
    assert lay_out_lists(shared, lists) == []
    assert list(lists.iterdir()) == []


def test_a_verified_pair_is_laid_out_under_apts_names_uncompressed_with_the_inrelease_time(
    mirror: tuple[Mirror, str], tmp_path: Path
) -> None:
    _served, url = mirror
    shared = fetch_shared_index(url, "bookworm", "main", "amd64", None)
    os.utime(shared.inrelease, (1_700_000_000, 1_700_000_000))
    checked = SharedIndex(**{**shared.__dict__, "verified": True})
    lists = tmp_path / "lists"
    lists.mkdir()
    written = lay_out_lists(checked, lists)
    names = [p.name for p in written]
    assert names == [apt_list_name(f"{url}/dists/bookworm/InRelease"), apt_list_name(f"{url}/dists/bookworm/main/binary-amd64/Packages")]
    assert written[1].read_text() == PACKAGES
    assert written[0].stat().st_mtime == 1_700_000_000  # apt asks again with If-Modified-Since this time


def test_an_index_that_unpacks_past_the_bound_is_refused_and_nothing_is_kept(
    mirror: tuple[Mirror, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    served, url = mirror
    served.publish(PACKAGES + "Package: bomb\n" + "X-Padding: " + "0" * 200_000 + "\n\n")
    monkeypatch.setattr(aptlists, "INDEX_MAX_BYTES", 100_000)  # the xz stays small; what it unpacks to does not
    with pytest.raises(EmiError, match="unpacks to more than"):
        fetch_shared_index(url, "bookworm", "main", "amd64", None)
    assert not list((Path(os.environ["EMI_TUI_CACHE_DIR"]) / "indexes").glob("*.Packages*"))


def test_an_index_cut_short_is_refused(mirror: tuple[Mirror, str]) -> None:
    served, url = mirror
    packages_xz = served.root / "debian/dists/bookworm/main/binary-amd64/Packages.xz"
    whole = packages_xz.read_bytes()
    packages_xz.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(EmiError, match="ends early|not valid xz"):
        fetch_shared_index(url, "bookworm", "main", "amd64", None)


def test_a_mirror_with_only_a_release_file_still_checks_the_index_but_lays_nothing_out(mirror: tuple[Mirror, str], tmp_path: Path) -> None:
    served, url = mirror
    folder = served.root / "debian/dists/bookworm"
    (folder / "InRelease").rename(folder / "Release")
    shared = fetch_shared_index(url, "bookworm", "main", "amd64", DEBIAN_KEYRING)
    assert "usr-is-merged" in aptlists.package_index(shared).sizes_kb
    assert shared.verified is False
    lists = tmp_path / "lists"
    lists.mkdir()
    assert lay_out_lists(shared, lists) == []
