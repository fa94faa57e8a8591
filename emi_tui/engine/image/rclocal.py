"""The /etc/rc.local of an EMI: what an instance does with the metadata service at boot.

`render_rc_local` turns the `metadata:` answers into one POSIX sh script. Only
the options that are on leave code in it; its header says which were on. At
each boot the script waits (bounded) for the metadata service, then for each
option writes one greppable line "emi-rc.local: <step>: <what happened>" to
the console and syslog, and always exits 0.

The shell itself is templates/rc.local.sh and the step functions it includes
from templates/rc.local/; this module holds the values it is filled with (the
bounds and paths, also used by the tests) and which of its sections the
options keep (`_sections`).

The script is built so that a test can source everything above its last
lines (`(main "$@")` / `exit 0`), point the path constants of its settings block
somewhere else, and call `main`: nothing in it knows about tests.
"""

from __future__ import annotations

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.image import layout
from emi_tui.engine.image.templates import render

TAG = "emi-rc.local"

#: curl's bounds for every request: seconds to connect, seconds per attempt.
CONNECT_TIMEOUT = 2
MAX_TIME = 5
#: A later request (the service has answered once) is retried this often, this far apart.
FETCH_RETRIES = 2
RETRY_DELAY = 1
#: The first contact, while the network comes up: asked again every CONTACT_PAUSE
#: seconds until CONTACT_BUDGET seconds have passed or CONTACT_TRIES tries were made.
CONTACT_BUDGET = 30
CONTACT_TRIES = 15
CONTACT_PAUSE = 2
#: The IMDSv2 session token: asked for this many seconds (EC2's longest, as cloud-init asks), and its
#: request bounded apart (a token request that gets no answer in time means IMDSv1).
TOKEN_TTL = 21600
TOKEN_MAX_TIME = 3
#: The largest answer taken, in bytes: user-data as EC2 allows it (16 KiB), the public key(s),
#: a session token, and every other value (a host name, a device name, an index).
USER_DATA_MAX_BYTES = 16 * 1024
KEY_MAX_BYTES = 16 * 1024
TOKEN_MAX_BYTES = 1024
VALUE_MAX_BYTES = 4096
#: Disks tried for ephemeral0 when the metadata names none that exists (mounted, never formatted).
EPHEMERAL_FALLBACK = ("vdb", "sdb", "xvdb")
#: grow-root leaves the root filesystem alone unless its disk is larger by more than this many bytes.
GROW_MIN = 16 * 1024**2
#: Where the user-data's own output goes (the console only gets its exit code).
USER_DATA_LOG = "/var/log/emi-user-data.log"
#: Cleared at every boot (tmpfs): the "user-data already ran this boot" marker lives here.
RUN_DIR = "/run/emi-rc.local"
#: The authorized_keys options that turn root away when the key belongs to ec2-user, as on EC2.
ROOT_FORCED_COMMAND = (
    "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,"
    """command="echo 'Please login as the user \\"ec2-user\\" rather than the user \\"root\\".';echo;sleep 10" """
)
#: One authorized_keys line as the metadata service hands it out: type, base64 blob, comment.
#: Any OpenSSH type: ssh-ed25519, ssh-rsa, ecdsa-sha2-*, sk-*@openssh.com; no options in front.
KEY_LINE_RE = (
    r"^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9-]+@openssh\.com) "
    r"[A-Za-z0-9+/]+={0,3}( [^[:cntrl:]]*)?$"
)


def _comment_safe(text: str) -> str:
    # A value shown in a comment must stay on its comment line.
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def fetch_seconds() -> int:
    """The longest one metadata request of rc.local can take once the service has answered.

    One GET with its retries; then, under IMDSv2, a new token when the old one's time is up and
    another after a 401, which is asked again: twice a token request and the GET.
    """
    one_get = (FETCH_RETRIES + 1) * MAX_TIME + FETCH_RETRIES * RETRY_DELAY
    return 2 * (TOKEN_MAX_TIME + one_get)


def worst_case_seconds(metadata: Metadata) -> int:
    """An upper bound of how long rc.local's own steps can keep the boot waiting.

    The first contact plus every metadata request the enabled options make;
    the user-data runs in the background and is not counted, and neither are
    the local commands (mount, swapon, a lazy mke2fs, an online resize2fs of
    a few GB: seconds).
    """
    if not _needs_metadata(metadata):
        return 0
    # Its last try: a token request, then the meta-data index.
    first_contact = CONTACT_BUDGET + CONTACT_PAUSE + TOKEN_MAX_TIME + MAX_TIME
    requests = sum(
        (metadata.ssh_key != "none", metadata.hostname, metadata.ephemeral0, metadata.swap, metadata.user_data)
    )
    return first_contact + requests * fetch_seconds()


def _needs_metadata(metadata: Metadata) -> bool:
    return metadata.ssh_key != "none" or any(
        (metadata.ephemeral0, metadata.swap, metadata.user_data, metadata.hostname)
    )


def _sections(metadata: Metadata) -> dict[str, bool]:
    """The flags of the #@if sections of templates/rc.local.sh: which code these options need."""
    disks = metadata.swap or metadata.ephemeral0
    return {
        "metadata": _needs_metadata(metadata),
        "dev_dir": disks or metadata.grow_root,
        "mountinfo": metadata.ephemeral0 or metadata.grow_root,
        "grow_root": metadata.grow_root,
        "first_word": metadata.hostname or disks,
        "disks": disks,
        "hostname": metadata.hostname,
        "ssh_key": metadata.ssh_key != "none",
        "ssh_ec2_user": metadata.ssh_key == "ec2-user",
        "swap": metadata.swap,
        "ephemeral0": metadata.ephemeral0,
        "user_data": metadata.user_data,
    }


def _shown(value: object) -> str:
    # How the header's comment shows one option.
    return ("on" if value else "off") if isinstance(value, bool) else _comment_safe(str(value))


def render_rc_local(metadata: Metadata) -> str:
    """The image's /etc/rc.local for these metadata options (POSIX sh, mode 0755)."""
    return render(
        "rc.local.sh",
        _sections(metadata),
        URL=_shown(metadata.url),
        SSH_KEY=_shown(metadata.ssh_key),
        EPHEMERAL0=_shown(metadata.ephemeral0),
        SWAP=_shown(metadata.swap),
        USER_DATA=_shown(metadata.user_data),
        HOSTNAME=_shown(metadata.hostname),
        GROW_ROOT=_shown(metadata.grow_root),
        TAG=TAG,
        MD_URL=metadata.url.rstrip("/"),
        CONTACT_BUDGET=CONTACT_BUDGET,
        CONTACT_TRIES=CONTACT_TRIES,
        CONTACT_PAUSE=CONTACT_PAUSE,
        CONNECT_TIMEOUT=CONNECT_TIMEOUT,
        MAX_TIME=MAX_TIME,
        FETCH_RETRIES=FETCH_RETRIES,
        RETRY_DELAY=RETRY_DELAY,
        TOKEN_TTL=TOKEN_TTL,
        TOKEN_MAX_TIME=TOKEN_MAX_TIME,
        USER_DATA_MAX_BYTES=USER_DATA_MAX_BYTES,
        KEY_MAX_BYTES=KEY_MAX_BYTES,
        TOKEN_MAX_BYTES=TOKEN_MAX_BYTES,
        VALUE_MAX_BYTES=VALUE_MAX_BYTES,
        KEY_LINE_RE=KEY_LINE_RE,
        ROOT_FORCED_COMMAND=ROOT_FORCED_COMMAND,
        EPHEMERAL_MOUNT="/" + layout.EPHEMERAL_MOUNT,
        EPHEMERAL_FALLBACK=EPHEMERAL_FALLBACK,
        RUN_DIR=RUN_DIR,
        GROW_MIN=GROW_MIN,
        USER_DATA_LOG=USER_DATA_LOG,
    )
