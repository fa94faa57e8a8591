"""A stdin/stdout <-> TCP relay, run by QEMU's guestfwd for each guest connection.

QEMU 7.2's `guestfwd=...-tcp:HOST:PORT` serves only the first connection;
`guestfwd=...-cmd:PROGRAM` starts PROGRAM per connection, with the guest's
stream on its stdin and stdout. This is that program: it joins them to the
metadata service on the loopback. Usage: python -m emi_tui.engine.boot.relay PORT
"""

from __future__ import annotations

import os
import select
import socket
import sys


def relay(port: int, host: str = "127.0.0.1") -> None:
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.settimeout(None)
        stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
        open_in = True
        while True:
            readable, _, _ = select.select([connection] + ([stdin] if open_in else []), [], [], 30)
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


if __name__ == "__main__":
    relay(int(sys.argv[1]))
