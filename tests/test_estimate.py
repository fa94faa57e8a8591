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
