"""The metadata service over real loopback HTTP, and the guestfwd relay in front of it."""

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from emi_tui.engine.boot import metadata_service
from emi_tui.engine.boot.boottest import BootTest
from emi_tui.engine.boot.metadata_service import InstanceData, MetadataServer
from emi_tui.engine.errors import EmiError, ExitCode

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm8kbyv7dNGjpP2Bx4hXwT0 test@emi"


@pytest.fixture
def service():
    log = []
    data = InstanceData(public_key=KEY, user_data=b"#!/bin/sh\necho hi\n", hostname="node-1.example", instance_id="i-1234abcd")
    with MetadataServer(data, log=log.append) as server:
        yield f"http://127.0.0.1:{server.port}", log


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


@pytest.mark.parametrize(
    "path, body",
    [
        ("/latest/", "meta-data/\nuser-data\n"),
        ("/latest/meta-data/instance-id", "i-1234abcd"),
        ("/latest/meta-data/local-hostname", "node-1.example"),
        ("/latest/meta-data/local-ipv4", "10.0.2.15"),
        ("/latest/meta-data/public-keys/", "0=emi-tui-key\n"),
        ("/latest/meta-data/public-keys/0/openssh-key", KEY + "\n"),
        ("/latest/meta-data/block-device-mapping/", "ami\nroot\nephemeral0\n"),
        ("/latest/meta-data/block-device-mapping/ephemeral0", "sdb"),
        ("/latest/user-data", "#!/bin/sh\necho hi\n"),
    ],
)
def test_paths_an_image_reads(service, path, body):
    base, _ = service
    assert get(base + path) == (200, body)


def test_the_index_lists_files_and_folders(service):
    base, _ = service
    status, body = get(base + "/latest/meta-data/")
    assert status == 200
    names = body.splitlines()
    assert "instance-id" in names and "public-keys/" in names and "block-device-mapping/" in names


@pytest.mark.parametrize("path", ["/latest/meta-data/iam/info", "/latest/dynamic/", "/", "/etc/passwd", "/latest/meta-data/public-keys/1/openssh-key"])
def test_everything_else_is_404(service, path):
    base, _ = service
    assert get(base + path)[0] == 404


def test_each_request_is_logged(service):
    base, log = service
    get(base + "/latest/meta-data/instance-id")
    get(base + "/nope")
    assert any("GET /latest/meta-data/instance-id -> 200" in line for line in log)
    assert any("GET /nope -> 404" in line for line in log)


def test_no_user_data_and_no_key_are_404():
    with MetadataServer(InstanceData()) as server:
        base = f"http://127.0.0.1:{server.port}"
        assert get(base + "/latest/user-data")[0] == 404
        assert get(base + "/latest/meta-data/public-keys/0/openssh-key")[0] == 404


def test_the_relay_carries_an_http_exchange(service):
    base, _ = service
    port = base.rsplit(":", 1)[1]
    request = b"GET /latest/meta-data/instance-id HTTP/1.0\r\nHost: 169.254.169.254\r\n\r\n"
    done = subprocess.run([sys.executable, "-m", "emi_tui.engine.boot.relay", port], input=request, capture_output=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"HTTP/1.0 200") and done.stdout.endswith(b"i-1234abcd")


# Session tokens (IMDSv2), as EC2 documents them: --imds v1, v2 (tokens optional) and v2-required.


class Clock:
    """A clock that moves only when told: a token's TTL runs out with no sleeping."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def imds():
    """Start the service in a mode: imds("v2") -> (base URL, log, server, clock)."""
    started = []

    def start(mode: str):
        log, clock = [], Clock()
        server = MetadataServer(InstanceData(instance_id="i-1234abcd"), log=log.append, imds=mode, clock=clock)
        started.append(server.__enter__())
        return f"http://127.0.0.1:{server.port}", log, server, clock

    yield start
    for server in started:
        server.__exit__(None, None, None)


def ask(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


TTL = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN = "X-aws-ec2-metadata-token"
INSTANCE_ID = "/latest/meta-data/instance-id"


def token_of(base: str, ttl: str = "60") -> str:
    status, body, headers = ask(base + "/latest/api/token", "PUT", {TTL: ttl})
    assert status == 200 and headers[TTL] == ttl
    return body


def test_v1_answers_the_token_request_as_a_v1_only_service_does(imds):
    base, log, _, _ = imds("v1")
    status, _, headers = ask(base + "/latest/api/token", "PUT", {TTL: "60"})
    assert (status, headers["Allow"]) == (405, "GET")
    assert ask(base + INSTANCE_ID, headers={TOKEN: "anything"})[:2] == (200, "i-1234abcd")  # a v1 service ignores tokens
    assert log[0].endswith("PUT /latest/api/token -> 405 (no tokens in v1)")


@pytest.mark.parametrize("mode", ["v2", "v2-required"])
def test_v2_a_token_opens_every_path(imds, mode):
    base, log, _, _ = imds(mode)
    token = token_of(base, "21600")
    assert ask(base + INSTANCE_ID, headers={TOKEN: token})[:2] == (200, "i-1234abcd")
    assert log[-1].endswith(f"GET {INSTANCE_ID} -> 200 (token)")
    assert token not in "\n".join(log)  # a token is a secret: never logged


def test_v2_still_answers_requests_without_a_token_and_v2_required_does_not(imds):
    assert ask(imds("v2")[0] + INSTANCE_ID)[:2] == (200, "i-1234abcd")
    base, log, _, _ = imds("v2-required")
    assert ask(base + INSTANCE_ID)[0] == 401
    assert log[-1].endswith(f"GET {INSTANCE_ID} -> 401 (no token, tokens are required)")


@pytest.mark.parametrize("mode", ["v2", "v2-required"])
def test_an_unknown_token_gets_401(imds, mode):
    base, _, _, _ = imds(mode)
    real = token_of(base)
    for token in ("made-up", real[:-1], real + "x", "é" + real[1:]):
        assert ask(base + INSTANCE_ID, headers={TOKEN: token})[0] == 401, token


def test_a_token_is_refused_once_its_ttl_has_passed(imds):
    base, log, _, clock = imds("v2")
    token = token_of(base, "2")
    clock.now += 1.9
    assert ask(base + INSTANCE_ID, headers={TOKEN: token})[0] == 200
    clock.now += 0.1
    assert ask(base + INSTANCE_ID, headers={TOKEN: token})[0] == 401
    assert log[-1].endswith(f"GET {INSTANCE_ID} -> 401 (unknown or expired token)")


def test_a_service_that_forgets_its_tokens_refuses_them(imds):
    base, _, server, _ = imds("v2-required")
    token = token_of(base)
    server.tokens.expire_all()
    assert ask(base + INSTANCE_ID, headers={TOKEN: token})[0] == 401
    assert ask(base + INSTANCE_ID, headers={TOKEN: token_of(base)})[0] == 200


@pytest.mark.parametrize("ttl", [None, "", "0", "21601", "-1", "1.5", "abc", "9" * 5000, "\u00b2"],
                         ids=["missing", "empty", "0", "21601", "-1", "1.5", "abc", "5000-digits", "superscript-2"])
def test_a_token_request_without_a_ttl_in_range_gets_400(imds, ttl):
    base, log, _, _ = imds("v2")
    status, body, _ = ask(base + "/latest/api/token", "PUT", {} if ttl is None else {TTL: ttl})
    assert status == 400 and "TTL" in body
    assert " -> 400 (" in log[-1] and all(c.isprintable() for c in log[-1])


@pytest.mark.parametrize("ttl", ["1", "21600"])
def test_the_ttl_range_is_ec2s(imds, ttl):
    base, _, _, _ = imds("v2")
    assert token_of(base, ttl)


def test_a_token_request_through_a_proxy_gets_403(imds):
    base, log, _, _ = imds("v2")
    status, _, _ = ask(base + "/latest/api/token", "PUT", {TTL: "60", "X-Forwarded-For": "203.0.113.9"})
    assert status == 403
    assert log[-1].endswith("PUT /latest/api/token -> 403 (X-Forwarded-For)")


def test_tokens_are_random_and_a_put_elsewhere_is_404(imds):
    base, _, _, _ = imds("v2")
    tokens = {token_of(base) for _ in range(5)}
    assert len(tokens) == 5 and all(len(token) >= 40 for token in tokens)
    assert ask(base + "/latest/meta-data/instance-id", "PUT", {TTL: "60"})[0] == 404


def test_every_known_token_is_compared_in_constant_time(monkeypatch):
    # No early exit that would tell, by its timing, how much of a guessed token is right.
    compared = []
    real = metadata_service.hmac.compare_digest
    monkeypatch.setattr(metadata_service.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    tokens = metadata_service.Tokens(Clock())
    first = tokens.issue(60)
    tokens.issue(60)
    tokens.issue(60)
    assert tokens.valid(first)
    assert len(compared) == 3


def test_the_service_keeps_a_bounded_number_of_tokens():
    tokens = metadata_service.Tokens(Clock())
    first = tokens.issue(60)
    for _ in range(metadata_service.MAX_TOKENS - 1):
        tokens.issue(60)
    assert tokens.valid(first)
    tokens.issue(60)
    assert not tokens.valid(first)  # the oldest went


def test_a_hostile_ttl_is_logged_escaped(imds):
    base, log, _, _ = imds("v2")
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"PUT /latest/api/token HTTP/1.0\r\nX-aws-ec2-metadata-token-ttl-seconds: \x1b[2J\x07\r\n\r\n")
        assert connection.recv(100).startswith(b"HTTP/1.0 400")
    assert log and "\x1b" not in log[-1] and "\x07" not in log[-1]


def test_an_unknown_mode_is_refused():
    with pytest.raises(EmiError, match="unknown IMDS mode"):
        MetadataServer(InstanceData(), imds="v3")


@pytest.mark.parametrize("option, put_status, get_status", [([], 200, 200), (["--imds", "v1"], 405, 200), (["--imds", "v2-required"], 200, 401)])
def test_metadata_serve_runs_in_the_mode_asked_for(option, put_status, get_status):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "emi_tui", "metadata-serve", "--port", str(port), *option]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "300"}) as serving:
        try:
            banner = serving.stdout.readline()  # printed once the service listens
            assert f"http://127.0.0.1:{port}/latest/meta-data/" in banner, banner + serving.stderr.read()
            base = f"http://127.0.0.1:{port}"
            assert ask(base + "/latest/api/token", "PUT", {TTL: "60"})[0] == put_status
            assert ask(base + INSTANCE_ID)[0] == get_status
        finally:
            serving.send_signal(signal.SIGINT)
            serving.wait(timeout=20)
    assert {"v1": "IMDSv1 only", "v2-required": "IMDSv2 required"}.get(option[-1] if option else "", "IMDSv2: session tokens offered") in banner


def test_boot_test_passes_its_mode_to_the_service(monkeypatch):
    from emi_tui import cli
    from emi_tui.commands import boot

    seen = []

    class Stopped(BootTest):
        def run(self):
            seen.append(self.imds)
            raise KeyboardInterrupt

    monkeypatch.setattr(boot, "require_tools", lambda *_: None)
    monkeypatch.setattr(boot, "BootTest", Stopped)
    assert cli.main(["boot-test", "some.tar.gz", "--imds", "v2-required"]) == ExitCode.CANCELLED
    assert cli.main(["boot-test", "some.tar.gz"]) == ExitCode.CANCELLED
    assert seen == ["v2-required", "v2"]
