"""The metadata service over real loopback HTTP, and the guestfwd relay in front of it."""

import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from emi_tui.engine.boot.metadata_service import InstanceData, MetadataServer

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
