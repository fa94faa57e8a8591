"""The files emi-tui puts into images: rc.local, the udev pair, fstab, the units.

rc.local is checked three ways: statically (each option's code is there when
it is on and gone when it is off), by sh -n and shellcheck for every
combination of options, and by running it. The runs source everything above
its `(main "$@")` line, point every path of its settings block into a
temporary sandbox, put stubs of the commands that would change the system
(mount, swapon, mke2fs, useradd, chown, hostname, logger, getent...) first on
PATH, and call main against a real HTTP server on 127.0.0.1 with real curl.
Nothing here touches /root/.ssh, mounts anything or writes outside tmp_path.
"""

from __future__ import annotations

import configparser
import itertools
import os
import posixpath
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from emi_tui.core import layout, rclocal
from emi_tui.core.answers import Metadata
from emi_tui.core.imagefiles import (
    RC_LOCAL_TIMEOUT,
    image_files,
    image_symlinks,
    render_euca_udev,
    render_fstab,
    render_hostkey_unit,
    render_rc_local,
    render_rc_local_dropin,
    render_udev_rule,
)

SHELLCHECK = shutil.which("shellcheck")
ALL_OFF = dict(ssh_key="none", ephemeral0=False, swap=False, user_data=False, hostname=False)
MAIN_CALL = '\n(main "$@")\nexit 0\n'

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBz7hWq0cUx2c1Wm6fCw0n9Yp6QJp1K3v8mD9s2rX4aZ alice@laptop"
RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7k2Vd0J8x+Z9y/FQ1bYpL3tM6nR4sW8uV2cE5hG7jK9= bob"
ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHk= carol"
SK = "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIE= dave@yubikey"


def code_of(script: str) -> str:
    """The script without its comment lines: what runs, not what is said about it."""
    return "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))


def all_metadata() -> list[Metadata]:
    booleans = [True, False]
    return [
        Metadata(ssh_key=key, ephemeral0=eph, swap=swap, user_data=ud, hostname=hn)
        for key, eph, swap, ud, hn in itertools.product(["root", "ec2-user", "none"], booleans, booleans, booleans, booleans)
    ]


def combo_name(m: Metadata) -> str:
    on = [name for name in ("ephemeral0", "swap", "user_data", "hostname") if getattr(m, name)]
    return f"key-{m.ssh_key}_" + ("+".join(on) or "nothing")


# --- what each option leaves in rc.local -----------------------------------------------------

OPTION_MARKERS = {
    "ephemeral0": ["block-device-mapping/ephemeral0", "mke2fs", "EPHEMERAL_MOUNT", "do_ephemeral0"],
    "swap": ["block-device-mapping/swap", "swapon", "do_swap"],
    "user_data": ["md_get user-data", "USER_DATA_LOG", "RUN_DIR", "do_user_data"],
    "hostname": ["local-hostname", "HOSTNAME_FILE", "do_hostname"],
}


@pytest.mark.parametrize("option", sorted(OPTION_MARKERS))
def test_each_boolean_option_leaves_its_code_only_when_on(option):
    on = code_of(render_rc_local(Metadata(**{**ALL_OFF, "ssh_key": "root", option: True})))
    off = code_of(render_rc_local(Metadata(**{**ALL_OFF, "ssh_key": "root", option: False})))
    for marker in OPTION_MARKERS[option]:
        assert marker in on, f"{option} on: {marker!r} missing"
        assert marker not in off, f"{option} off: {marker!r} left behind"


def test_ssh_key_root_installs_for_root_only():
    code = code_of(render_rc_local(Metadata(**{**ALL_OFF, "ssh_key": "root"})))
    assert "meta-data/public-keys/0/openssh-key" in code
    assert "install_keys root ''" in code
    assert "ec2-user" not in code and "useradd" not in code and "SUDOERS_DIR" not in code


def test_ssh_key_ec2_user_creates_the_user_and_turns_root_away():
    code = code_of(render_rc_local(Metadata(**{**ALL_OFF, "ssh_key": "ec2-user"})))
    assert "useradd -m -s" in code
    assert "NOPASSWD:ALL" in code
    assert 'install_keys root "$ROOT_FORCED_COMMAND"' in code
    assert rclocal.sh_quote(rclocal.ROOT_FORCED_COMMAND) in code


def test_ssh_key_none_leaves_no_key_code():
    code = code_of(render_rc_local(Metadata(**{**ALL_OFF, "ssh_key": "none", "hostname": True})))
    for marker in ("openssh-key", "authorized_keys", "install_keys", "ssh-key", "useradd"):
        assert marker not in code


def test_every_option_off_leaves_no_network_code():
    script = render_rc_local(Metadata(**ALL_OFF))
    code = code_of(script)
    for marker in ("curl", "MD_URL", "wait_for_metadata", "WORK", "do_"):
        assert marker not in code
    assert 'say "done"' in code


def test_udev_xvd_does_not_change_rc_local():
    assert render_rc_local(Metadata(udev_xvd=True)) == render_rc_local(Metadata(udev_xvd=False))


def test_header_names_the_options_it_was_generated_with():
    script = render_rc_local(Metadata(url="http://10.0.0.1:8773/", ssh_key="ec2-user", swap=False, hostname=True))
    header = script.split("\n\n", 1)[0]
    assert header.startswith("#!/bin/sh\n")
    assert all(line.startswith("#") for line in header.splitlines())
    for shown in ("url:        http://10.0.0.1:8773/", "ssh_key:    ec2-user", "ephemeral0: on", "swap:       off", "user_data:  on", "hostname:   on"):
        assert f"#   {shown}" in header


def test_no_placeholder_is_left_unfilled():
    for metadata in all_metadata():
        assert not re.search(r"@[A-Z_]+@", render_rc_local(metadata)), combo_name(metadata)


def test_bounds_are_the_documented_ones():
    code = code_of(render_rc_local(Metadata()))
    assert "--connect-timeout 2 --max-time 5" in code
    assert "--noproxy '*'" in code
    assert re.search(r"^CONTACT_BUDGET=30$", code, re.M) and re.search(r"^CONTACT_TRIES=15$", code, re.M)


def test_rc_local_worst_case_fits_in_the_units_timeout():
    worst = max(rclocal.worst_case_seconds(m) for m in all_metadata())
    assert 0 < worst < RC_LOCAL_TIMEOUT
    assert rclocal.worst_case_seconds(Metadata(**ALL_OFF)) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/'; touch /tmp/emi-pwned; '",
        'http://x/$(touch /tmp/emi-pwned)"`id`\\',
        "http://x/\nexit 7\n",
    ],
)
def test_the_url_reaches_the_script_as_one_literal_word(url, tmp_path):
    script = render_rc_local(Metadata(url=url))
    header = script.split("\n\n", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines())
    settings = script.split("\nsay() {", 1)[0]
    probe = tmp_path / "probe.sh"
    probe.write_text(settings + '\nprintf "%s" "$MD_URL"\n')
    result = subprocess.run(["sh", str(probe)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    assert result.stdout == url.rstrip("/")
    assert not Path("/tmp/emi-pwned").exists()


def test_the_script_touches_only_the_paths_of_its_settings_block():
    """What the runs below redirect is all there is: no absolute path hides in the functions."""
    allowed = {"/dev/null", "/bin/bash", "/bin/sh", "/tmp", "/dev/"}
    for metadata in all_metadata():
        script = render_rc_local(metadata)
        functions = code_of(script.split("\nsay() {", 1)[1])
        paths = set(re.findall(r"(?<![\w.$}])/[A-Za-z][\w./-]*", functions))
        assert paths <= allowed, (combo_name(metadata), paths - allowed)


# --- sh -n and shellcheck for every combination -------------------------------------------------


@pytest.fixture(scope="module")
def every_rc_local(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("rc-local")
    paths = []
    for metadata in all_metadata():
        path = folder / f"{combo_name(metadata)}.sh"
        path.write_text(render_rc_local(metadata))
        paths.append(path)
    return paths


def test_every_combination_parses_with_sh(every_rc_local):
    assert len(every_rc_local) == 3 * 2**4
    for path in every_rc_local:
        result = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck is not installed (apt-get install shellcheck)")
def test_every_combination_passes_shellcheck(every_rc_local):
    result = subprocess.run(
        [SHELLCHECK, "-s", "sh", "-S", "warning", "-f", "gcc", *map(str, every_rc_local)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck is not installed (apt-get install shellcheck)")
def test_euca_udev_passes_shellcheck(tmp_path):
    path = tmp_path / "euca-udev"
    path.write_text(render_euca_udev())
    result = subprocess.run([SHELLCHECK, "-s", "sh", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


# --- running rc.local ------------------------------------------------------------------------

SETTING = re.compile(r"^([A-Z_]+)=(/\S*)$", re.M)


class _MetadataService(BaseHTTPRequestHandler):
    routes: dict[str, bytes | int] = {}
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        self.requests.append(self.path)
        answer = self.routes.get(self.path, 404)
        if isinstance(answer, int):
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def service():
    """A metadata service on 127.0.0.1: `service.routes` maps a URL path to bytes or a status."""

    handler = type("Handler", (_MetadataService,), {"routes": {"/latest/meta-data/": b"instance-id\n"}, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield handler
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def block_devices(count: int) -> list[tuple[str, str]]:
    """Real block device nodes (path, major:minor) that the runs point fake disks at.

    Only ever stat'ed by `[ -b ]` and `readlink -f`: blkid, mount, mke2fs and
    swapon are stubs, so nothing opens them.
    """
    found = []
    for entry in sorted(os.scandir("/dev"), key=lambda e: e.name):
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISBLK(st.st_mode):
            found.append((entry.path, f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"))
    if len(found) < count:
        pytest.skip(f"needs {count} block device nodes in /dev to point fake disks at")
    return found[:count]


STUBS = {
    # getent passwd NAME, from the sandbox's own passwd file
    "getent": '[ "$1" = passwd ] || exit 2\ngrep "^$2:" "$SANDBOX/etc/passwd" || exit 2\n',
    "useradd": 'for a; do user=$a; done\n'
    'printf "%s:x:1000:1000::%s/home/%s:/bin/bash\\n" "$user" "$SANDBOX" "$user" >>"$SANDBOX/etc/passwd"\n'
    'mkdir -p "$SANDBOX/home/$user"\n',
    "chown": "",
    "hostname": "",
    "logger": "",
    "mount": "",
    "swapon": "",
    "mke2fs": "",
    "restorecon": "",
    "sudo": "",
    "visudo": 'exit "${VISUDO_STATUS:-0}"\n',
    # blkid over the table $SANDBOX/blkid.tab: "DEVICE TYPE" lines, TYPE "-" for
    # a signature without a file-system type (a partition table, say)
    "blkid": 'tab=$SANDBOX/blkid.tab\n'
    'case "$*" in\n'
    '"-t TYPE=swap -o device") awk \'$2 == "swap" { print $1 }\' "$tab" ;;\n'
    '"-p -o value -s TYPE "*) t=$(awk -v d="$6" \'$1 == d { print $2 }\' "$tab")\n'
    '    [ -n "$t" ] || exit 2\n    [ "$t" = - ] || echo "$t" ;;\n'
    '"-p "*) awk -v d="$2" \'$1 == d { f = 1 } END { exit !f }\' "$tab" || exit 2 ;;\n'
    "*) exit 4 ;;\n"
    "esac\n",
}


@dataclass
class Run:
    returncode: int
    out: str
    seconds: float
    sandbox: Path
    calls: list[str] = field(default_factory=list)

    def called(self, command: str) -> list[str]:
        return [call for call in self.calls if call.split(" ", 1)[0] == command]


class Sandbox:
    """A root for one rc.local run: every path setting of the script is moved under it."""

    def __init__(self, root: Path):
        self.root = root
        self.stubs = root / "stubs"
        self.stubs.mkdir(parents=True)
        for name, body in STUBS.items():
            stub = self.stubs / name
            stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "{name} $*" >>"$SANDBOX/calls.log"\n{body}')
            stub.chmod(0o755)
        for folder in ("etc/sudoers.d", "root", "tmp", "run", "var/log", "dev", "proc/self", "sys/class/block", "media"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        (root / "root").chmod(0o700)
        self.passwd = root / "etc/passwd"
        self.passwd.write_text(f"root:x:0:0:root:{root}/root:/bin/bash\n")
        (root / "proc/self/mountinfo").write_text("22 1 259:99 / / rw,relatime shared:1 - ext3 /dev/root rw\n")
        (root / "proc/swaps").write_text("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
        (root / "blkid.tab").write_text("")
        (root / "calls.log").write_text("")

    def disk(self, name: str, device: tuple[str, str], fs: str | None = None) -> str:
        """Make DEV_DIR/name a block device; blkid reports `fs` on it (None: blank)."""
        path, majmin = device
        (self.root / "dev" / name).symlink_to(path)
        sys_entry = self.root / "sys/class/block" / Path(path).name
        sys_entry.mkdir(exist_ok=True)
        (sys_entry / "dev").write_text(majmin + "\n")
        if fs:
            with (self.root / "blkid.tab").open("a") as table:
                table.write(f"{path} {fs}\n")
        return path

    def run(self, metadata: Metadata, settings: dict[str, str] | None = None, env: dict[str, str] | None = None) -> Run:
        script = render_rc_local(metadata)
        functions, sep, tail = script.rpartition(MAIN_CALL)
        assert sep and not tail, "rc.local must end in (main \"$@\") / exit 0"
        library = self.root / "rc.local.functions"
        library.write_text(functions + "\n")
        moved = {name: str(self.root / value.lstrip("/")) for name, value in SETTING.findall(functions) if name != "PATH"}
        driver = [f". {shlex.quote(str(library))}"]
        driver += [f"{name}={shlex.quote(value)}" for name, value in {**moved, **(settings or {})}.items()]
        driver += [f'PATH={shlex.quote(str(self.stubs))}:"$PATH"', '(main "$@")', "exit 0"]
        (self.root / "driver.sh").write_text("\n".join(driver) + "\n")
        (self.root / "calls.log").write_text("")
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "TMPDIR": str(self.root / "tmp"),
            "SANDBOX": str(self.root),
            **(env or {}),
        }
        start = time.monotonic()
        result = subprocess.run(
            ["sh", str(self.root / "driver.sh")], capture_output=True, text=True, env=environment, timeout=120
        )
        calls = (self.root / "calls.log").read_text().splitlines()
        return Run(result.returncode, result.stdout + result.stderr, time.monotonic() - start, self.root, calls)

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    return Sandbox(tmp_path / "sandbox")


def metadata_at(service, **options) -> Metadata:
    return Metadata(**{**ALL_OFF, **options, "url": service.url})


def key_route(text: str) -> dict[str, bytes]:
    return {"/latest/meta-data/public-keys/0/openssh-key": text.encode()}


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


def test_without_a_metadata_service_every_step_is_skipped_and_it_exits_0(sandbox):
    metadata = Metadata(url=closed_port_url(), ssh_key="ec2-user", ephemeral0=True, swap=True, user_data=True, hostname=True)
    run = sandbox.run(metadata, settings={"CONTACT_BUDGET": "2", "CONTACT_TRIES": "3", "CONTACT_PAUSE": "0"})
    assert run.returncode == 0
    for step in ("hostname", "ssh-key", "swap", "ephemeral0", "user-data"):
        assert re.search(rf"^emi-rc\.local: {step}: skipped, no answer from the metadata service at http", run.out, re.M)
    assert run.out.rstrip().endswith("emi-rc.local: done")
    # Not a speed target: without the 2 s contact budget the script would retry for minutes.
    assert run.seconds < 30
    assert {call.split()[0] for call in run.calls} == {"logger"}
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


# --- euca-udev and its rule ------------------------------------------------------------------


@pytest.fixture
def euca_udev(tmp_path) -> Path:
    path = tmp_path / "euca-udev"
    path.write_text(render_euca_udev())
    return path


@pytest.mark.parametrize(
    "name, printed",
    [("xvda1", "sda1"), ("xvdb", "sdb"), ("xvdaa", "sdaa"), ("xvdf12", "sdf12"), ("vda", "vda"), ("sda1", "sda1"), ("xvd", "xvd")],
)
def test_euca_udev_names(euca_udev, name, printed):
    result = subprocess.run(["sh", str(euca_udev), name], capture_output=True, text=True, timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (0, printed + "\n", "")


@pytest.mark.parametrize("args", [[], ["xvda", "xvdb"]])
def test_euca_udev_wants_exactly_one_name(euca_udev, args):
    result = subprocess.run(["sh", str(euca_udev), *args], capture_output=True, text=True, timeout=10)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "usage:" in result.stderr


def test_udev_rule_calls_euca_udev_for_xvd_disks():
    rule = render_udev_rule()
    rules = [line for line in rule.splitlines() if line and not line.startswith("#")]
    assert rules == ['KERNEL=="xvd*", PROGRAM="/sbin/euca-udev %k", SYMLINK+="%c"']
    assert render_euca_udev().startswith("#!/bin/sh\n")
    assert "/" + layout.EUCA_UDEV in rules[0]


# --- fstab and the systemd units ------------------------------------------------------------


def test_fstab_mounts_the_root_by_label():
    fstab = render_fstab()
    entries = [line.split() for line in fstab.splitlines() if line and not line.startswith("#")]
    assert entries == [[f"LABEL={layout.ROOT_LABEL}", "/", "ext3", "defaults,errors=remount-ro", "0", "1"]]
    assert fstab.startswith("#")


def test_fstab_takes_another_label_and_refuses_a_bad_one():
    assert "LABEL=emi-root  /  ext3" in render_fstab("emi-root")
    for bad in ("", "two words", "x" * 17, "a\nb"):
        with pytest.raises(ValueError):
            render_fstab(bad)


def unit(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(text)
    return parser


def test_hostkey_unit_makes_missing_keys_before_sshd():
    parsed = unit(render_hostkey_unit())
    assert parsed["Unit"]["ConditionPathExistsGlob"] == "!/etc/ssh/ssh_host_*_key"
    assert set(parsed["Unit"]["Before"].split()) == {"ssh.service", "sshd.service"}
    assert parsed["Service"]["Type"] == "oneshot"
    assert parsed["Service"]["ExecStart"] == "/usr/bin/ssh-keygen -A"
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


def test_rc_local_dropin_waits_for_the_network_and_is_bounded():
    parsed = unit(render_rc_local_dropin())
    assert parsed["Unit"]["Wants"] == "network-online.target"
    assert parsed["Unit"]["After"] == "network-online.target"
    timeout = int(parsed["Service"]["TimeoutSec"])
    assert timeout == RC_LOCAL_TIMEOUT and 0 < timeout <= 600
    assert parsed["Service"]["StandardOutput"] == "journal+console"
    assert parsed["Service"]["SyslogIdentifier"] == rclocal.TAG


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_reads_the_units_without_complaint(tmp_path):
    hostkey = tmp_path / layout.HOSTKEY_UNIT_NAME
    hostkey.write_text(render_hostkey_unit())
    # A drop-in is not a unit: try its lines inside a stand-in for rc-local.service.
    rc_local = tmp_path / "rc-local-standin.service"
    rc_local.write_text(render_rc_local_dropin().replace("[Service]\n", "[Service]\nType=forking\nExecStart=/bin/true\n"))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(hostkey), str(rc_local)], capture_output=True, text=True, timeout=60
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if ("Unknown" in line or "ignoring" in line or "Failed to parse" in line or "Invalid" in line)
    ]
    assert not complaints, complaints


# --- image_files -----------------------------------------------------------------------------


def test_image_files_with_udev():
    metadata = Metadata()
    files = image_files(metadata)
    assert files == {
        layout.RC_LOCAL: (render_rc_local(metadata), 0o755),
        layout.RC_LOCAL_UNIT_DROPIN: (render_rc_local_dropin(), 0o644),
        layout.FSTAB: (render_fstab(), 0o644),
        layout.HOSTKEY_UNIT: (render_hostkey_unit(), 0o644),
        layout.UDEV_RULE: (render_udev_rule(), 0o644),
        layout.EUCA_UDEV: (render_euca_udev(), 0o755),
    }
    assert all(not path.startswith("/") and ".." not in path.split("/") for path in files)


def test_image_files_without_udev():
    files = image_files(Metadata(udev_xvd=False))
    assert layout.UDEV_RULE not in files and layout.EUCA_UDEV not in files
    assert set(files) == {layout.RC_LOCAL, layout.RC_LOCAL_UNIT_DROPIN, layout.FSTAB, layout.HOSTKEY_UNIT}


def test_image_files_follow_the_metadata_options():
    rc_local, _ = image_files(Metadata(ssh_key="ec2-user", hostname=True))[layout.RC_LOCAL]
    assert rc_local == render_rc_local(Metadata(ssh_key="ec2-user", hostname=True))


def test_the_hostkey_unit_is_enabled_by_a_relative_link():
    links = image_symlinks()
    assert set(links) == {layout.HOSTKEY_UNIT_LINK}
    target = links[layout.HOSTKEY_UNIT_LINK]
    assert not target.startswith("/")
    assert posixpath.normpath(posixpath.join(posixpath.dirname(layout.HOSTKEY_UNIT_LINK), target)) == layout.HOSTKEY_UNIT
    assert layout.HOSTKEY_UNIT_LINK not in image_files(Metadata())


def test_the_module_stays_headless():
    code = "import sys, emi_tui.core.imagefiles; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
