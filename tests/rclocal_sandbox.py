"""A sandbox in which the rendered rc.local really runs, against a metadata service on 127.0.0.1.

The runs source everything above rc.local's `(main "$@")` line, point every
path of its settings block into a temporary root, put stubs of the commands
that would change the system (mount, swapon, mke2fs, useradd, chown,
hostname, logger, getent...) first on PATH, and call main with real curl.
Used by tests/test_rclocal_runs.py and tests/test_rclocal_imds.py.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.image.files import render_rc_local

ALL_OFF = dict(ssh_key="none", ephemeral0=False, swap=False, user_data=False, hostname=False, grow_root=False)
MAIN_CALL = '\n(main "$@")\nexit 0\n'

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBz7hWq0cUx2c1Wm6fCw0n9Yp6QJp1K3v8mD9s2rX4aZ alice@laptop"
RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7k2Vd0J8x+Z9y/FQ1bYpL3tM6nR4sW8uV2cE5hG7jK9= bob"
ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHk= carol"
SK = "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIE= dave@yubikey"

SETTING = re.compile(r"^([A-Z_]+)=(/\S*)$", re.M)


class MetadataService(BaseHTTPRequestHandler):
    """A scripted service: `routes` maps a GET's path to its body or status; `put` answers every PUT.

    `put` is a status, or an Event that the PUT waits on, unanswered (a token request that hangs);
    None answers 501, as a service that knows no PUT. The paths of the PUTs go to `puts`.
    """

    routes: dict[str, bytes | int] = {}
    requests: list[str] = []
    put: int | threading.Event | None = None
    puts: list[str] = []
    #: Paths whose body goes out without a Content-Length: the client sees its size only as it reads.
    unannounced: set[str] = set()

    def do_PUT(self):
        self.puts.append(self.path)
        if self.put is None:
            self.send_error(501)
            return
        if isinstance(self.put, threading.Event):
            self.put.wait(60)
            return
        self.send_response(self.put)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.requests.append(self.path)
        answer = self.routes.get(self.path, 404)
        if self.path in self.unannounced and isinstance(answer, bytes):
            self.send_response(200)
            self.end_headers()  # HTTP/1.0: the body ends where the connection does
            self.wfile.write(answer)
            return
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


def log_call(name: str) -> str:
    """The shell line a stub starts with: its call, into a file of its own in calls.d, numbered in order.

    One small file a call, never one growing log: rc.local runs curl under `ulimit -f` (its bound on an
    answer's size), which a wrapper inherits, and an append to a shared log past that size is cut short.
    """
    return (f'n=$(ls "$SANDBOX/calls.d" | wc -l); '
            f'printf "%s\\n" "{name} $*" >"$SANDBOX/calls.d/$(printf %06d "$n").$$"')


def _read_calls(folder: Path) -> list[str]:
    """Every logged call, in the order the calls were made."""
    files = sorted(folder.iterdir(), key=lambda path: (int(path.name.split(".")[0]), path.name))
    return [line for path in files for line in path.read_text().splitlines()]


class Sandbox:
    """A root for one rc.local run: every path setting of the script is moved under it."""

    def __init__(self, root: Path):
        self.root = root
        self.stubs = root / "stubs"
        self.stubs.mkdir(parents=True)
        for name, body in STUBS.items():
            stub = self.stubs / name
            stub.write_text(f"#!/bin/sh\n{log_call(name)}\n{body}")
            stub.chmod(0o755)
        for folder in ("etc/sudoers.d", "root", "tmp", "run", "var/log", "dev", "proc/self", "sys/class/block", "media"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        (root / "root").chmod(0o700)
        self.passwd = root / "etc/passwd"
        self.passwd.write_text(f"root:x:0:0:root:{root}/root:/bin/bash\n")
        (root / "proc/self/mountinfo").write_text("22 1 259:99 / / rw,relatime shared:1 - ext3 /dev/root rw\n")
        (root / "proc/swaps").write_text("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
        (root / "blkid.tab").write_text("")
        (root / "calls.d").mkdir()

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

    def log_calls_to(self, command: str) -> None:
        """Log each call to the real `command` in calls.d too (it still runs), so that a run's calls to it can be counted."""
        real = shutil.which(command)
        assert real, f"rc.local needs {command}"
        wrapper = self.stubs / command
        wrapper.write_text(f'#!/bin/sh\n{log_call(command)}\nexec {shlex.quote(real)} "$@"\n')
        wrapper.chmod(0o755)

    def fake_clock(self, start: int = 1_000_000) -> Callable[[], float]:
        """Make `date +%s` in the run a clock that moves one second ahead at each reading; returns the same clock's
        reader for the metadata service, so that both count the same seconds and a token's time runs out with no sleep."""
        clock = self.root / "clock"
        clock.write_text(f"{start}\n")
        stub = self.stubs / "date"
        stub.write_text(
            '#!/bin/sh\n[ "$1" = +%s ] || exit 1\n'
            'c=$(($(cat "$SANDBOX/clock") + 1))\n'
            'echo "$c" >"$SANDBOX/clock.new" && mv "$SANDBOX/clock.new" "$SANDBOX/clock"\necho "$c"\n'
        )
        stub.chmod(0o755)
        return lambda: float(clock.read_text())

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
        for old in (self.root / "calls.d").iterdir():
            old.unlink()
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
        calls = _read_calls(self.root / "calls.d")
        return Run(result.returncode, result.stdout + result.stderr, time.monotonic() - start, self.root, calls)

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")


def metadata_at(service, **options) -> Metadata:
    return Metadata(**{**ALL_OFF, **options, "url": service.url})


def key_route(text: str) -> dict[str, bytes]:
    return {"/latest/meta-data/public-keys/0/openssh-key": text.encode()}
