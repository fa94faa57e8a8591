"""The wizard's "Modify an existing image" flow for real, as root, on a copy of the cold build's artifact.

One test drives the app with Pilot (headless) by keys, Home to the Done
screen, with the real artifact reader and the real `run_modify` behind it:
a package added, a metadata option changed, a version set. The other runs
the real `emi-tui` in a pseudo-terminal with pexpect and opens a shell in the
image through the TUI: the app steps aside while the shell has the terminal,
comes back for the Done screen, and quits with `q`.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pexpect
import pytest
import yaml

from emi_tui.engine.artifact.read import read_from_image
from emi_tui.engine.image import layout
from emi_tui.engine.review.review import check_stamp, review_bytes
from emi_tui.engine.run.mounts import mounts_under

from .checks import assert_nothing_left, fields_of, sha256, text_in, utc_days_since

pytestmark = [pytest.mark.root, pytest.mark.e2e]

OLD_VERSION = "2026.01.01"  # the cold build's (conftest)
NEW_VERSION = "2026.03.03"
#: Not one of the recipe's defaults, and not in the cold build (test_modify_e2e adds it too).
PACKAGE = "htop"
SIZE = (120, 40)
#: Seconds for the artifact to be read, and for the whole modify (a TCG machine with 2 cores).
READ_TIMEOUT = 120
MODIFY_TIMEOUT = 600
MARKER = "echo tui-shell-marker > /root/tui-shell-marker"
#: How long the shell test stays in the shell before typing.
SHELL_LINGER_S = 20








def isolated(build_env: dict, tmp: Path) -> dict:
    """The session's environment with a home, config, data, state and work folder of this test's own."""
    env = dict(build_env)
    home = tmp / "home"
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local" / "share"),
               EMI_TUI_STATE_DIR=str(tmp / "state"), EMI_TUI_WORK_DIR=str(tmp / "work"))
    for folder in (home, tmp / "work"):
        folder.mkdir(parents=True, exist_ok=True)
    return env


def start_modify(child, screen) -> None:
    """ctrl+n (Start modify…), then `y` in the confirmation that names what runs as root."""
    child.send("\x0e")
    screen.wait_for("These run as root", timeout=30)
    time.sleep(0.3)
    child.send("y")


def copy_artifact(cold_build, folder: Path) -> Path:
    """A copy of the cold build's tarball (and its .sha256): the session's own artifact is never touched."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / cold_build.tarball.name
    shutil.copyfile(cold_build.tarball, copy)
    sidecar = cold_build.tarball.with_name(cold_build.tarball.name + ".sha256")
    if sidecar.is_file():
        shutil.copyfile(sidecar, folder / sidecar.name)
    return copy


def unpack_image(tarball: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-xf", str(tarball), "-C", str(into)], check=True)
    stem = tarball.name.removesuffix(".tgz")
    return into / stem / f"{stem}.img"




def plain(widget) -> str:
    content = widget.content
    return getattr(content, "plain", str(content))


async def arrive(pilot, name: str, timeout: float = 30) -> None:
    """Wait until the app shows the screen `name` with its widgets mounted (a loaded machine can take a moment)."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while not (type(app.screen).__name__ == name and app.screen.is_mounted):
        if time.monotonic() > deadline:
            state = getattr(app, "state", None)
            pytest.fail(f"not on the {name} within {timeout} s (on {type(app.screen).__name__}; problems: {state.problems() if state else '-'})")
        await pilot.pause(0.1)
    await pilot.pause()


# -- 1. Pilot, real engine ------------------------------------------------------------------------


async def _walk(app, artifact: Path) -> dict:
    """Drive the modify by keys from Home to Done; returns what the screens showed."""
    async with app.run_test(size=SIZE) as pilot:
        await arrive(pilot, "HomeScreen")
        await pilot.press("ctrl+e")
        await arrive(pilot, "ArtifactScreen")
        assert app.focused is not None and app.focused.id == "artifact"
        await pilot.press(*str(artifact))
        deadline = time.monotonic() + READ_TIMEOUT
        while time.monotonic() < deadline:
            look = app.state.look
            if look is not None and look.text == str(artifact):
                break
            await pilot.pause(0.2)
        look = app.state.look
        assert look is not None and look.text == str(artifact), "the artifact was not read in time"
        assert look.error is None, look.error
        assert look.image_id_fields.get("image_version") == OLD_VERSION
        await pilot.pause()
        current = plain(app.screen.query_one("#current"))
        assert f"image_version = {OLD_VERSION}" in current, current

        await pilot.press("ctrl+n")
        await arrive(pilot, "PackagesScreen")
        assert app.focused is not None and app.focused.id == "add-package"
        await pilot.press(*PACKAGE, "enter")
        await pilot.pause()
        assert app.state.package_changes() == ([PACKAGE], [])

        await pilot.press("ctrl+n")
        await arrive(pilot, "MetadataScreen")
        assert app.state.answers.metadata.swap is True and app.state.answers.metadata.hostname is True  # the image's own
        for _ in range(20):  # Tab to the swap checkbox (url, ssh_key, ephemeral0, swap, …)
            if app.focused is not None and app.focused.id == "md-swap":
                break
            await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "md-swap"
        await pilot.press("space")
        await pilot.pause()
        assert app.state.changed_metadata_keys() == ["swap"]
        assert app.state.metadata_applied() is not None and app.state.metadata_applied().swap is False

        await pilot.press("ctrl+n")
        await arrive(pilot, "ChangesScreen")
        for _ in range(10):
            if app.focused is not None and app.focused.id == "version":
                break
            await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "version"
        await pilot.press(*NEW_VERSION)
        await pilot.pause()
        assert app.state.changes.version == NEW_VERSION
        plan = plain(app.screen.query_one("#plan"))
        assert f"install {PACKAGE}" in plan and "changed: Use swap" in plan and NEW_VERSION in plan, plan
        assert app.state.problems() == []

        started = time.monotonic()
        await pilot.press("ctrl+n")  # Start modify…: the confirmation names what runs as root
        await arrive(pilot, "ConfirmRoot")
        await pilot.press("y")
        await pilot.pause()
        deadline = started + MODIFY_TIMEOUT
        build = None
        while time.monotonic() < deadline:
            name = type(app.screen).__name__
            if name == "DoneScreen" and app.screen.is_mounted:  # pushed, and its widgets mounted
                break
            if name == "BuildScreen":
                build = app.screen
                if build.status in ("failed", "cancelled"):
                    await pilot.pause()
                    pytest.fail(f"the modify stopped ({build.status}): {plain(build.query_one('#failure-text'))}\n"
                                f"{plain(build.query_one('#failure-tail'))}\nlog: {build.log_path}")
            await pilot.pause(0.5)
        assert type(app.screen).__name__ == "DoneScreen", f"no Done screen after {MODIFY_TIMEOUT} s (on {type(app.screen).__name__})"
        seconds = time.monotonic() - started
        await pilot.pause()
        done = app.screen
        build = next(screen for screen in app.screen_stack if type(screen).__name__ == "BuildScreen")
        return {
            "diff": plain(done.query_one("#modify-diff")),
            "headline": plain(done.query_one("#headline")),
            "artifacts": list(done.artifacts),
            "result": build.result,
            "log_path": build.log_path,
            "seconds": seconds,
        }


def test_the_wizard_modifies_a_copy_of_the_cold_build_by_keys(cold_build, build_env, tmp_path, monkeypatch, capsys):
    from emi_tui.tui.app import EmiApp

    env = isolated(build_env, tmp_path)
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "EMI_TUI_STATE_DIR", "EMI_TUI_WORK_DIR", "EMI_TUI_CACHE_DIR"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.chdir(tmp_path)
    artifact = copy_artifact(cold_build, tmp_path / "artifacts")
    before = sha256(artifact)

    app = EmiApp(remember=False, stable=True)  # the real artifact reader, apt and run_modify
    shown = asyncio.run(_walk(app, artifact))
    with capsys.disabled():
        print(f"\nthe modify through the wizard took {shown['seconds']:.0f} s")

    result = shown["result"]
    assert result.ok and result.added.get(PACKAGE), result
    diff = shown["diff"]
    assert OLD_VERSION in diff and NEW_VERSION in diff and "image_version" in diff, diff
    assert f"+ {PACKAGE} {result.added[PACKAGE]}" in diff, diff
    assert "Image modified" in shown["headline"] and "The original is unchanged." in shown["headline"]

    stem = f"euca-debian-{NEW_VERSION}-x86_64"
    new = artifact.parent / f"{stem}.tgz"
    assert new.is_file() and new in shown["artifacts"]
    assert (artifact.parent / f"{stem}.tgz.sha256").read_text() == f"{sha256(new)}  {new.name}\n"
    assert sha256(artifact) == before, "the original artifact changed"

    image = unpack_image(new, tmp_path / "unpacked")
    old_image = unpack_image(artifact, tmp_path / "unpacked-old")
    old_id = fields_of(text_in(old_image, layout.IMAGE_ID))
    new_id = fields_of(text_in(image, layout.IMAGE_ID))
    assert new_id["image_version"] == NEW_VERSION and new_id["image_file"] == f"{stem}.img"
    assert new_id["image_name"] == old_id["image_name"] and new_id["image_stamp"] != old_id["image_stamp"]
    stamp = check_stamp(new_id["image_stamp"], new_id["image_date"])
    assert stamp.verified, stamp.describe()
    history = review_bytes("history", text_in(image, layout.HISTORY_DIR).encode())
    assert [entry.entry for entry in history] == [old_id["image_file"]] and history[0].fields == old_id

    answers_text = text_in(image, layout.ANSWERS)
    answers = yaml.safe_load(answers_text)
    assert PACKAGE in answers["packages"]["add"], answers_text
    assert answers["metadata"]["swap"] is False and answers["metadata"]["hostname"] is True, answers_text
    assert answers["image"]["version"] == NEW_VERSION
    lineage = [line for line in answers_text.splitlines() if line.startswith("# modify: ")]
    assert len(lineage) == 1 and f"--add {PACKAGE}; --answers (metadata)" in lineage[0], lineage

    rc_local = text_in(image, "etc/rc.local")
    old_rc_local = text_in(old_image, "etc/rc.local")
    assert re.search(r"^#   swap:\s+on$", old_rc_local, re.MULTILINE) and "do_swap" in old_rc_local
    assert re.search(r"^#   swap:\s+off$", rc_local, re.MULTILINE), rc_local[:1500]
    assert "do_swap" not in rc_local and "do_hostname" in rc_local

    status = text_in(image, "var/lib/dpkg/status")
    assert re.search(rf"^Package: {PACKAGE}\nStatus: install ok installed$", status, re.MULTILINE), f"{PACKAGE} is not installed"

    log = shown["log_path"]
    assert log is not None and Path(log).is_relative_to(tmp_path / "state" / "logs") and Path(log).is_file()
    assert_nothing_left(tmp_path / "work", tmp_path / "artifacts")


# -- 2. A real terminal: --shell through the TUI ------------------------------------------------------

_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|[()][0-9A-Za-z]|[=>78NOMDEHc])")


class Screen:
    """What the app wrote to the terminal, escape sequences removed, searched from a moving mark.

    Textual redraws by cursor moves and styled segments, so text is found as the
    short runs of words that one segment holds, never a whole line.
    """

    def __init__(self, child: pexpect.spawn):
        self.child, self.raw, self.text, self.mark = child, "", "", 0

    def read(self, wait: float = 0.2) -> None:
        try:
            chunk = self.child.read_nonblocking(65536, timeout=wait)
        except pexpect.TIMEOUT:
            return
        self.raw += chunk
        self.text = _ESCAPES.sub("", self.raw)

    def wait_for(self, *words: str, timeout: float) -> str:
        """Wait until one of `words` shows up after the mark; moves the mark past it and returns it."""
        deadline = time.monotonic() + timeout
        while True:
            found = sorted((at, w) for w in words if (at := self.text.find(w, self.mark)) >= 0)
            if found:
                at, word = found[0]
                self.mark = at + len(word)
                return word
            if time.monotonic() > deadline:
                raise AssertionError(f"none of {words} appeared within {timeout} s; the screen's last text:\n{self.text[-3000:]}")
            try:
                self.read()
            except pexpect.EOF:
                raise AssertionError(f"the app ended before {words} appeared; its last text:\n{self.text[-3000:]}") from None


def spawn_wizard(build_env: dict, tmp_path: Path) -> tuple[pexpect.spawn, Screen, dict, list[str]]:
    """The real `emi-tui` in a 120x40 pseudo-terminal, isolated in tmp_path, drawn as far as its Home screen."""
    env = isolated(build_env, tmp_path)
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
    for noisy in ("TEXTUAL", "TEXTUAL_DRIVER", "NO_COLOR"):
        env.pop(noisy, None)
    emi_tui = Path(sys.executable).with_name("emi-tui")
    argv = [str(emi_tui)] if emi_tui.is_file() else [sys.executable, "-m", "emi_tui"]
    child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=str(tmp_path), encoding="utf-8", codec_errors="replace",
                          dimensions=(40, 120), timeout=30)
    screen = Screen(child)
    screen.wait_for("Modify an existing image", timeout=60)
    time.sleep(0.5)
    return child, screen, env, argv


def to_changes_step(child: pexpect.spawn, screen: Screen, artifact: Path) -> None:
    """Home → Artifact (typed, read) → Packages → Metadata → Changes, by keys."""
    child.send("\x05")  # ctrl+e: modify
    screen.wait_for("Artifact to modify", timeout=30)
    time.sleep(0.3)
    child.send(str(artifact))
    screen.wait_for("image_version", timeout=READ_TIMEOUT)  # the artifact's /etc/image-id is shown
    time.sleep(0.5)
    for step in (2, 3, 4):
        child.send("\x0e")  # ctrl+n: Next
        screen.wait_for(f"Step {step} of 4", timeout=30)
        time.sleep(0.3)


def finish(child: pexpect.spawn, env: dict, argv: list[str]) -> None:
    """Close the app; if it is still alive (the test failed half-way), kill it and undo what its modify left."""
    killed = child.isalive()
    if killed:
        child.terminate(force=True)
    child.close()
    if killed:  # its state folder is this test's own
        subprocess.run([*argv, "cleanup", "-y"], check=False, env=env, capture_output=True, timeout=300)


def test_a_shell_opened_from_the_wizard_in_a_real_terminal(cold_build, build_env, tmp_path, capsys):
    artifact = copy_artifact(cold_build, tmp_path / "artifacts")
    before = sha256(artifact)
    started = time.monotonic()
    started_at = datetime.now(UTC)
    child, screen, env, argv = spawn_wizard(build_env, tmp_path)
    try:
        to_changes_step(child, screen, artifact)
        # The Changes step focuses #upgrade; Tab goes to #script, then to #shell.
        child.send("\t")
        time.sleep(0.2)
        child.send("\t")
        time.sleep(0.2)
        child.send(" ")
        screen.wait_for("open a shell in the image", timeout=30)  # the plan says so once #shell is on
        time.sleep(0.3)
        start_modify(child, screen)
        screen.wait_for("a shell inside a copy of the image", timeout=MODIFY_TIMEOUT)
        screen.wait_for("(emi-modify)", timeout=60)
        time.sleep(0.5)
        # An operator takes their time in the shell. The app behind it must not paint meanwhile: its
        # suspended writer would fill up and block the app for good (seen once, after ~10 s).
        child.send(f"sleep {SHELL_LINGER_S}\r")
        time.sleep(SHELL_LINGER_S + 1)
        child.send(MARKER + "\r")
        time.sleep(1)
        child.send("exit\r")
        screen.wait_for("Image modified", timeout=MODIFY_TIMEOUT)
        seconds = time.monotonic() - started
        time.sleep(1)
        child.send("q")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        finish(child, env, argv)
    assert child.exitstatus == 0, f"the app exited with {child.exitstatus} (signal {child.signalstatus}):\n{screen.text[-3000:]}"
    with capsys.disabled():
        print(f"\nthe modify with a shell through the wizard took {seconds:.0f} s, start to Done")

    # The default version is the UTC day the modify stamped; the run may have crossed midnight.
    made = [artifact.parent / f"euca-debian-{day}-x86_64.tgz" for day in utc_days_since(started_at)]
    made = [path for path in made if path.is_file()]
    assert len(made) == 1, sorted(p.name for p in artifact.parent.iterdir())
    new = made[0]
    assert sha256(artifact) == before, "the original artifact changed"
    image = unpack_image(new, tmp_path / "unpacked")
    assert read_from_image(image, "root/tui-shell-marker") == b"tui-shell-marker\n"
    assert read_from_image(image, "root/.bash_history") is None
    logs = sorted(p for p in (tmp_path / "state" / "logs").glob("*-modify-*.log") if not p.name.endswith(".shell.log"))
    assert len(logs) == 1, logs
    assert MARKER not in logs[0].read_text()  # this log is published beside the artifact: it only counts the lines
    session = logs[0].with_name(f"{logs[0].stem}.shell.log")
    assert f"typed: {MARKER}" in session.read_text() and session.stat().st_mode & 0o777 == 0o600
    assert_nothing_left(tmp_path / "work", tmp_path / "artifacts")


def _contained_command_running() -> bool:
    """Whether a command runs inside an image's root (its unshare wrapper names enter_root.py)."""
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"enter_root.py" in (proc / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_sigterm_to_the_wizard_mid_modify_leaves_nothing(cold_build, build_env, tmp_path):
    """SIGTERM while the image is mounted: the app stops the modify, which unmounts; then it exits 143."""
    artifacts = tmp_path / "artifacts"
    artifact = copy_artifact(cold_build, artifacts)
    before = sha256(artifact)
    child, screen, env, argv = spawn_wizard(build_env, tmp_path)
    work = tmp_path / "work"
    try:
        to_changes_step(child, screen, artifact)
        child.send(" ")  # #upgrade on: the chroot step runs apt, so the image stays mounted a while
        screen.wait_for("upgrade every package", timeout=30)
        time.sleep(0.3)
        start_modify(child, screen)
        deadline = time.monotonic() + MODIFY_TIMEOUT
        while not (mounts_under(work) and _contained_command_running()):  # the image is mounted and a command runs in it
            assert time.monotonic() < deadline, f"the modify never mounted the image:\n{screen.text[-3000:]}"
            screen.read(0.1)
        child.kill(signal.SIGTERM)
        child.expect(pexpect.EOF, timeout=120)
    finally:
        finish(child, env, argv)
    assert child.exitstatus == 143, f"exit {child.exitstatus}, signal {child.signalstatus}:\n{screen.text[-3000:]}"
    assert_nothing_left(work, artifacts)
    assert sorted(p.name for p in artifacts.iterdir()) == sorted([artifact.name, artifact.name + ".sha256"]), "a partial or lock was left"
    assert sha256(artifact) == before
    assert list((tmp_path / "state" / "builds").glob("*.json")) == [], "the modify's state file was left"
