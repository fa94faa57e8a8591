"""metadata-serve against a flood of connections: from another local user, or a boot test's guest through its relay.

The service answers on the loopback, where every local user can reach it, and
it runs as root. A connection that never sends its request must not hold a
thread of the service for ever, and opening connections faster than they end
must not grow it without bound: past its limit a connection is closed unanswered.
Each test sends raw bytes over sockets, each bounded by a socket timeout.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from emi_tui.engine.boot import metadata_service
from emi_tui.engine.boot.metadata_service import InstanceData, MetadataServer

#: How long the client waits for the service to act: far longer than the service's own bounds in these tests.
PATIENCE = 20.0


def _connect(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
    return connection


def _answer(connection: socket.socket) -> bytes:
    """Everything the service sends until it closes the connection (b"" when it closed it unanswered)."""
    answer = b""
    try:
        while chunk := connection.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def _get(port: int) -> bytes:
    with _connect(port) as connection:
        connection.sendall(b"GET /latest/meta-data/instance-id HTTP/1.0\r\n\r\n")
        return _answer(connection)


@pytest.fixture
def log() -> Iterator[list[str]]:
    yield []


def test_a_connection_that_sends_nothing_is_closed(monkeypatch: pytest.MonkeyPatch, log: list[str]) -> None:
    monkeypatch.setattr(metadata_service, "REQUEST_SECONDS", 0.5, raising=False)
    with MetadataServer(InstanceData(instance_id="i-idle"), log=log.append) as server, _connect(server.port) as idle:
        # The service gives up on it: the client sees the end of the stream, not its own timeout.
        assert _answer(idle) == b""
        assert b"i-idle" in _get(server.port)


def test_a_request_sent_too_slowly_is_closed(monkeypatch: pytest.MonkeyPatch, log: list[str]) -> None:
    monkeypatch.setattr(metadata_service, "REQUEST_SECONDS", 0.5, raising=False)
    with MetadataServer(InstanceData(), log=log.append) as server, _connect(server.port) as slow:
        slow.sendall(b"GET /latest/meta-data/ HTTP/1.0\r\nX-Slow: ")  # and never the end of the header
        assert _answer(slow) == b""


def test_connections_past_the_limit_are_closed_unanswered(monkeypatch: pytest.MonkeyPatch, log: list[str]) -> None:
    monkeypatch.setattr(metadata_service, "MAX_CONNECTIONS", 4, raising=False)
    monkeypatch.setattr(metadata_service, "REQUEST_SECONDS", PATIENCE * 3, raising=False)
    with MetadataServer(InstanceData(instance_id="i-flood"), log=log.append) as server:
        threads_before = threading.active_count()
        with ExitStack() as held:
            idle = [held.enter_context(_connect(server.port)) for _ in range(4)]
            # The four idle ones hold every place: the fifth gets no answer, and no thread of its own.
            assert _get(server.port) == b""
            assert threading.active_count() <= threads_before + len(idle)
            assert any("refused" in line and "4 connections" in line for line in log)
        # Once they are gone (their threads have seen them close), a request is answered again.
        deadline = time.monotonic() + PATIENCE
        while threading.active_count() > threads_before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"i-flood" in _get(server.port)
