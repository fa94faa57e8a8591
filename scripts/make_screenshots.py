#!/usr/bin/env python3
"""Write an SVG of every screen into screenshots/, from the real app with fixed data.

Run by `make screenshots`. Everything that could differ between machines is
pinned: the date and clock, apt's answers, the mirror (set in the answer
file), and the home folder (a temporary one, so paths read ~/…). Nothing
touches the network: the package index and the Summary's readiness checks
are the test suite's stand-ins (tests/tui/conftest.py). The terminal is
120x40, and the `-80x24` shots show the smallest size the wizard supports.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
SIZE = (120, 40)
TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 30, 0)
HISTORY_MTIME = 1_795_000_000

ANSWERS = """\
version: 1
recipe: debian-based
release: bookworm
arch: x86_64
size: 1.3G
mirror: http://mirror.example/debian
packages:
  add: [htop]
  remove: [sudo]
metadata:
  ssh_key: root
  hostname: true
"""

#: file name -> (screen to show, theme, answer-file text or None for Home[, terminal size])
SHOTS = {
    "home": ("home", "emi-dark", None),
    "distro": ("distro", "emi-dark", ANSWERS),
    "size": ("size", "emi-dark", ANSWERS),
    "packages": ("packages", "emi-dark", ANSWERS),
    "metadata": ("metadata", "emi-dark", ANSWERS),
    "image": ("image", "emi-dark", ANSWERS),
    "summary": ("summary", "emi-dark", ANSWERS),
    "help": ("help", "emi-dark", ANSWERS),
    "replay-metadata-problem": ("summary", "emi-dark", ANSWERS.replace("ssh_key: root", "ssh_key: admin")),
    "summary-emi-light": ("summary", "emi-light", ANSWERS),
    "metadata-emi-light": ("metadata", "emi-light", ANSWERS),
    "summary-emi-contrast": ("summary", "emi-contrast", ANSWERS),
    "home-80x24": ("home", "emi-dark", None, (80, 24)),
    "packages-80x24": ("packages", "emi-dark", ANSWERS, (80, 24)),
    "summary-80x24": ("summary", "emi-dark", ANSWERS, (80, 24)),
}


def stand_ins():
    """The package index and the readiness checks the tests use: the same on every machine, and no network."""
    sys.path.insert(0, str(ROOT / "tests" / "tui"))
    from conftest import MIRROR, fake_package_catalog, fake_readiness

    from emi_tui.engine.build import package_catalog

    # Stored answers without a mirror fall back to the apt sources: show the tests' mirror, never this machine's.
    package_catalog.workstation_mirror = lambda *_, **__: MIRROR
    return fake_package_catalog, fake_readiness


async def shoot(name: str, screen: str, theme: str, answers: str | None, home: Path, size: tuple[int, int] = SIZE) -> Path:
    from emi_tui.tui.app import EmiApp

    package_catalog, readiness = stand_ins()
    path = home / "answers.yaml"
    if answers is not None:
        path.write_text(answers, encoding="utf-8")
    app = EmiApp(
        answers_path=path if answers is not None else None,
        theme=theme,
        today=TODAY,
        now=lambda: NOW,
        package_catalog=package_catalog,
        readiness=readiness,
        remember=False,
        stable=True,
    )
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if screen in ("distro", "size", "packages", "metadata", "image"):
            app.goto_step(screen)
            await pilot.pause()
        elif screen == "help":
            await pilot.press("f1")
        if screen == "summary" and not app.state.problems():  # the readiness checks run once the answers have no problem
            for _ in range(400):
                if getattr(app.screen, "checks_done", False):
                    break
                await pilot.pause(0.02)
        await app.workers.wait_for_complete()
        await pilot.pause()
        svg = app.export_screenshot()
    # Rich names each SVG's styles with a random id; a fixed one keeps reruns byte-identical.
    target = OUT / f"{name}.svg"
    target.write_text(re.sub(r"\bterminal-\d+-", "terminal-emi-", svg), encoding="utf-8")
    return target


#: The build, done and review screens are drawn by their snapshot tests (a fake build with fixed
#: output and times behind the real screens); those drawings are regenerated and copied here.
ENGINE_SHOTS = {
    "build-running": "test_build_running[default].svg",
    "build-failed": "test_build_failed[default].svg",
    "done": "test_done[default].svg",
    "review": "test_review[entry-default].svg",
    "review-compare": "test_review[compare-default].svg",
    "build-running-light": "test_build_running[light].svg",
}


def engine_screens() -> None:
    import shutil
    import subprocess

    test = ROOT / "tests" / "tui" / "test_snapshots_build.py"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test), "--snapshot-update"], cwd=ROOT, check=True)
    drawn = ROOT / "tests" / "tui" / "__snapshots__" / "test_snapshots_build"
    for name, snapshot in ENGINE_SHOTS.items():
        shutil.copyfile(drawn / snapshot, OUT / f"{name}.svg")
        print(f"wrote screenshots/{name}.svg")


async def shoot_screen(name: str, make_screen, ready) -> None:
    """One screen of the engine in a bare app, with a fake behind it (the boot test)."""
    from fake_build import ScreenApp

    app = ScreenApp(make_screen)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if ready(app.screen_under_test):
                break
        await pilot.pause(0.2)
        svg = app.export_screenshot()
    (OUT / f"{name}.svg").write_text(re.sub(r"\bterminal-\d+-", "terminal-emi-", svg), encoding="utf-8")
    print(f"wrote screenshots/{name}.svg")


#: The modify flow is drawn by its snapshot tests (stand-ins for reading the artifact and for run_modify).
MODIFY_SHOTS = {
    "modify-artifact": "test_modify_screen[artifact].svg",
    "modify-packages": "test_modify_screen[packages].svg",
    "modify-changes": "test_modify_screen[changes].svg",
    "modify-done": "test_modify_screen[done].svg",
}


def modify_screens() -> None:
    import shutil
    import subprocess

    test = ROOT / "tests" / "tui" / "test_snapshots_modify.py"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test), "--snapshot-update"], cwd=ROOT, check=True)
    drawn = ROOT / "tests" / "tui" / "__snapshots__" / "test_snapshots_modify"
    for name, snapshot in MODIFY_SHOTS.items():
        shutil.copyfile(drawn / snapshot, OUT / f"{name}.svg")
        print(f"wrote screenshots/{name}.svg")


def boot_test_screen() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "tui"))
    from test_boottest_screen import FakeBoot

    from emi_tui.tui.screens.job.boottest import BootTestScreen

    artifact = Path("images/euca-debian-2026.11.28-x86_64.tgz")
    asyncio.run(shoot_screen("boot-test", lambda: BootTestScreen(artifact, runner=FakeBoot(lines_per_check=6)),
                             lambda screen: "passed" in str(getattr(screen, "status", "")) or getattr(screen, "report", None) is not None))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="emi-screens-") as folder:
        home = Path(folder)
        # A home of our own: no user config, a known history, paths shown as ~/…
        os.environ["HOME"] = str(home)
        os.environ["XDG_CONFIG_HOME"] = str(home / ".config")
        for variable in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            os.environ.pop(variable, None)
        history = home / ".local/share/emi-tui/history"
        history.mkdir(parents=True)
        recent = history / "20261120-081500-euca-debian-2026.11.20-x86_64.yaml"
        recent.write_text(ANSWERS, encoding="utf-8")
        os.utime(recent, (HISTORY_MTIME, HISTORY_MTIME))
        sys.path.insert(0, str(ROOT))
        OUT.mkdir(exist_ok=True)
        for name, (screen, theme, answers, *size) in SHOTS.items():
            written = asyncio.run(shoot(name, screen, theme, answers, home, *size))
            print(f"wrote {written.relative_to(ROOT)}")
    engine_screens()
    modify_screens()
    boot_test_screen()
    return 0


if __name__ == "__main__":
    sys.exit(main())
