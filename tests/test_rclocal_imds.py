"""rc.local and the metadata service's session tokens (IMDSv2), run in the sandbox against the real service.

Each mode of emi-tui's own service (v1, v2, v2-required), a token whose time
runs out during the boot (a fake clock shared by the service and the script's
`date`: no sleeping), a service that forgets its tokens mid-boot (401), token
requests that fail every way EC2 documents, and answers larger than their bound.
See tests/rclocal_sandbox.py for how a run is set up.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from rclocal_sandbox import ED25519, MetadataService, Sandbox

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.boot import metadata_service
from emi_tui.engine.boot.boottest import BootTest
from emi_tui.engine.boot.metadata_service import InstanceData, MetadataServer
from emi_tui.engine.image import rclocal

USER_DATA = b"#!/bin/sh\necho user-data was here\n"
#: Every option that asks the service: four requests after the first contact (swap and ephemeral0 find no disk).
EVERYTHING = dict(ssh_key="root", hostname=True, user_data=True, ephemeral0=False, swap=False)
#: How rc.local names the way it reached the service.
SERVICE_LINE = re.compile(r"^emi-rc\.local: metadata: the service at \S+ answers, (.*)$", re.M)


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    return Sandbox(tmp_path / "sandbox")


@contextmanager
def real_service(imds: str, user_data: bytes = USER_DATA, clock: Callable[[], float] | None = None,
                 on_log: Callable[[str, MetadataServer], None] = lambda line, server: None) -> Iterator[tuple[MetadataServer, list[str]]]:
    """emi-tui's metadata service in `imds` mode, with a key, a host name and `user_data`; yields it and its log."""
    log: list[str] = []
    data = InstanceData(public_key=ED25519, user_data=user_data, hostname="node-7.example")
    holder: list[MetadataServer] = []

    def logged(line: str) -> None:
        log.append(line)
        on_log(line, holder[0])

    with MetadataServer(data, log=logged, imds=imds, **({"clock": clock} if clock else {})) as server:
        holder.append(server)
        yield server, log


def url_of(server: MetadataServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def options(url: str) -> Metadata:
    return Metadata(url=url, **EVERYTHING)


def assert_everything_done(sandbox: Sandbox, out: str) -> None:
    assert sandbox.path("/root/.ssh/authorized_keys").read_text() == ED25519 + "\n", out
    assert "emi-rc.local: hostname: set to node-7 (local-hostname node-7.example)" in out
    assert re.search(r"^emi-rc\.local: user-data: ran \(exit 0\)", out, re.M), out


def mode_the_boot_test_reads(out: str, tmp_path: Path) -> str:
    """What `emi-tui boot-test` reports as the mode rc.local used, reading these console lines."""
    test = BootTest(tmp_path / "image.tar.gz", console_log=tmp_path / "console.log")
    for line in out.splitlines():
        test._console(line)
    return test.imds_used


def requests(log: list[str], method: str) -> list[str]:
    """The log's lines of one method, as "PATH -> STATUS (why)"."""
    return [line.split(f" {method} ", 1)[1] for line in log if f" {method} " in line]


def test_v1_the_token_request_gets_405_and_rc_local_falls_back_to_plain_requests(sandbox, tmp_path):
    with real_service("v1") as (server, log):
        run = sandbox.run(options(url_of(server)))
    assert SERVICE_LINE.findall(run.out) == ["IMDSv1 (its token request got HTTP 405)"]
    assert mode_the_boot_test_reads(run.out, tmp_path) == "IMDSv1 (its token request got HTTP 405)"
    assert requests(log, "PUT") == ["/latest/api/token -> 405 (no tokens in v1)"]
    assert all(line.endswith(("-> 200", "-> 404")) for line in requests(log, "GET")), log
    assert_everything_done(sandbox, run.out)


@pytest.mark.parametrize("imds", ["v2", "v2-required"])
def test_v2_every_request_carries_the_session_token(sandbox, imds, tmp_path):
    with real_service(imds) as (server, log):
        run = sandbox.run(options(url_of(server)))
    assert SERVICE_LINE.findall(run.out) == ["IMDSv2 (with a session token)"]
    assert mode_the_boot_test_reads(run.out, tmp_path) == "IMDSv2 (with a session token)"
    assert requests(log, "PUT") == [f"/latest/api/token -> 200 (a token for {rclocal.TOKEN_TTL} s)"]
    gets = requests(log, "GET")
    assert len(gets) == 4 and all(line.endswith(" (token)") for line in gets), gets
    assert_everything_done(sandbox, run.out)


def test_the_token_never_appears_on_a_command_line(sandbox, monkeypatch):
    # Arguments are visible in ps to every user of the guest: the token goes to curl in a private config file.
    sentinel = "SeNtInEl-token-value_0123456789"
    monkeypatch.setattr(metadata_service.secrets, "token_urlsafe", lambda _: sentinel)
    sandbox.log_calls_to("curl")
    with real_service("v2-required") as (server, _):
        run = sandbox.run(options(url_of(server)))
    assert_everything_done(sandbox, run.out)
    curls = run.called("curl")
    assert len(curls) == 5 and all("-K " in call for call in curls[1:])
    assert not [call for call in run.calls if sentinel in call]


def test_a_short_token_is_renewed_when_its_time_is_up(sandbox):
    # TTL 2 s, and each reading of the clock is a second later: the token runs out during the boot, and rc.local
    # asks for a new one before the service would refuse the old one.
    clock = sandbox.fake_clock()
    with real_service("v2-required", clock=clock) as (server, log):
        run = sandbox.run(options(url_of(server)), settings={"TOKEN_TTL": "2"})
    assert_everything_done(sandbox, run.out)
    assert "emi-rc.local: metadata: the session token's time was up, got a new one" in run.out
    puts = requests(log, "PUT")
    assert len(puts) >= 2 and set(puts) == {"/latest/api/token -> 200 (a token for 2 s)"}, puts
    assert not [line for line in log if "-> 401" in line], log


def test_a_token_the_service_forgets_mid_boot_is_replaced(sandbox):
    # The service restarts (it forgets every token) once it has answered the host name: the key request gets 401,
    # rc.local asks for a new token and asks again. rc.local's clock says the token is young (no date at all).
    def forget_after_hostname(line: str, server: MetadataServer) -> None:
        if "GET /latest/meta-data/local-hostname -> 200" in line:
            server.tokens.expire_all()

    with real_service("v2-required", on_log=forget_after_hostname) as (server, log):
        run = sandbox.run(options(url_of(server)))
    assert_everything_done(sandbox, run.out)
    assert "emi-rc.local: metadata: the service refused the session token, got a new one" in run.out
    assert [line for line in requests(log, "GET") if "-> 401" in line] == [
        "/latest/meta-data/public-keys/0/openssh-key -> 401 (unknown or expired token)"
    ]
    assert len(requests(log, "PUT")) == 2


def test_a_token_request_answered_400_is_not_followed_by_plain_requests(sandbox):
    # A TTL out of range is what EC2 answers 400 for: the service has tokens and found the request malformed.
    with real_service("v2") as (server, log):
        run = sandbox.run(options(url_of(server)), settings={"TOKEN_TTL": "0"})
    assert requests(log, "PUT") == ["/latest/api/token -> 400 (TTL '0' out of range)"]
    assert requests(log, "GET") == []
    for step in ("hostname", "ssh-key", "user-data"):
        assert (f"emi-rc.local: {step}: skipped, the metadata service at {url_of(server)} refused the token request "
                "(HTTP 400), no fallback to IMDSv1") in run.out
    assert not sandbox.path("/root/.ssh").exists()


@pytest.fixture
def scripted():
    """A scripted service (rclocal_sandbox.MetadataService) with the instance's key, host name and user-data."""
    routes = {
        "/latest/meta-data/": b"instance-id\n",
        "/latest/meta-data/public-keys/0/openssh-key": ED25519.encode(),
        "/latest/meta-data/local-hostname": b"node-7.example",
        "/latest/user-data": USER_DATA,
    }
    handler = type("Handler", (MetadataService,), {"routes": routes, "requests": [], "puts": [], "put": None, "unannounced": set()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"
    hang = threading.Event()
    yield handler, hang
    hang.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status", [None, 403, 404, 405, 401, 500], ids=["501", "403", "404", "405", "401", "500"])
def test_a_token_request_that_fails_falls_back_to_imdsv1(sandbox, scripted, status):
    service, _ = scripted
    service.put = status
    run = sandbox.run(options(service.url))
    assert SERVICE_LINE.findall(run.out) == [f"IMDSv1 (its token request got HTTP {status or 501})"]
    assert service.puts == ["/latest/api/token"]
    assert_everything_done(sandbox, run.out)


def test_a_token_request_that_hangs_falls_back_to_imdsv1(sandbox, scripted):
    service, hang = scripted
    service.put = hang  # never answered: curl's bound for the token request ends it
    run = sandbox.run(options(service.url), settings={"TOKEN_MAX_TIME": "1"})
    assert SERVICE_LINE.findall(run.out) == ["IMDSv1 (its token request got no answer)"]
    assert_everything_done(sandbox, run.out)


def test_a_token_that_is_not_one_is_not_used(sandbox, scripted):
    service, _ = scripted
    service.put = 200  # and an empty body
    run = sandbox.run(options(service.url))
    assert SERVICE_LINE.findall(run.out) == ["IMDSv1 (its token request returned no token)"]
    assert_everything_done(sandbox, run.out)


def test_user_data_of_the_largest_size_ec2_allows_is_run(sandbox):
    script = b"#!/bin/sh\n" + b"#" * (rclocal.USER_DATA_MAX_BYTES - 11) + b"\n"
    assert len(script) == rclocal.USER_DATA_MAX_BYTES
    with real_service("v2", user_data=script) as (server, _):
        run = sandbox.run(options(url_of(server)))
    assert_everything_done(sandbox, run.out)


def test_user_data_larger_than_ec2_allows_is_refused_unread(sandbox):
    with real_service("v2", user_data=USER_DATA + b"#" * rclocal.USER_DATA_MAX_BYTES) as (server, _):
        run = sandbox.run(options(url_of(server)))
    assert f"emi-rc.local: metadata: the answer for user-data is larger than {rclocal.USER_DATA_MAX_BYTES} bytes, not used" in run.out
    assert "emi-rc.local: user-data: no answer for it, not run" in run.out
    assert not sandbox.path(rclocal.USER_DATA_LOG).exists()


@pytest.mark.parametrize("path, size, line", [
    ("/latest/meta-data/public-keys/0/openssh-key", rclocal.KEY_MAX_BYTES, "ssh-key: no answer for the key, none installed"),
    ("/latest/meta-data/local-hostname", rclocal.VALUE_MAX_BYTES, "hostname: no answer for it, left as it is"),
])
def test_an_answer_of_unannounced_length_is_cut_off_at_its_bound(sandbox, scripted, path, size, line):
    # No Content-Length: curl before 8.4 does not apply --max-filesize to it, the file-size limit stops it.
    service, _ = scripted
    service.routes[path] = service.routes[path] + b"\n" + b"x" * (50 * size)
    service.unannounced.add(path)
    run = sandbox.run(options(service.url))
    assert f"emi-rc.local: metadata: the answer for {path.removeprefix('/latest/')} is larger than {size} bytes, not used" in run.out
    assert f"emi-rc.local: {line}" in run.out
    assert re.search(r"^emi-rc\.local: user-data: ran \(exit 0\)", run.out, re.M), "the other steps go on"
    assert "File size limit" not in run.out  # the shell's own complaint stays off the console
