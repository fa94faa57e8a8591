"""A hostile guest opening connections without end: each starts a relay on the host, as root; only a few run at once.

QEMU's guestfwd starts one relay process per guest connection. Before the slots, a guest
that opened connections and held them made the host run a Python process for each (about
20 MB apiece), with no limit but the host's memory.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from emi_tui.engine.boot.relay import make_slots

PYTHON = [sys.executable, "-B", "-m", "emi_tui.engine.boot.relay"]


@pytest.fixture
def listener():
    """A stand-in for the metadata service that accepts connections and holds them open."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    yield server
    server.close()


def _relay(port: int, slots: Path) -> subprocess.Popen:
    # stdin stays open: the guest holds its connection
    return subprocess.Popen([*PYTHON, str(port), str(slots)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_relay_past_the_slots_closes_at_once_and_a_freed_slot_is_reused(listener, tmp_path):
    port = listener.getsockname()[1]
    slots = make_slots(tmp_path / "slots", 2)
    assert sorted(p.name for p in slots.iterdir()) == ["0", "1"] and (slots.stat().st_mode & 0o777) == 0o700
    held = [_relay(port, slots) for _ in range(2)]
    for index, process in enumerate(held):
        process.stdin.write(str(index).encode())
        process.stdin.flush()
    accepted = [listener.accept()[0] for _ in held]  # both hold a slot and reached the service
    accepted.sort(key=lambda connection: connection.recv(1))  # in the order of the relays that carried them
    try:
        third = _relay(port, slots)
        assert third.wait(10) == 0 and third.stderr.read() == b""  # no slot: ends at once, quietly
        listener.settimeout(1)
        with pytest.raises(TimeoutError):  # and never connected
            listener.accept()
        # The guest closes its first connection: the service answers and closes, the relay ends, its slot is free.
        held[0].stdin.close()
        accepted[0].sendall(b"HTTP/1.0 200 OK\r\n\r\nbye")
        accepted[0].close()
        assert held[0].wait(10) == 0 and held[0].stdout.read() == b"HTTP/1.0 200 OK\r\n\r\nbye"
        listener.settimeout(10)
        fourth = _relay(port, slots)
        accepted.append(listener.accept()[0])  # the freed slot lets the next connection through
        assert fourth.poll() is None
        held.append(fourth)
    finally:
        for process in held:
            process.kill()
            process.wait()
        for connection in accepted:
            connection.close()


def test_without_a_slots_folder_the_relay_still_runs(listener):
    # Started by hand (the metadata-serve docs show it) it has no slots to take, and relays as before.
    port = listener.getsockname()[1]
    relay = subprocess.Popen([*PYTHON, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    connection = listener.accept()[0]
    relay.stdin.write(b"ping")
    relay.stdin.close()
    assert connection.recv(4) == b"ping"
    connection.sendall(b"pong")
    connection.close()
    assert relay.wait(10) == 0 and relay.stdout.read() == b"pong"
