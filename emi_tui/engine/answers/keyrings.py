"""Repository keyrings named by an answer file: checked once, and copied into the image as the checked bytes.

A keyring is copied into a published image with mode 0644, so a path that
leads to anything else (a link to /etc/shadow, a FIFO, a device, a secret
key, any file at all) would publish it. `read_keyring` opens the file once
without following a final link, insists on a bounded regular file, and
returns its bytes only when they are OpenPGP public-key packets (binary, as
`gpg --export` writes them, or one ASCII-armored public key block). The build
copies those bytes, not the path, so nothing can be swapped in between.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

#: A distribution's whole archive keyring is a few hundred KiB; anything larger is not a keyring.
MAX_KEYRING_BYTES = 1024 * 1024
ARMOR_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
ARMOR_END = "-----END PGP PUBLIC KEY BLOCK-----"
#: The packets a transferable public key is made of (RFC 9580, 10.1): keys, user ids, signatures, trust.
PUBLIC_KEY, PUBLIC_SUBKEY, USER_ID, USER_ATTRIBUTE, SIGNATURE, TRUST = 6, 14, 13, 17, 2, 12
KEYRING_PACKETS = {PUBLIC_KEY, PUBLIC_SUBKEY, USER_ID, USER_ATTRIBUTE, SIGNATURE, TRUST}
SECRET_PACKETS = {5: "a secret key", 7: "a secret subkey"}
_FIX = "name the file `gpg --export KEYID > FILE.gpg` wrote (or `gpg --armor --export` for .asc)"


class KeyringError(ValueError):
    """Why a file cannot be a repository keyring, and how to fix it."""


@dataclass(frozen=True)
class Keyring:
    """The checked bytes of a keyring file; `armored` keyrings go into the image as .asc, binary ones as .gpg."""

    data: bytes
    armored: bool

    @property
    def suffix(self) -> str:
        return ".asc" if self.armored else ".gpg"


def read_keyring(key: str) -> Keyring:
    """The keyring at the absolute path `key`, read once and checked; KeyringError says why not."""
    path = Path(key)
    if not path.is_absolute() or ".." in path.parts:
        raise KeyringError(f"{key!r} must be an absolute path to a keyring file, without '..'")
    if path.suffix not in (".gpg", ".asc", ".pgp") and not key.startswith("/etc/pki/"):
        raise KeyringError(f"{key!r} is not a keyring file: name a .gpg, .asc or .pgp file")
    data = _read_regular(key)
    return Keyring(data, armored=check_openpgp_keyring(data, key))


def keyring_problem(key: str) -> str | None:
    """Why `key` cannot be a keyring file to copy into the image, or None."""
    try:
        read_keyring(key)
    except KeyringError as exc:
        return str(exc)
    return None


def _read_regular(key: str) -> bytes:
    try:
        before = os.lstat(key)
    except FileNotFoundError:
        raise KeyringError(f"no keyring file at {key}") from None
    except OSError as exc:
        raise KeyringError(f"cannot use {key!r}: {exc.strerror}") from None
    # Looked at before opening, so that a FIFO or a device is never opened at all.
    _require_regular(key, before)
    try:
        # O_NOFOLLOW: a link planted after the look is refused, not followed; O_NONBLOCK: a FIFO cannot hang us.
        fd = os.open(key, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise KeyringError(f"cannot open the keyring {key}: {exc.strerror}; {_FIX}") from None
    try:
        opened = os.fstat(fd)
        _require_regular(key, opened)
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise KeyringError(f"the keyring {key} was replaced while it was read: check who else writes that folder")
        chunks, total = [], 0
        while total <= MAX_KEYRING_BYTES:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise KeyringError(f"cannot read the keyring {key}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if total > MAX_KEYRING_BYTES:
        raise KeyringError(_too_big(key, total))
    return b"".join(chunks)


def _require_regular(key: str, info: os.stat_result) -> None:
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        raise KeyringError(f"the keyring {key} is a symbolic link: name the keyring file itself, not a link to it")
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device" if (
            stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
        raise KeyringError(f"the keyring {key} is {kind}, not a regular file: {_FIX}")
    if info.st_size > MAX_KEYRING_BYTES:
        raise KeyringError(_too_big(key, info.st_size))


def _too_big(key: str, size: int) -> str:
    return f"the keyring {key} holds {size} bytes or more; a keyring is at most {MAX_KEYRING_BYTES} bytes: export only the keys the repository needs"


def check_openpgp_keyring(data: bytes, key: str) -> bool:
    """Whether `data` is armored (True) or binary (False) OpenPGP public keys; KeyringError when it is neither."""
    if not data:
        raise KeyringError(f"the keyring {key} is empty: {_FIX}")
    if data[0] & 0x80:
        walk_public_key_packets(data, key)
        return False
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if not text.lstrip().startswith(ARMOR_BEGIN):
        raise KeyringError(f"the keyring {key} is not an OpenPGP keyring: neither OpenPGP packets nor a {ARMOR_BEGIN!r} block; {_FIX}")
    walk_public_key_packets(dearmor(text, key), key)
    return True


def dearmor(text: str, key: str) -> bytes:
    """The packets of the one armored public key block `text` holds (RFC 9580, 6.2)."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if lines[0] != ARMOR_BEGIN or lines[-1] != ARMOR_END:
        raise KeyringError(f"the keyring {key} must be one armored block from {ARMOR_BEGIN!r} to {ARMOR_END!r}, with nothing else in the file")
    body = lines[1:-1]
    while body and ":" in body[0]:  # armor headers such as "Comment: …"
        body = body[1:]
    if body and not body[0]:
        body = body[1:]
    if body and re.fullmatch(r"=[A-Za-z0-9+/]{4}", body[-1]):  # the optional CRC-24 checksum line
        body = body[:-1]
    try:
        packets = base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"the armored keyring {key} holds text that is not base64: {_FIX}") from None
    if not packets:
        raise KeyringError(f"the armored keyring {key} holds no key: {_FIX}")
    return packets


def walk_public_key_packets(data: bytes, key: str) -> None:
    """Check that `data` is a sequence of whole public-key packets that starts with a public key."""
    offset, first = 0, True
    while offset < len(data):
        tag, body_start, length = _packet_header(data, offset, key)
        if first and tag != PUBLIC_KEY:
            what = SECRET_PACKETS.get(tag, f"a packet of type {tag}")
            raise KeyringError(f"the keyring {key} starts with {what}, not a public key: {_FIX}")
        if tag in SECRET_PACKETS:
            raise KeyringError(f"the keyring {key} holds {SECRET_PACKETS[tag]}: never publish it; {_FIX}")
        if tag not in KEYRING_PACKETS:
            raise KeyringError(f"the keyring {key} holds a packet of type {tag}, which no public keyring holds: {_FIX}")
        if tag in (PUBLIC_KEY, PUBLIC_SUBKEY) and (length < 1 or data[body_start] not in (3, 4, 5, 6)):
            raise KeyringError(f"the keyring {key} holds a public key of no known version: {_FIX}")
        offset, first = body_start + length, False


def _packet_header(data: bytes, offset: int, key: str) -> tuple[int, int, int]:
    """(tag, where the body starts, body length) of the packet at `offset` (RFC 9580, 4.2)."""
    truncated = KeyringError(f"the keyring {key} ends inside a packet: it is truncated or not OpenPGP; {_FIX}")
    first = data[offset]
    if not first & 0x80:
        raise KeyringError(f"the keyring {key} is not OpenPGP packets at byte {offset}: {_FIX}")
    if first & 0x40:  # the current format
        tag, at = first & 0x3F, offset + 1
        if at >= len(data):
            raise truncated
        octet = data[at]
        if octet < 192:
            length, at = octet, at + 1
        elif octet < 224:
            if at + 1 >= len(data):
                raise truncated
            length, at = ((octet - 192) << 8) + data[at + 1] + 192, at + 2
        elif octet == 255:
            if at + 4 >= len(data):
                raise truncated
            length, at = int.from_bytes(data[at + 1:at + 5], "big"), at + 5
        else:
            raise KeyringError(f"the keyring {key} holds a partial-length packet, which keys never use: {_FIX}")
    else:  # the legacy format
        tag, kind, at = (first >> 2) & 0x0F, first & 0x03, offset + 1
        if kind == 3:
            raise KeyringError(f"the keyring {key} holds a packet of indeterminate length, which keys never use: {_FIX}")
        width = (1, 2, 4)[kind]
        if at + width > len(data):
            raise truncated
        length, at = int.from_bytes(data[at:at + width], "big"), at + width
    if at + length > len(data) or (length and at >= len(data)):
        raise truncated
    return tag, at, length
