"""Fixtures for the wizard's tests: a fixed date, a fixed package index, a fixed mirror, and a home of their own."""

from __future__ import annotations

import asyncio
import inspect
import os
from datetime import date, datetime
from pathlib import Path

import pytest

from emi_tui.engine.build.package_catalog import CatalogSource, PackageCatalog, catalog_from_text
from emi_tui.engine.build.readiness import Check, CheckStatus, Readiness

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 30, 0)
#: Answer files set the mirror, so nothing depends on this workstation's apt sources.
MIRROR = "http://mirror.example/debian"
SIZE = (120, 40)

#: The installed sizes (KiB) of the fake mirror's index: every package a test adds or the recipes list.
APT_SIZES_KB = {"less": 310, "vim-tiny": 1800, "sudo": 6100, "psmisc": 900, "rsync": 790, "htop": 410, "man-db": 2800}
_OTHERS_KB = {"base-files": 400, "dpkg": 6500, "libc6": 12000, "apt": 4200, "systemd-sysv": 100, "udev": 9000, "kmod": 300,
              "ifupdown": 250, "isc-dhcp-client": 1200, "iproute2": 3300, "netbase": 40, "openssh-server": 1900, "curl": 500,
              "ca-certificates": 390, "e2fsprogs": 1500, "zstd": 1700, "procps": 2100, "linux-image-cloud-amd64": 60000,
              "manpages": 3200, "tree": 110, "mc": 1500, "mc-data": 6000, "tmux": 1100, "libevent-core": 380, "strace": 2800}
_DEPENDS = {"mc": "mc-data, libc6", "tmux": "libevent-core, libc6 (>= 2.34)", "strace": "libc6", "htop": "libc6"}
_REQUIRED = ("base-files", "dpkg", "libc6")


def fake_packages_text() -> str:
    """A small Packages index, as a mirror serves it: the fake mirror's whole release."""
    stanzas = []
    for name, size in sorted({**APT_SIZES_KB, **_OTHERS_KB}.items()):
        lines = [f"Package: {name}", "Version: 1.0-1", "Architecture: amd64"]
        if name in _REQUIRED:
            lines.append("Priority: required")
        if name in _DEPENDS:
            lines.append(f"Depends: {_DEPENDS[name]}")
        lines += [f"Installed-Size: {size}", f"Description: the {name} package"]
        stanzas.append("\n".join(lines) + "\n")
    return "\n".join(stanzas)


def fake_package_catalog(source: CatalogSource) -> PackageCatalog:
    """A stand-in for the mirror: the same small index on every workstation, for whatever release is asked."""
    return catalog_from_text(source, fake_packages_text())


VALID_ANSWERS = f"""\
version: 1
recipe: debian-based
release: bookworm
arch: x86_64
size: 1.3G
mirror: {MIRROR}
packages:
  add: [htop]
  remove: [sudo]
metadata:
  ssh_key: root
  hostname: true
"""


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    """Run `async def` tests in a fresh event loop (no pytest-asyncio needed for Pilot tests)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


def fake_readiness(answers, recipe, *, offline: bool, work_parent: Path | None = None) -> Readiness:
    """A stand-in for check_readiness that asks no mirror: local checks pass, network ones are "not checked" offline."""
    network = CheckStatus.NOT_CHECKED if offline else CheckStatus.OK
    return Readiness((
        Check("mirror", "Mirror", network, f"{answers.mirror} serves {answers.release}", key="mirror"),
        Check("output", "Output folder", CheckStatus.OK, f"{answers.output.dir} can be written"),
        Check("packages", "Added packages", network, "all found in the release's index", key="packages.add"),
    ))


@pytest.fixture(autouse=True)
def _this_workstations_mirror_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers without a mirror (an image's stored answers, say) fall back to the apt sources: here, to MIRROR.

    Otherwise a screen would show whichever mirror this machine's apt uses, and differ from one machine to the next.
    """
    from emi_tui.engine.build import package_catalog

    monkeypatch.setattr(package_catalog, "workstation_mirror", lambda *_, **__: MIRROR)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of the test's own: config and history go there, never to the real ones."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)  # history: ~/.local/share/emi-tui/history, shown as ~
    return home


@pytest.fixture
def make_app(home: Path):
    """Build an EmiApp with fixed date, clock and package index, and steady cursors."""
    from emi_tui.tui.app import EmiApp

    def make(**options) -> EmiApp:
        options.setdefault("today", TODAY)
        options.setdefault("now", lambda: NOW)
        options.setdefault("package_catalog", fake_package_catalog)
        options.setdefault("readiness", fake_readiness)
        options.setdefault("stable", True)
        return EmiApp(**options)

    return make


@pytest.fixture
def answers_file(tmp_path: Path):
    """Write an answer file (the valid one unless given text) and return its path."""

    def write(text: str = VALID_ANSWERS, name: str = "answers.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def history(home: Path):
    """The wizard's history folder, with a function that puts an answer file there at a fixed time."""
    folder = home / ".local" / "share" / "emi-tui" / "history"

    def add(name: str, text: str = VALID_ANSWERS, mtime: float = 1_795_000_000) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(text, encoding="utf-8")
        os.utime(path, (mtime, mtime))
        return path

    add.folder = folder  # type: ignore[attr-defined]
    return add
