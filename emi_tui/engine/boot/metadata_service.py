"""A small EC2-style metadata service on the loopback, for boot tests and manual testing.

It answers the paths an EMI's rc.local reads (meta-data index, instance-id,
local-hostname, local-ipv4, public-keys, block-device-mapping, user-data)
and 404 for everything else, logging each request. `emi-tui metadata-serve`
runs it on its own; `emi-tui boot-test` starts the same server in a thread.

It is reachable from this host only: it binds a loopback address and refuses
any other. A web page in the operator's browser could still reach the
loopback through a DNS name that rebinds to it, so a request must name the
service in its `Host` header: the loopback address and port it serves, or
169.254.169.254 as a guest's client sends it (the boot test's relay passes
the guest's request on byte for byte). Anything else gets 403. Request paths
and headers are the requester's text: they are logged with control
characters escaped (`engine.text.printable`), never raw.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from emi_tui.engine.errors import EmiError
from emi_tui.engine.text import printable

#: The address a guest's client names in its Host header (with or without the default port).
GUEST_METADATA_HOST = "169.254.169.254"


@dataclass
class InstanceData:
    """What the service tells the instance about itself."""

    public_key: str = ""
    user_data: bytes = b""
    hostname: str = "emi-test.localdomain"
    instance_id: str = field(default_factory=lambda: f"i-{secrets.token_hex(4)}")
    local_ipv4: str = "10.0.2.15"
    ephemeral_device: str = "sdb"

    def meta_data(self) -> dict[str, str]:
        """Every meta-data path (relative to latest/meta-data/) and its body; folders end in '/'."""
        entries = {
            "ami-id": "emi-00000000",
            "instance-id": self.instance_id,
            "local-hostname": self.hostname,
            "hostname": self.hostname,
            "local-ipv4": self.local_ipv4,
            "block-device-mapping/ami": "sda1",
            "block-device-mapping/root": "/dev/sda1",
            "block-device-mapping/ephemeral0": self.ephemeral_device,
        }
        if self.public_key:
            entries["public-keys/0/openssh-key"] = self.public_key.strip() + "\n"
        return entries


def _listing(entries: dict[str, str], prefix: str) -> str | None:
    """The index of folder `prefix` (names one per line, folders with a slash), or None if no such folder."""
    names: list[str] = []
    for path in entries:
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix):]
        name = rest.split("/", 1)[0] + ("/" if "/" in rest else "")
        if name not in names:
            names.append(name)
    if not names:
        return None
    if prefix == "public-keys/":
        return "0=emi-tui-key"  # EC2 lists keys as index=name
    return "\n".join(names)


def loopback_host(host: str) -> str:
    """`host` as the loopback address to bind ('localhost' is 127.0.0.1); EmiError for any other address."""
    if host.lower() == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise EmiError(f"the metadata service listens on a loopback address only, not {printable(host)!r}",
                       hint="use 127.0.0.1 (the guest reaches it through QEMU's forward)")
    return str(address)


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The Host header values a request may carry (lower case): this service's loopback address, or the guest's."""
    named = f"[{host}]" if ":" in host else host
    names = {f"{named}:{port}", GUEST_METADATA_HOST, f"{GUEST_METADATA_HOST}:80"}
    if ipaddress.ip_address(host) == ipaddress.ip_address("127.0.0.1"):
        names.add(f"localhost:{port}")
    return frozenset(names)


def make_handler(data: InstanceData, log: Callable[[str], None], hosts: Callable[[], frozenset[str]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "emi-tui-metadata/1"

        def do_GET(self) -> None:
            host = self.headers.get("Host")
            # No Host at all is an HTTP/1.0 client on this host; a browser always sends one.
            if host is not None and host.strip().lower() not in hosts():
                status, body = 403, b"forbidden: this service answers only for its own address\n"
                log(printable(f"{self.client_address[0]} GET {self.path} Host: {host} -> {status}"))
            else:
                status, body = self._answer(self.path.split("?", 1)[0])
                log(printable(f"{self.client_address[0]} GET {self.path} -> {status}"))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _answer(self, path: str) -> tuple[int, bytes]:
            for version in ("/latest/", "/2009-04-04/", "/1.0/"):
                if path.startswith(version):
                    rest = path[len(version):]
                    break
            else:
                return 404, b"not found\n"
            if rest == "":
                return 200, b"meta-data/\nuser-data\n"
            if rest == "user-data":
                return (200, data.user_data) if data.user_data else (404, b"not found\n")
            if not rest.startswith("meta-data"):
                return 404, b"not found\n"
            inner = rest[len("meta-data"):].lstrip("/")
            entries = data.meta_data()
            if inner in entries:
                return 200, entries[inner].encode()
            folder = inner if inner.endswith("/") or inner == "" else inner + "/"
            listing = _listing(entries, "" if folder == "/" else folder)
            if listing is not None:
                return 200, (listing + "\n").encode()
            return 404, b"not found\n"

        def log_message(self, format: str, *args: object) -> None:  # requests are logged by do_GET
            pass

    return Handler


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class MetadataServer:
    """The service in a background thread; `with MetadataServer(...) as server: server.port`."""

    def __init__(self, data: InstanceData, host: str = "127.0.0.1", port: int = 0, log: Callable[[str], None] = lambda _: None) -> None:
        self.host = loopback_host(host)
        handler = make_handler(data, log, lambda: allowed_hosts(self.host, self.port))
        server_class = _IPv6Server if ":" in self.host else ThreadingHTTPServer
        self.httpd = server_class((self.host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="metadata-service", daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def __enter__(self) -> MetadataServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
