"""A stdin/stdout <-> TCP relay, run by QEMU's guestfwd for each guest connection.

QEMU 7.2's `guestfwd=...-tcp:HOST:PORT` serves only the first connection;
`guestfwd=...-cmd:PROGRAM` starts PROGRAM per connection, with the guest's
stream on its stdin and stdout. This is that program: it joins them to the
metadata service on the loopback. Usage: python -m emi_tui.engine.boot.relay PORT [SLOTS]

The guest may be hostile, and every connection it opens starts a host process
as root. SLOTS is a private folder of slot files made by the boot test: a
relay runs only while it holds one (an flock, freed when it exits), so at most
that many run at once; a connection that finds every slot taken is closed at
once, before anything else is done for it.
"""

from __future__ import annotations

import fcntl
import os
import select
import socket
import sys
from pathlib import Path

#: How many guest connections are relayed at once; rc.local makes one request at a time.
RELAY_SLOTS = 8
#: A relay with nothing to carry for this long ends (the metadata service gives a request 10 s).
IDLE_SECONDS = 30


def make_slots(folder: Path, count: int = RELAY_SLOTS) -> Path:
    """Create `folder` (in the caller's private scratch folder) with `count` slot files; returns it."""
    folder.mkdir(mode=0o700)
    for index in range(count):
        os.close(os.open(folder / str(index), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    return folder


def take_slot(folder: Path) -> int | None:
    """An open, locked slot file (kept open for the relay's life), or None when every slot is taken."""
    for index in range(RELAY_SLOTS):
        try:
            fd = os.open(folder / str(index), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            os.close(fd)
    return None


def relay(port: int, host: str = "127.0.0.1") -> None:
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.settimeout(None)
        stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
        open_in = True
        while True:
            readable, _, _ = select.select([connection] + ([stdin] if open_in else []), [], [], IDLE_SECONDS)
            if not readable:
                return
            if stdin in readable:
                chunk = os.read(stdin, 65536)
                if chunk:
                    connection.sendall(chunk)
                else:
                    open_in = False
                    connection.shutdown(socket.SHUT_WR)
            if connection in readable:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                os.write(stdout, chunk)


def main(argv: list[str]) -> int:
    if len(argv) > 1 and take_slot(Path(argv[1])) is None:
        return 0  # every slot taken: the guest's connection closes unanswered
    relay(int(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
