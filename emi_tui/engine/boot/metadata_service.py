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
characters escaped (`engine.text.printable`), never raw. A requester that
floods it gets no more than MAX_CONNECTIONS threads, each ended when its
request stops coming for REQUEST_SECONDS.

Session tokens (IMDSv2) follow EC2's documented rules, in one of three modes:
"v1" has none and answers the token request (PUT /latest/api/token) with 405,
as a v1-only service does; "v2" hands them out and answers token-less GETs
too (EC2's HttpTokens=optional); "v2-required" refuses a GET without a token
with 401 (HttpTokens=required). A token request must ask for a TTL of 1 to
21600 seconds (else 400) and must not carry X-Forwarded-For (403: it came
through a proxy); a GET with an unknown or expired token gets 401. Tokens are
random and compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from emi_tui.engine.errors import EmiError
from emi_tui.engine.text import printable

#: The address a guest's client names in its Host header (with or without the default port).
GUEST_METADATA_HOST = "169.254.169.254"


#: Which requests need a session token: none exist (v1), optional (v2), every GET (v2-required).
IMDS_MODES = ("v1", "v2", "v2-required")
TOKEN_PATH = "/latest/api/token"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
#: The TTLs, in seconds, a token request may ask for (EC2's range).
TTL_MIN, TTL_MAX = 1, 21600
#: Tokens kept at most (the oldest go first): a client that asks for tokens in a loop cannot grow the service.
MAX_TOKENS = 256
#: Seconds a connection may wait between the bytes of its request (or for its first): one that sends nothing
#: does not hold a thread for ever. rc.local's curl sends its request at once.
REQUEST_SECONDS = 10.0
#: Connections served at once, each on its own thread; past them a new one is closed unanswered, so that a
#: local user or the guest opening connections in a loop cannot grow the service (rc.local asks one at a time).
MAX_CONNECTIONS = 32


class Tokens:
    """The session tokens a v2 service has handed out, each valid for its TTL as `clock` counts seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._issued: list[tuple[bytes, float]] = []  # (token, when it expires)

    def issue(self, ttl: int) -> str:
        """A new random token, valid for `ttl` seconds."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._issued = [entry for entry in self._issued if entry[1] > now][-(MAX_TOKENS - 1):]
            self._issued.append((token.encode(), now + ttl))
        return token

    def valid(self, token: str) -> bool:
        """Whether `token` was handed out and its time is not up; every known token is compared, in constant time."""
        sent = token.encode("utf-8", errors="replace")
        now = self._clock()
        with self._lock:
            issued = list(self._issued)
        found = False
        for known, expires in issued:
            found |= hmac.compare_digest(known, sent) and now < expires
        return found

    def expire_all(self) -> None:
        """Forget every token, as a restarted service does: the next request carrying one gets 401."""
        with self._lock:
            self._issued = []


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


def make_handler(data: InstanceData, log: Callable[[str], None], hosts: Callable[[], frozenset[str]],
                 imds: str = "v2", tokens: Tokens | None = None) -> type[BaseHTTPRequestHandler]:
    known = tokens or Tokens()

    class Handler(BaseHTTPRequestHandler):
        server_version = "emi-tui-metadata/1"
        # A socket timeout: a request that stops coming ends its connection (http.server closes it quietly).
        timeout = REQUEST_SECONDS

        def do_GET(self) -> None:
            if self._foreign_host():
                return
            status, body = self._answer(self.path.split("?", 1)[0])
            token, why = self.headers.get(TOKEN_HEADER), ""
            if imds != "v1" and token is not None:
                if known.valid(token):
                    why = " (token)"
                else:
                    status, body, why = 401, b"unauthorized: unknown or expired token\n", " (unknown or expired token)"
            elif imds == "v2-required":
                status, body, why = 401, b"unauthorized: a session token is required\n", " (no token, tokens are required)"
            log(printable(f"{self.client_address[0]} GET {self.path} -> {status}{why}"))
            self._reply(status, body)

        def do_PUT(self) -> None:
            if self._foreign_host():
                return
            status, body, why, headers = self._token()
            log(printable(f"{self.client_address[0]} PUT {self.path} -> {status} ({why})"))
            self._reply(status, body, headers)

        def _token(self) -> tuple[int, bytes, str, dict[str, str]]:
            """The answer to a token request: status, body, why (for the log), headers."""
            if imds == "v1":
                return 405, b"method not allowed\n", "no tokens in v1", {"Allow": "GET"}
            if self.path.split("?", 1)[0] != TOKEN_PATH:
                return 404, b"not found\n", "not the token path", {}
            if self.headers.get("X-Forwarded-For") is not None:
                return 403, b"forbidden: a token request may not come through a proxy\n", "X-Forwarded-For", {}
            asked = self.headers.get(TTL_HEADER)
            if asked is None:
                return 400, b"bad request: no TTL\n", "no TTL", {}
            asked = asked.strip()
            # At most 5 digits before int(): a long string of digits would raise ValueError (or cost time).
            if not (len(asked) <= 5 and asked.isascii() and asked.isdigit() and TTL_MIN <= int(asked) <= TTL_MAX):
                return 400, b"bad request: the TTL must be 1 to 21600 seconds\n", f"TTL {asked!r} out of range", {}
            ttl = int(asked)
            # The token comes with its TTL, as EC2 sends it.
            return 200, known.issue(ttl).encode(), f"a token for {ttl} s", {TTL_HEADER: str(ttl)}

        def _foreign_host(self) -> bool:
            """Answer 403 and return True when the request names another host (a rebinding DNS name)."""
            host = self.headers.get("Host")
            # No Host at all is an HTTP/1.0 client on this host; a browser always sends one.
            if host is None or host.strip().lower() in hosts():
                return False
            status = 403
            log(printable(f"{self.client_address[0]} {self.command} {self.path} Host: {host} -> {status}"))
            self._reply(status, b"forbidden: this service answers only for its own address\n")
            return True

        def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
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


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS at once: past them a new connection is closed unanswered."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], log: Callable[[str], None]) -> None:
        super().__init__(address, handler)
        self.limit = MAX_CONNECTIONS
        self._places = threading.BoundedSemaphore(self.limit)
        self._log = log

    def process_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        if not self._places.acquire(blocking=False):
            self._log(printable(f"{client_address[0]} refused: {self.limit} connections open already"))
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._places.release()  # no thread was started to give the place back
            raise

    def process_request_thread(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._places.release()


class _IPv6Server(_BoundedServer):
    address_family = socket.AF_INET6


class MetadataServer:
    """The service in a background thread; `with MetadataServer(...) as server: server.port`."""

    def __init__(self, data: InstanceData, host: str = "127.0.0.1", port: int = 0, log: Callable[[str], None] = lambda _: None,
                 imds: str = "v2", clock: Callable[[], float] = time.monotonic) -> None:
        if imds not in IMDS_MODES:
            raise EmiError(f"unknown IMDS mode {printable(imds)!r}", hint="choose v1, v2 or v2-required")
        self.host = loopback_host(host)
        self.imds = imds
        #: The session tokens handed out; `tokens.expire_all()` makes the service forget them.
        self.tokens = Tokens(clock)
        handler = make_handler(data, log, lambda: allowed_hosts(self.host, self.port), imds, self.tokens)
        server_class = _IPv6Server if ":" in self.host else _BoundedServer
        self.httpd = server_class((self.host, port), handler, log)
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
