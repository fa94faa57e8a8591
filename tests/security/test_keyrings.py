"""An answer file's keyring is copied into a published image: only a real OpenPGP public keyring may go.

The attacker controls the path an answer file names (and the folder it is
in): a link to /etc/shadow, a FIFO, a device, a folder, a huge file, bytes
that are not OpenPGP, an armored block with junk, a secret key. Each must be
refused at its FILE:LINE:COL with a message that says what is wrong, and the
build must copy the bytes it checked (mode 0644), never what the path leads
to later.
"""

from __future__ import annotations

import base64
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from emi_tui.engine import paths
from emi_tui.engine.answers.model import Repository, validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build.context import BuildContext
from emi_tui.engine.build.distro import Deb, Rpm
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.context import JobPaths

BOOK = RecipeBook([paths.shipped_dir("recipes")])
MAX_KEYRING_BYTES = 1024 * 1024  # the bound the answer-file check promises
EXTRA = "deb http://extra.example/debian bookworm main"
SECRET = b"root:$6$salt$hash-of-the-root-password:19000:0:99999:7:::\n"
CHECKS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def public_keyring(armored: bool = False, user: bytes = b"Extra Repository <archive@extra.example>") -> bytes:
    """A public key packet (v4, RSA) and a user id packet, as `gpg --export` writes them (or --armor)."""
    modulus = b"\xc3" + bytes(range(1, 64))
    key = b"\x04" + (1_700_000_000).to_bytes(4, "big") + b"\x01" + (512).to_bytes(2, "big") + modulus + b"\x00\x11\x01\x00\x01"
    packets = bytes([0xC6, len(key)]) + key + bytes([0xCD, len(user)]) + user
    if not armored:
        return packets
    body = base64.b64encode(packets).decode()
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{lines}\n-----END PGP PUBLIC KEY BLOCK-----\n".encode()


def answers_naming(key: Path | str) -> str:
    return f"version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\nrepositories:\n  - line: {EXTRA}\n    key: '{key}'\n"


def key_problems(key: Path | str) -> list[str]:
    """The problems of an answer file naming `key`, each as FILE:LINE:COL: KEY: MESSAGE."""
    result = validate_bytes(answers_naming(key), "a.yaml", BOOK)
    assert not result.ok
    return [str(p) for p in result.problems]


def refused(key: Path | str, *words: str) -> str:
    """The one problem of `key`, located at the key's value, whose message holds every one of `words`."""
    problems = key_problems(key)
    assert len(problems) == 1, problems
    assert problems[0].startswith("a.yaml:6:10: repositories[0].key: "), problems
    for word in words:
        assert word in problems[0], problems
    return problems[0]


# --- the path is not a regular file -------------------------------------------------------------

TARGETS = ["/etc/shadow", "/etc/passwd", "/dev/zero", "/proc/self/environ", "/root", "secret.txt", "good.gpg", "missing.gpg", "loop.gpg"]


@CHECKS
@given(target=st.sampled_from(TARGETS), name=st.sampled_from(["k.gpg", "key.asc", "archive.pgp", ".hidden.gpg"]), hops=st.integers(1, 3))
def test_a_keyring_that_is_a_link_is_refused_whatever_it_points_at(tmp_path_factory, target, name, hops):
    folder = tmp_path_factory.mktemp("links")
    (folder / "secret.txt").write_bytes(SECRET)
    (folder / "good.gpg").write_bytes(public_keyring())  # even a link to a good keyring: the link itself is not the file checked
    os.symlink("loop.gpg", folder / "loop.gpg")
    link = folder / name
    current = target if target.startswith("/") else str(folder / target)
    for hop in range(hops):  # a chain of links ends at the target
        step = folder / f"hop{hop}-{name}" if hop < hops - 1 else link
        os.symlink(current, step)
        current = str(step)
    refused(link, "is a symbolic link", "name the keyring file itself")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()
    (path / "inside").write_bytes(public_keyring())


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()


def _device(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # the /dev/zero device under a keyring's name


KINDS = {"FIFO": _fifo, "folder": _folder, "socket": _socket, "device": _device}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_keyring_that_is_not_a_regular_file_is_refused_and_never_opened(tmp_path, monkeypatch, kind):
    path = tmp_path / "extra.gpg"
    KINDS[kind](path)
    opened: list[str] = []
    real_open = os.open

    def spy(name, *args, **kwargs):  # opening a FIFO or a device can block or act: it must not happen at all
        opened.append(str(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    refused(path, f"is a {kind}" if kind != "folder" else "is a folder", "not a regular file")
    assert str(path) not in opened


@CHECKS
@given(extra=st.integers(1, 64 * MAX_KEYRING_BYTES))
def test_a_huge_keyring_is_refused_without_being_read(tmp_path_factory, extra):
    path = tmp_path_factory.mktemp("huge") / "huge.gpg"
    with open(path, "wb") as out:
        out.write(public_keyring())
        out.truncate(MAX_KEYRING_BYTES + extra)  # sparse: a valid key, then a great deal of nothing
    refused(path, "bytes or more", f"at most {MAX_KEYRING_BYTES} bytes")


# --- the bytes are not an OpenPGP public keyring -----------------------------------------------


@CHECKS
@given(data=st.binary(min_size=0, max_size=600), suffix=st.sampled_from([".gpg", ".asc", ".pgp"]))
def test_random_bytes_are_not_a_keyring(tmp_path_factory, data, suffix):
    # Random bytes that happen to start as a public key packet and parse to the end are a keyring; anything else is not.
    assume(not (data[:1] and data[0] & 0x80 and ((data[0] & 0x3F) if data[0] & 0x40 else (data[0] >> 2) & 0x0F) == 6))
    path = tmp_path_factory.mktemp("random") / f"random{suffix}"
    path.write_bytes(data)
    refused(path, "keyring")


@CHECKS
@given(cut=st.integers(1, 200), armored=st.booleans())
def test_a_truncated_keyring_is_refused(tmp_path_factory, cut, armored):
    whole = public_keyring()
    first_packet = 2 + whole[1]
    cut = cut % first_packet or 1  # inside the public key packet
    data = whole[:cut]
    if armored:
        data = f"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{base64.b64encode(data).decode()}\n-----END PGP PUBLIC KEY BLOCK-----\n".encode()
    path = tmp_path_factory.mktemp("cut") / "cut.gpg"
    path.write_bytes(data)
    refused(path, "keyring")


SECRET_KEY = bytes([0xC5, 6, 4, 0, 0, 0, 1, 1])


@pytest.mark.parametrize(("data", "words"), [
    (SECRET_KEY + public_keyring(), ("starts with a secret key", "not a public key")),
    (public_keyring() + SECRET_KEY, ("holds a secret key", "never publish it")),
    (SECRET, ("not an OpenPGP keyring",)),
    (b"", ("is empty",)),
    (bytes([0xC6, 3, 9, 0, 0]), ("no known version",)),
    (public_keyring() + bytes([0xCB, 1, 0]), ("packet of type 11",)),  # a literal data packet: a message, not a key
])
def test_what_is_not_a_public_keyring_is_named(tmp_path, data, words):
    path = tmp_path / "k.gpg"
    path.write_bytes(data)
    refused(path, *words)


JUNK = st.text(st.characters(codec="ascii", exclude_characters="\r"), min_size=1, max_size=200)


@CHECKS
@given(junk=JUNK, where=st.sampled_from(["body", "after-end", "no-end", "private"]))
def test_armored_blocks_with_junk_are_refused(tmp_path_factory, junk, where):
    good = public_keyring(armored=True).decode()
    begin, end = "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----"
    if where == "body":
        assume(any(not c.isspace() and c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=:" for c in junk))
        text = good.replace(end, junk + "\n" + end)
    elif where == "after-end":
        assume(junk.strip())
        text = good + junk
    elif where == "no-end":
        while "-----END" in junk:
            junk = junk.replace("-----END", "")
        text = good.replace(end, junk)
    else:
        text = good.replace(begin, "-----BEGIN PGP PRIVATE KEY BLOCK-----")
    path = tmp_path_factory.mktemp("armor") / "k.asc"
    path.write_text(text)
    refused(path, "keyring")


@pytest.mark.parametrize("armored", [False, True])
def test_a_real_public_keyring_is_accepted(tmp_path, armored):
    path = tmp_path / ("k.asc" if armored else "k.gpg")
    path.write_bytes(public_keyring(armored))
    assert validate_bytes(answers_naming(path), "a.yaml", BOOK).ok


# --- the command line: exit 2, nothing written -----------------------------------------------


def test_validate_and_build_refuse_a_link_to_shadow_with_exit_2_and_write_nothing(tmp_path):
    link = tmp_path / "extra.gpg"
    link.symlink_to("/etc/shadow")
    output = tmp_path / "out"
    answers = tmp_path / "a.yaml"
    answers.write_text(answers_naming(link) + f"output:\n  dir: {output}\n")
    env = dict(os.environ, NO_COLOR="1", COLUMNS="300", XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), EMI_TUI_STATE_DIR=str(tmp_path / "state"))
    before = sorted(p.name for p in tmp_path.iterdir())
    for command in (["validate"], ["build", "--dry-run"], ["build"]):
        done = subprocess.run([sys.executable, "-m", "emi_tui", *command, str(answers)], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert f"{answers}:6:10: repositories[0].key: the keyring {link} is a symbolic link" in done.stderr
        assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output, no history, no state


# --- the build copies the checked bytes, 0644, and nothing else --------------------------------


def _context(tmp_path: Path, dry_run: bool = False) -> tuple[BuildContext, list[str]]:
    lines: list[str] = []
    answers = validate_bytes("version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\n", "a.yaml", BOOK).answers
    (tmp_path / "work" / "root").mkdir(parents=True)
    ctx = BuildContext(
        settled_answers=answers, settled_recipe=BOOK.recipes["debian-based"], paths=JobPaths(tmp_path / "work", tmp_path / "out", tmp_path / "log"),
        emit=lambda event: lines.append(getattr(event, "text", "")), cancel=threading.Event(), dry_run=dry_run,
    )
    return ctx, lines


@CHECKS
@given(target=st.sampled_from(["secret", "folder"]), family=st.sampled_from(["deb", "rpm"]))
def test_the_build_never_copies_what_a_keyring_path_leads_to(tmp_path_factory, target, family):
    tmp_path = tmp_path_factory.mktemp("build")
    secret = tmp_path / "shadow"
    secret.write_bytes(SECRET)
    os.chmod(secret, 0o600)
    key = tmp_path / "extra.gpg"
    if target == "secret":
        key.symlink_to(secret)  # swapped in after the answers were validated
    else:
        key.mkdir()
    ctx, _ = _context(tmp_path)
    maker = Deb() if family == "deb" else Rpm()
    line = EXTRA if family == "deb" else "baseurl http://extra.example/el9/"
    with pytest.raises(EmiError) as caught:
        maker.add_repository(ctx, 0, Repository(line=line, key=str(key)))
    assert str(key) in caught.value.message and "fix repositories[].key" in caught.value.hint
    copied = [p for p in (tmp_path / "work" / "root").rglob("*") if p.is_file()]
    assert copied == []


@pytest.mark.parametrize("armored", [False, True])
def test_the_build_copies_the_checked_bytes_with_mode_0644_through_no_link(tmp_path, armored):
    key = tmp_path / ("extra.asc" if armored else "extra.gpg")
    key.write_bytes(public_keyring(armored))
    os.chmod(key, 0o600)
    ctx, lines = _context(tmp_path)
    root = ctx.paths.root
    name = "emi-tui-extra-0" + (".asc" if armored else ".gpg")
    (root / "etc/apt/keyrings").mkdir(parents=True)
    outside = tmp_path / "outside"
    (root / "etc/apt/keyrings" / name).symlink_to(outside)  # a link planted where the copy goes is not written through
    Deb().add_repository(ctx, 0, Repository(line=EXTRA, key=str(key)))
    copy = root / "etc/apt/keyrings" / name
    assert not copy.is_symlink() and not outside.exists()
    assert copy.read_bytes() == key.read_bytes()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o644
    assert f"[signed-by=/etc/apt/keyrings/{name}]" in (root / "etc/apt/sources.list.d/emi-tui-extra-0.list").read_text()
    assert f"write /etc/apt/keyrings/{name} ({len(key.read_bytes())} bytes, mode 644)" in lines
