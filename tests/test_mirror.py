"""The workstation's Debian mirror, read from a fake /etc/apt under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from emi_tui.engine.answers.mirror import AptSource, apt_sources, workstation_mirror

DEBIAN = ["bookworm", "trixie", "bullseye"]


def apt(root: Path, sources_list: str | None = None, **parts: str) -> Path:
    """Write etc/apt/sources.list and sources.list.d/<name> files (name given with '_' for '.')."""
    etc = root / "etc" / "apt"
    (etc / "sources.list.d").mkdir(parents=True, exist_ok=True)
    if sources_list is not None:
        (etc / "sources.list").write_text(sources_list)
    for name, text in parts.items():
        (etc / "sources.list.d" / name.replace("_", ".")).write_text(text)
    return root


# --- one-line sources.list ----------------------------------------------------------------------


def test_one_line_sources(tmp_path):
    root = apt(tmp_path, (
        "# the main archive\n"
        "deb http://mirror.example/debian bookworm main contrib non-free-firmware\n"
        "deb-src http://src.example/debian bookworm main\n"
        "\n"
        "   deb http://mirror.example/debian bookworm-updates main   # trailing comment\n"
        "#deb http://commented.example/debian bookworm main\n"
    ))
    assert apt_sources(root) == [
        AptSource("http://mirror.example/debian", ("bookworm",), ("main", "contrib", "non-free-firmware"), str(root / "etc/apt/sources.list")),
        AptSource("http://mirror.example/debian", ("bookworm-updates",), ("main",), str(root / "etc/apt/sources.list")),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "deb [signed-by=/usr/share/keyrings/example.gpg] http://mirror.example/debian bookworm main",
        "deb [arch=amd64 signed-by=/usr/share/keyrings/example.gpg] http://mirror.example/debian bookworm main",
        "deb [ arch=amd64,arm64 trusted=yes ] http://mirror.example/debian bookworm main",
    ],
)
def test_one_line_options_are_skipped(tmp_path, line):
    root = apt(tmp_path, line + "\n")
    [source] = apt_sources(root)
    assert (source.uri, source.suites, source.components) == ("http://mirror.example/debian", ("bookworm",), ("main",))


def test_short_lines_are_ignored(tmp_path):
    root = apt(tmp_path, "deb http://mirror.example/debian\ndeb\n")
    assert apt_sources(root) == []


def test_tab_after_deb(tmp_path):
    root = apt(tmp_path, "deb\thttp://mirror.example/debian\tbookworm main\ndeb\t[arch=amd64]\thttp://two.example/debian trixie main\n")
    assert [(s.uri, s.suites, s.components) for s in apt_sources(root)] == [
        ("http://mirror.example/debian", ("bookworm",), ("main",)),
        ("http://two.example/debian", ("trixie",), ("main",)),
    ]
    assert workstation_mirror(DEBIAN, root) == "http://mirror.example/debian"


@pytest.mark.parametrize("line", ["debian http://mirror.example/debian bookworm main", "deb-src http://mirror.example/debian bookworm main",
                                  "deb:http://mirror.example/debian bookworm main"])
def test_only_the_word_deb_starts_a_binary_source(tmp_path, line):
    root = apt(tmp_path, line + "\n")
    assert apt_sources(root) == []


def test_list_files_in_sources_list_d(tmp_path):
    root = apt(tmp_path, None, extra_list="deb http://extra.example/debian trixie main\n",
               ignored_list_disabled="deb http://disabled.example/debian bookworm main\n")
    assert [s.uri for s in apt_sources(root)] == ["http://extra.example/debian"]


# --- deb822 .sources -------------------------------------------------------------------------------

DEB822 = """\
# Modernized from /etc/apt/sources.list
Types: deb deb-src
URIs: http://mirror.example/debian/ http://mirror2.example/debian
Suites: bookworm bookworm-updates
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://disabled.example/debian
Suites: trixie
Components: main
Enabled: no

Types: deb-src
URIs: http://src.example/debian
Suites: trixie
Components: main
"""


def test_deb822_stanzas(tmp_path):
    root = apt(tmp_path, None, debian_sources=DEB822)
    origin = str(root / "etc/apt/sources.list.d/debian.sources")
    suites, components = ("bookworm", "bookworm-updates"), ("main", "non-free-firmware")
    assert apt_sources(root) == [
        AptSource("http://mirror.example/debian/", suites, components, origin),
        AptSource("http://mirror2.example/debian", suites, components, origin),
        AptSource("http://security.example/debian-security", ("bookworm-security",), ("main",), origin),
    ]


def test_deb822_is_case_insensitive_and_skips_an_inline_key(tmp_path):
    text = (
        "types: deb\n"
        "uris: http://mirror.example/debian\n"
        "suites: trixie\n"
        "components: main\n"
        "enabled: yes\n"
        "Signed-By:\n"
        " -----BEGIN PGP PUBLIC KEY BLOCK-----\n"
        " .\n"
        " URIs: http://inside-the-key.example/debian\n"
        " -----END PGP PUBLIC KEY BLOCK-----\n"
    )
    root = apt(tmp_path, None, mine_sources=text)
    assert [(s.uri, s.suites) for s in apt_sources(root)] == [("http://mirror.example/debian", ("trixie",))]


def test_deb822_enabled_no_is_case_insensitive(tmp_path):
    root = apt(tmp_path, None, off_sources="Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: No\n")
    assert apt_sources(root) == []


def test_reading_order_is_sources_list_then_sorted_parts(tmp_path):
    root = apt(
        tmp_path,
        "deb http://first.example/debian bookworm main\n",
        b_sources="Types: deb\nURIs: http://third.example/debian\nSuites: bookworm\n",
        a_list="deb http://second.example/debian bookworm main\n",
    )
    assert [s.uri for s in apt_sources(root)] == ["http://first.example/debian", "http://second.example/debian", "http://third.example/debian"]


def test_no_apt_folder_means_no_sources(tmp_path):
    assert apt_sources(tmp_path) == []
    assert workstation_mirror(DEBIAN, tmp_path) is None


# --- picking the mirror ------------------------------------------------------------------------------


def test_security_and_updates_suites_are_skipped(tmp_path):
    root = apt(tmp_path, (
        "deb http://security.example/debian-security bookworm-security main\n"
        "deb http://updates.example/debian bookworm-updates main\n"
        "deb http://mirror.example/debian/ bookworm main\n"
    ))
    assert workstation_mirror(["bookworm"], root) == "http://mirror.example/debian"


def test_deb822_mirror_picks_the_first_uri_serving_the_release(tmp_path):
    root = apt(tmp_path, None, debian_sources=DEB822)
    assert workstation_mirror(DEBIAN, root) == "http://mirror.example/debian"


def test_disabled_stanza_is_not_picked(tmp_path):
    root = apt(tmp_path, None, debian_sources=DEB822)
    assert workstation_mirror(["trixie"], root) is None


def test_only_a_source_of_the_wanted_releases_is_picked(tmp_path):
    root = apt(tmp_path, "deb http://ubuntu.example/ubuntu noble main\ndeb http://mirror.example/debian trixie main\n")
    assert workstation_mirror(DEBIAN, root) == "http://mirror.example/debian"
    assert workstation_mirror(["noble"], root) == "http://ubuntu.example/ubuntu"
    assert workstation_mirror(["focal"], root) is None


def test_only_security_means_none(tmp_path):
    root = apt(tmp_path, "deb http://security.example/debian-security bookworm-security main\n")
    assert workstation_mirror(DEBIAN, root) is None


def test_deb_src_is_not_a_mirror(tmp_path):
    root = apt(tmp_path, "deb-src http://src.example/debian bookworm main\n",
               src_sources="Types: deb-src\nURIs: http://src2.example/debian\nSuites: bookworm\n")
    assert workstation_mirror(DEBIAN, root) is None


def test_unreadable_part_does_not_raise(tmp_path):
    root = apt(tmp_path, "deb http://mirror.example/debian bookworm main\n")
    (root / "etc/apt/sources.list.d/broken.sources").mkdir()  # a folder where a file should be
    assert workstation_mirror(DEBIAN, root) == "http://mirror.example/debian"


def test_unreadable_part_does_not_hide_the_later_ones(tmp_path):
    root = apt(tmp_path, None, z_list="deb http://mirror.example/debian bookworm main\n",
               m_sources="Types: deb\nURIs: http://deb822.example/debian\nSuites: trixie\nComponents: main\n")
    (root / "etc/apt/sources.list.d/a.sources").mkdir()  # read before the others
    (root / "etc/apt/sources.list.d/b.list").mkdir()
    assert [s.uri for s in apt_sources(root)] == ["http://deb822.example/debian", "http://mirror.example/debian"]
    assert workstation_mirror(["bookworm"], root) == "http://mirror.example/debian"


def test_unreadable_sources_list_does_not_hide_the_parts(tmp_path):
    root = apt(tmp_path, None, z_list="deb http://mirror.example/debian bookworm main\n")
    (root / "etc/apt/sources.list").mkdir()  # not a file: skipped, the parts still count
    assert [s.uri for s in apt_sources(root)] == ["http://mirror.example/debian"]
