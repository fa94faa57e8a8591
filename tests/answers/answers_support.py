"""What the answer-file tests share: the sample files, a fake workstation's apt sources, check and ok.

The fixtures (a fake workstation for every test here, the shipped recipes)
are in this folder's conftest.py.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from emi_tui.engine.answers.model import Answers, validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook

GOOD = Path(__file__).parent.parent / "data" / "answers" / "good"
TODAY = date(2026, 11, 28)
WORKSTATION_MIRROR = "http://mirror.example/debian"
SECURITY = "http://security.example/debian-security"
GOOD_FILES = sorted(p.name for p in GOOD.glob("*.yaml"))
BASE = "version: 1\nrecipe: debian-based\n"


def fake_apt_root(root: Path, uri: str = WORKSTATION_MIRROR, suites: str = "bookworm bookworm-updates") -> Path:
    """A system root whose apt sources serve `suites` from `uri` (and -security from elsewhere)."""
    parts = root / "etc" / "apt" / "sources.list.d"
    parts.mkdir(parents=True, exist_ok=True)
    (parts / "debian.sources").write_text(
        f"Types: deb\nURIs: {SECURITY}\nSuites: bookworm-security\nComponents: main\n\n"
        f"Types: deb\nURIs: {uri}/\nSuites: {suites}\nComponents: main\n"
    )
    return root


def check(text: str | bytes, book: RecipeBook, today: date | None = TODAY, source: str = "a.yaml"):
    return validate_bytes(text, source, book, today)


def ok(text: str | bytes, book: RecipeBook, today: date | None = TODAY) -> Answers:
    result = check(text, book, today)
    assert result.ok, [str(p) for p in result.problems]
    assert result.problems == []
    return result.answers


def openpgp_keyring(armored: bool = False) -> bytes:
    """A small public keyring as `gpg --export` (or `--armor --export`) writes one: a public key and a user id."""
    import base64

    modulus = b"\xc3" + bytes(range(1, 64))  # an RSA modulus, as an MPI of 512 bits
    key = b"\x04" + (1_700_000_000).to_bytes(4, "big") + b"\x01" + (512).to_bytes(2, "big") + modulus + b"\x00\x11\x01\x00\x01"
    user = b"Extra Repository <archive@extra.example>"
    packets = bytes([0xC6, len(key)]) + key + bytes([0xCD, len(user)]) + user
    if not armored:
        return packets
    body = base64.b64encode(packets).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" + "\n".join(lines) + "\n-----END PGP PUBLIC KEY BLOCK-----\n").encode()
