"""rc.local, run: each metadata option against a real HTTP metadata service, in a sandbox.

Nothing here touches /root/.ssh, mounts anything or writes outside tmp_path:
see tests/rclocal_sandbox.py for how a run is set up.
"""

from __future__ import annotations

import re
import shlex
import stat
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from rclocal_sandbox import (
    ALL_OFF,
    ECDSA,
    ED25519,
    RSA,
    SK,
    MetadataService,
    Sandbox,
    block_devices,
    closed_port_url,
    key_route,
    metadata_at,
)

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.image import rclocal
from emi_tui.engine.image.files import render_rc_local


@pytest.fixture
def service():
    """A metadata service on 127.0.0.1: `service.routes` maps a URL path to bytes or a status."""

    handler = type("Handler", (MetadataService,), {"routes": {"/latest/meta-data/": b"instance-id\n"}, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    return Sandbox(tmp_path / "sandbox")


def test_root_key_is_installed_once_with_private_modes(service, sandbox):
    service.routes.update(key_route(ED25519 + "\r\n"))
    run = sandbox.run(metadata_at(service, ssh_key="root"))
    assert run.returncode == 0
    assert "emi-rc.local: ssh-key: installed for root" in run.out
    assert run.out.rstrip().endswith("emi-rc.local: done")
    keys = sandbox.path("/root/.ssh/authorized_keys")
    assert keys.read_text() == ED25519 + "\n"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.parent.stat().st_mode) == 0o700
    assert f"chown 0:0 {keys}" in run.calls
    assert f"restorecon -R {keys.parent}" in run.calls

    again = sandbox.run(metadata_at(service, ssh_key="root"))
    assert "emi-rc.local: ssh-key: already installed for root" in again.out
    assert keys.read_text() == ED25519 + "\n"


@pytest.mark.parametrize("key", [ED25519, RSA, ECDSA, SK], ids=["ed25519", "rsa", "ecdsa", "sk"])
def test_any_openssh_key_type_is_accepted(service, sandbox, key):
    service.routes.update(key_route(key))  # no final newline, as some services answer
    run = sandbox.run(metadata_at(service, ssh_key="root"))
    assert sandbox.path("/root/.ssh/authorized_keys").read_text() == key + "\n", run.out


def test_an_existing_key_file_keeps_its_lines(service, sandbox):
    keys = sandbox.path("/root/.ssh/authorized_keys")
    keys.parent.mkdir(mode=0o700)
    keys.write_text(RSA)  # no final newline
    service.routes.update(key_route(ED25519 + "\n"))
    sandbox.run(metadata_at(service, ssh_key="root"))
    assert keys.read_text() == RSA + "\n" + ED25519 + "\n"


def test_only_well_formed_key_lines_reach_authorized_keys(service, sandbox):
    junk = f'command="/bin/sh" {RSA}\n<html>oops</html>\n{ED25519}\nssh-ed25519 not*base64\n'
    service.routes.update(key_route(junk))
    sandbox.run(metadata_at(service, ssh_key="root"))
    assert sandbox.path("/root/.ssh/authorized_keys").read_text() == ED25519 + "\n"


def test_an_answer_without_a_key_installs_nothing(service, sandbox):
    service.routes.update(key_route("<html>no key here</html>\n"))
    run = sandbox.run(metadata_at(service, ssh_key="root"))
    assert run.returncode == 0
    assert "ssh-key: the metadata service's answer holds no OpenSSH key, none installed" in run.out
    assert not sandbox.path("/root/.ssh").exists()


def test_no_key_offered_is_logged(service, sandbox):
    run = sandbox.run(metadata_at(service, ssh_key="root"))
    assert "emi-rc.local: ssh-key: the metadata service offers no key, none installed" in run.out
    assert not sandbox.path("/root/.ssh").exists()


def test_a_planted_link_is_not_written_through(service, sandbox, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("")
    sandbox.path("/root/.ssh").mkdir()
    sandbox.path("/root/.ssh/authorized_keys").symlink_to(target)
    service.routes.update(key_route(ED25519))
    run = sandbox.run(metadata_at(service, ssh_key="root"))
    assert "ssh-key: could not install the key for root" in run.out
    assert target.read_text() == ""


def test_ec2_user_is_created_gets_the_key_and_root_sends_people_there(service, sandbox):
    service.routes.update(key_route(ED25519 + "\n"))
    run = sandbox.run(metadata_at(service, ssh_key="ec2-user"))
    assert run.returncode == 0
    assert len(run.called("useradd")) == 1 and "-m -s /bin/" in run.called("useradd")[0]
    for line in (
        "ssh-key: created the account ec2-user",
        "ssh-key: ec2-user may use sudo without a password",
        "ssh-key: installed for ec2-user",
        'ssh-key: root answers that key with "login as ec2-user"',
    ):
        assert f"emi-rc.local: {line}" in run.out
    sudoers = sandbox.path("/etc/sudoers.d/ec2-user")
    assert sudoers.read_text() == "ec2-user ALL=(ALL) NOPASSWD:ALL\n"
    assert stat.S_IMODE(sudoers.stat().st_mode) == 0o440
    user_keys = sandbox.path("/home/ec2-user/.ssh/authorized_keys")
    assert user_keys.read_text() == ED25519 + "\n"
    assert f"chown 1000:1000 {user_keys}" in run.calls
    root_keys = sandbox.path("/root/.ssh/authorized_keys").read_text()
    assert root_keys == (
        "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,"
        """command="echo 'Please login as the user \\"ec2-user\\" rather than the user \\"root\\".';echo;sleep 10" """
        + ED25519
        + "\n"
    )

    again = sandbox.run(metadata_at(service, ssh_key="ec2-user"))
    assert not again.called("useradd")
    assert "ssh-key: already installed for ec2-user" in again.out
    assert user_keys.read_text() == ED25519 + "\n"
    assert sandbox.path("/root/.ssh/authorized_keys").read_text() == root_keys


def test_an_existing_ec2_user_gets_no_new_sudo_rights(service, sandbox):
    home = sandbox.path("/home/ec2-user")
    home.mkdir(parents=True)
    with sandbox.passwd.open("a") as passwd:
        passwd.write(f"ec2-user:x:1001:1001::{home}:/bin/bash\n")
    service.routes.update(key_route(ED25519))
    run = sandbox.run(metadata_at(service, ssh_key="ec2-user"))
    assert not run.called("useradd")
    assert not sandbox.path("/etc/sudoers.d/ec2-user").exists()
    assert (home / ".ssh/authorized_keys").read_text() == ED25519 + "\n"


def test_a_sudoers_file_visudo_rejects_is_not_kept(service, sandbox):
    service.routes.update(key_route(ED25519))
    run = sandbox.run(metadata_at(service, ssh_key="ec2-user"), env={"VISUDO_STATUS": "1"})
    assert "ssh-key: sudo for ec2-user not set up (visudo rejected it)" in run.out
    assert not sandbox.path("/etc/sudoers.d/ec2-user").exists()


# Without a service, the first contact is all rc.local asks for: each limit alone ends it (the other is set
# out of reach), after a counted number of tries. If neither did, the sandbox's 120 s timeout is the hang guard.
@pytest.mark.parametrize("budget, limit, tries", [("3600", "3", 3), ("0", "1000", 1)], ids=["tries", "budget"])
def test_without_a_metadata_service_every_step_is_skipped_and_it_exits_0(sandbox, budget, limit, tries):
    metadata = Metadata(url=closed_port_url(), ssh_key="ec2-user", ephemeral0=True, swap=True, user_data=True, hostname=True)
    sandbox.log_calls_to("curl")
    run = sandbox.run(metadata, settings={"CONTACT_BUDGET": budget, "CONTACT_TRIES": limit, "CONTACT_PAUSE": "0"})
    assert run.returncode == 0
    for step in ("hostname", "ssh-key", "swap", "ephemeral0", "user-data"):
        assert re.search(rf"^emi-rc\.local: {step}: skipped, no answer from the metadata service at http", run.out, re.M)
    assert run.out.rstrip().endswith("emi-rc.local: done")
    # Each try: the token request (IMDSv2), then the plain GET (IMDSv1) when that got no answer.
    contacts = run.called("curl")
    assert [call.rsplit("/latest/", 1)[1] for call in contacts] == ["api/token", "meta-data/"] * tries, contacts
    assert {call.split()[0] for call in run.calls} == {"logger", "curl"}
    assert not sandbox.path("/root/.ssh").exists() and not list(sandbox.path("/tmp").iterdir())


def test_a_service_that_answers_nothing_useful_leaves_everything_alone(service, sandbox):
    run = sandbox.run(metadata_at(service, ssh_key="root", ephemeral0=True, swap=True, user_data=True, hostname=True))
    assert run.returncode == 0
    for line in (
        "hostname: the metadata service offers none, left as it is",
        "ssh-key: the metadata service offers no key, none installed",
        "swap: none offered",
        "ephemeral0: no ephemeral disk found, nothing mounted",
        "user-data: none",
        "done",
    ):
        assert f"emi-rc.local: {line}" in run.out
    assert {c.split()[0] for c in run.calls} <= {"blkid", "logger"}
    assert not list(sandbox.path("/tmp").iterdir()), "the work folder is left behind"


def test_options_that_are_off_ask_the_service_nothing(service, sandbox):
    sandbox.run(metadata_at(service, ssh_key="root"))
    assert service.requests == ["/latest/meta-data/", "/latest/meta-data/public-keys/0/openssh-key"]
    service.requests.clear()
    run = sandbox.run(metadata_at(service))
    assert service.requests == [] and "nothing to do" in run.out


def test_hostname_is_set_from_local_hostname(service, sandbox):
    service.routes["/latest/meta-data/local-hostname"] = b"ip-10-1-2-3.eu-west-1.compute.internal\n"
    run = sandbox.run(metadata_at(service, hostname=True))
    assert run.called("hostname") == ["hostname ip-10-1-2-3"]
    assert sandbox.path("/etc/hostname").read_text() == "ip-10-1-2-3\n"
    assert "emi-rc.local: hostname: set to ip-10-1-2-3 (local-hostname ip-10-1-2-3.eu-west-1.compute.internal)" in run.out


@pytest.mark.parametrize(
    "value",
    [b"evil;reboot", b"$(reboot)", b"-n", b"bad-.example", b"10.1.2.3", b"a..b", b"x" * 64, b"\x1b[2Jclear", b".lead"],
)
def test_an_invalid_hostname_is_not_used(service, sandbox, value):
    service.routes["/latest/meta-data/local-hostname"] = value
    run = sandbox.run(metadata_at(service, hostname=True))
    assert run.returncode == 0
    assert not run.called("hostname")
    assert not sandbox.path("/etc/hostname").exists()
    assert re.search(r"^emi-rc\.local: hostname: .*left as it is$", run.out, re.M)
    assert "\x1b" not in run.out


def test_a_failing_service_is_retried_then_given_up_on(service, sandbox):
    service.routes["/latest/meta-data/local-hostname"] = 503
    run = sandbox.run(metadata_at(service, hostname=True))
    assert "emi-rc.local: hostname: no answer for it, left as it is" in run.out
    assert service.requests.count("/latest/meta-data/local-hostname") == rclocal.FETCH_RETRIES + 1


def test_user_data_script_runs_once_per_boot_in_private(service, sandbox):
    counter = sandbox.root / "user-data-ran"
    service.routes["/latest/user-data"] = (
        f'#!/bin/sh\necho "hello from user-data in $(dirname "$0")"\necho x >>{shlex.quote(str(counter))}\nexit 3\n'
    ).encode()
    run = sandbox.run(metadata_at(service, user_data=True))
    assert run.returncode == 0
    assert "/latest/user-data" in service.requests
    assert "emi-rc.local: user-data: started in the background" in run.out
    # The run ends once every process holding its stdout is gone, the background one included.
    assert re.search(r"^emi-rc\.local: user-data: ran \(exit 3\), its output is in ", run.out, re.M)
    assert counter.read_text() == "x\n"
    log = sandbox.path(rclocal.USER_DATA_LOG)
    assert "hello from user-data in " + str(sandbox.path("/tmp")) + "/emi-user-data." in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert not list(sandbox.path("/tmp").iterdir()), "the private folder is left behind"

    again = sandbox.run(metadata_at(service, user_data=True))
    assert "emi-rc.local: user-data: already ran this boot, not run again" in again.out
    assert counter.read_text() == "x\n"


def test_user_data_that_is_not_a_script_is_not_run(service, sandbox):
    service.routes["/latest/user-data"] = b"key=value\n#!/bin/sh\n"
    run = sandbox.run(metadata_at(service, user_data=True))
    assert "emi-rc.local: user-data: not a script (it does not start with #!), not run" in run.out
    assert not sandbox.path(rclocal.RUN_DIR).exists()


@pytest.mark.parametrize("mapped, seen", [("sdc", "vdc"), ("vdc", "xvdc"), ("xvdc", "sdc"), ("sda2", "xvda2"), ("vdc", "vdc")])
def test_ephemeral0_from_the_mapping_is_found_under_its_twin_name_and_mounted(service, sandbox, mapped, seen):
    (device,) = block_devices(1)
    path = sandbox.disk(seen, device, fs="ext3")
    service.routes["/latest/meta-data/block-device-mapping/ephemeral0"] = mapped.encode()
    run = sandbox.run(metadata_at(service, ephemeral0=True))
    mount_point = sandbox.path("/media/ephemeral0")
    assert run.called("mount") == [f"mount {path} {mount_point}"]
    assert not run.called("mke2fs")
    assert f"emi-rc.local: ephemeral0: mounted {path} at {mount_point}" in run.out


def test_a_blank_mapped_ephemeral0_is_formatted_then_mounted(service, sandbox):
    (device,) = block_devices(1)
    path = sandbox.disk("xvdb", device)
    service.routes["/latest/meta-data/block-device-mapping/ephemeral0"] = b"/dev/sdb\n"
    run = sandbox.run(metadata_at(service, ephemeral0=True))
    (mkfs,) = run.called("mke2fs")
    assert mkfs.startswith("mke2fs -t ext4 ") and mkfs.endswith(f" {path}")
    assert f"emi-rc.local: ephemeral0: formatted the blank disk {path} as ext4" in run.out
    assert len(run.called("mount")) == 1


def test_a_mapped_disk_with_an_unnamed_signature_is_never_formatted(service, sandbox):
    (device,) = block_devices(1)
    path = sandbox.disk("vdb", device, fs="-")
    service.routes["/latest/meta-data/block-device-mapping/ephemeral0"] = b"vdb"
    run = sandbox.run(metadata_at(service, ephemeral0=True))
    assert not run.called("mke2fs") and not run.called("mount")
    assert f"ephemeral0: {path} holds no file system blkid can name, not mounted" in run.out


def test_the_fallback_list_mounts_a_formatted_disk_but_never_formats_one(service, sandbox):
    (device,) = block_devices(1)
    path = sandbox.disk("vdb", device)
    blank = sandbox.run(metadata_at(service, ephemeral0=True))
    assert not blank.called("mke2fs") and not blank.called("mount")
    assert "ephemeral0: no ephemeral disk found, nothing mounted" in blank.out

    (sandbox.root / "blkid.tab").write_text(f"{path} ext3\n")
    formatted = sandbox.run(metadata_at(service, ephemeral0=True))
    assert formatted.called("mount") == [f"mount {path} {sandbox.path('/media/ephemeral0')}"]


def test_ephemeral0_is_not_mounted_over_files_or_a_mount(service, sandbox):
    (device,) = block_devices(1)
    sandbox.disk("vdb", device, fs="ext3")
    service.routes["/latest/meta-data/block-device-mapping/ephemeral0"] = b"vdb"
    mount_point = sandbox.path("/media/ephemeral0")
    mount_point.mkdir()
    (mount_point / ".keep").write_text("")
    run = sandbox.run(metadata_at(service, ephemeral0=True))
    assert not run.called("mount")
    assert f"ephemeral0: {mount_point} is not empty" in run.out

    (mount_point / ".keep").unlink()
    with sandbox.path("/proc/self/mountinfo").open("a") as mountinfo:
        mountinfo.write(f"40 22 0:50 / {mount_point} rw - tmpfs tmpfs rw\n")
    run = sandbox.run(metadata_at(service, ephemeral0=True))
    assert not run.called("mount") and not run.called("blkid")
    assert f"ephemeral0: {mount_point} is already a mount point, left as it is" in run.out


def test_a_disk_in_use_is_not_taken_for_ephemeral0(service, sandbox):
    (device,) = block_devices(1)
    sandbox.disk("vdb", device)
    with sandbox.path("/proc/self/mountinfo").open("a") as mountinfo:
        mountinfo.write(f"41 22 {device[1]} / /srv rw - ext4 /dev/whatever rw\n")
    service.routes["/latest/meta-data/block-device-mapping/ephemeral0"] = b"vdb"
    run = sandbox.run(metadata_at(service, ephemeral0=True))
    assert not run.called("mke2fs") and not run.called("mount")
    assert "ephemeral0: no ephemeral disk found, nothing mounted" in run.out


def test_swap_from_the_mapping_is_enabled(service, sandbox):
    (device,) = block_devices(1)
    path = sandbox.disk("xvda3", device, fs="swap")
    service.routes["/latest/meta-data/block-device-mapping/swap"] = b"sda3"
    run = sandbox.run(metadata_at(service, swap=True))
    assert run.called("swapon") == [f"swapon {path}"]
    assert f"emi-rc.local: swap: enabled {path}" in run.out

    with sandbox.path("/proc/swaps").open("a") as swaps:
        swaps.write(f"{path}\tpartition\t1048572\t0\t-2\n")
    run = sandbox.run(metadata_at(service, swap=True))
    assert not run.called("swapon")
    assert f"emi-rc.local: swap: {path} already in use" in run.out


def test_swap_falls_back_to_a_disk_that_blkid_calls_swap(service, sandbox):
    data, swap = block_devices(2)
    sandbox.disk("vdc", data, fs="ext4")
    (sandbox.root / "blkid.tab").write_text(f"{data[0]} ext4\n{swap[0]} swap\n")
    run = sandbox.run(metadata_at(service, swap=True))
    assert run.called("swapon") == [f"swapon {swap[0]}"]


def test_a_mapped_swap_that_is_not_swap_is_left_alone(service, sandbox):
    (device,) = block_devices(1)
    sandbox.disk("vdc", device, fs="ext4")
    service.routes["/latest/meta-data/block-device-mapping/swap"] = b"vdc"
    run = sandbox.run(metadata_at(service, swap=True))
    assert not run.called("swapon")
    assert "emi-rc.local: swap: none offered" in run.out


def test_log_lines_reach_console_and_syslog_unless_the_journal_has_them(service, sandbox):
    console = sandbox.path("/dev/console")
    console.write_text("")
    run = sandbox.run(metadata_at(service, ssh_key="root"))
    lines = [line for line in run.out.splitlines() if line.startswith("emi-rc.local: ")]
    assert console.read_text().splitlines() == lines
    assert run.called("logger")[0] == "logger -t emi-rc.local -- start"
    assert len(run.called("logger")) == len(lines)

    console.write_text("")
    journal = sandbox.run(metadata_at(service, ssh_key="root"), env={"JOURNAL_STREAM": "8:12345"})
    assert "emi-rc.local: done" in journal.out
    assert console.read_text() == "" and not journal.called("logger")


def test_the_unmodified_script_runs_and_exits_0(tmp_path):
    script = tmp_path / "rc.local"
    script.write_text(render_rc_local(Metadata(**ALL_OFF)))
    script.chmod(0o755)
    # JOURNAL_STREAM as under systemd: the lines stay on stdout, off this machine's console.
    result = subprocess.run([str(script), "start"], capture_output=True, text=True, timeout=30, env={"JOURNAL_STREAM": "8:1"})
    assert result.returncode == 0
    assert result.stdout == (
        "emi-rc.local: start\n"
        "emi-rc.local: nothing to do: every metadata option is off\n"
        "emi-rc.local: done\n"
    )
