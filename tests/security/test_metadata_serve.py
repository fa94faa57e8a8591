"""metadata-serve against hostile requests: loopback only, the Host header checked, the log escaped.

Each test starts the real server on 127.0.0.1 in this process and sends raw
requests over a socket (http.client refuses the control characters an
attacker sends), one at a time, each bounded by a socket timeout.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emi_tui.engine.boot.metadata_service import InstanceData, MetadataServer
from emi_tui.engine.errors import EmiError

from .hostile import SECURITY, assert_shown_safely, hostile_line, unsafe_characters

INSTANCE_ID = "i-5ec0r1ty"
#: Whitespace ends a request's path, and a line end ends a header: neither can be inside one.
ONE_TOKEN = hostile_line.map(lambda text: "".join(c for c in text if not c.isspace() and c not in "\x1c\x1d\x1e\x1f\x85")).filter(bool)


@pytest.fixture(scope="module")
def service():
    log: list[str] = []
    with MetadataServer(InstanceData(instance_id=INSTANCE_ID), log=log.append) as server:
        yield server, log


def ask(port: int, path: str, host: str | None) -> tuple[int, bytes]:
    """Send one raw GET and read the whole answer: (status, body)."""
    request = f"GET {path} HTTP/1.0\r\n" + (f"Host: {host}\r\n" if host is not None else "") + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request.encode("utf-8", errors="surrogateescape"))
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_the_server_binds_the_loopback(service) -> None:
    server, _ = service
    assert server.httpd.server_address[0] == "127.0.0.1"


@SECURITY
@given(address=st.ip_addresses().filter(lambda address: not address.is_loopback))
def test_any_other_address_is_refused_before_binding(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    with pytest.raises(EmiError, match="loopback"):
        MetadataServer(InstanceData(), host=str(address))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "example.invalid", "127.0.0.1.nip.example", "169.254.169.254"])
def test_wildcards_and_names_are_refused(host: str) -> None:
    with pytest.raises(EmiError, match="loopback"):
        MetadataServer(InstanceData(), host=host)


def test_what_the_service_answers_for(service) -> None:
    server, _ = service
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "169.254.169.254", "169.254.169.254:80", None):
        assert ask(server.port, "/latest/meta-data/instance-id", host) == (200, INSTANCE_ID.encode()), host


@SECURITY
@given(host=ONE_TOKEN | st.sampled_from(["evil.example", "evil.example:8169", "127.0.0.1", "127.0.0.1:1", "localhost",
                                         "169.254.169.254.evil.example", "169.254.169.254:8080", "[::1]:80", "0.0.0.0"]))
def test_a_request_naming_another_host_is_refused(service, host: str) -> None:
    server, log = service
    if host.lower() in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "169.254.169.254", "169.254.169.254:80"):
        return
    status, body = ask(server.port, "/latest/meta-data/instance-id", host)
    assert status in (400, 403) and INSTANCE_ID.encode() not in body
    assert not any(unsafe_characters(line) for line in log)


@SECURITY
@given(path=ONE_TOKEN, host=ONE_TOKEN)
def test_hostile_paths_and_hosts_are_logged_escaped(service, path: str, host: str) -> None:
    server, log = service
    log.clear()
    status, _ = ask(server.port, "/" + path, host)
    if status == 400:  # http.server refused the request line itself; it logs nothing then
        assert log == []
        return
    assert len(log) == 1
    # http.server reads the request as ISO-8859-1: the path it logs is the UTF-8 bytes read that way.
    sent_path = ("/" + path).encode("utf-8", errors="surrogateescape").decode("iso-8859-1")
    sent_host = host.encode("utf-8", errors="surrogateescape").decode("iso-8859-1").strip()
    assert_shown_safely(log[0], sent_path, *([sent_host] if status == 403 else []))
