"""The /etc/rc.local of an EMI: what an instance does with the metadata service at boot.

`render_rc_local` turns the `metadata:` answers into one POSIX sh script. Only
the options that are on leave code in it; its header says which were on. At
each boot the script waits (bounded) for the metadata service, then for each
option writes one greppable line "emi-rc.local: <step>: <what happened>" to
the console and syslog, and always exits 0.

The script is built so that a test can source everything above its last
lines (`(main "$@")` / `exit 0`), point the path constants of its settings block
somewhere else, and call `main`: nothing in it knows about tests.
"""

from __future__ import annotations

import re

from emi_tui.engine.image import layout
from emi_tui.engine.image import rclocal_sh as sh
from emi_tui.engine.image import rclocal_sh_actions as actions
from emi_tui.engine.answers.model import Metadata

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
#: Disks tried for ephemeral0 when the metadata names none that exists (mounted, never formatted).
EPHEMERAL_FALLBACK = ("vdb", "sdb", "xvdb")
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

_RC_OPTIONS = ("url", "ssh_key", "ephemeral0", "swap", "user_data", "hostname")


def sh_quote(text: str) -> str:
    """`text` as one sh word that the shell reads back unchanged, whatever it holds."""
    return "'" + text.replace("'", "'\\''") + "'"


def _comment_safe(text: str) -> str:
    # A value shown in a comment must stay on its comment line.
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def fetch_seconds() -> int:
    """The longest one metadata request of rc.local can take once the service has answered."""
    return (FETCH_RETRIES + 1) * MAX_TIME + FETCH_RETRIES * RETRY_DELAY


def worst_case_seconds(metadata: Metadata) -> int:
    """An upper bound of how long rc.local's own steps can keep the boot waiting.

    The first contact plus every metadata request the enabled options make;
    the user-data runs in the background and is not counted, and neither are
    the local commands (mount, swapon, a lazy mke2fs: seconds).
    """
    if not _needs_metadata(metadata):
        return 0
    first_contact = CONTACT_BUDGET + CONTACT_PAUSE + MAX_TIME
    requests = sum(
        (metadata.ssh_key != "none", metadata.hostname, metadata.ephemeral0, metadata.swap, metadata.user_data)
    )
    return first_contact + requests * fetch_seconds()


def _needs_metadata(metadata: Metadata) -> bool:
    return metadata.ssh_key != "none" or any(
        (metadata.ephemeral0, metadata.swap, metadata.user_data, metadata.hostname)
    )


def _fill(template: str, **values: object) -> str:
    # One pass, so that no filled-in value is ever read as a placeholder itself.
    return re.sub(r"@([A-Z_]+)@", lambda match: str(values[match.group(1)]), template)


# Each piece below is a block of sh; @NAME@ is filled in by _fill. The pieces
# are joined in order, and a piece only appears when its option is on.

_HEADER = """\
#!/bin/sh
# /etc/rc.local of an EMI, written by emi-tui. At each boot it asks the
# metadata service for what this instance should get, and logs one line per
# step, "emi-rc.local: <step>: <what happened>", to the console and syslog
# (journalctl -t emi-rc.local, or grep emi-rc.local in the system log).
# It never holds the boot up for long: every request is bounded in time,
# nothing is done without an answer from the service, and it always exits 0.
#
# Generated with these metadata options; options that are off left no code here:
@OPTIONS@
#
# Regenerate it with emi-tui rather than edit it by hand.
"""

_SETTINGS = """
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
# Directories made here are readable by all; secret files set their own modes.
umask 022

# Settings: the service, the bounds, and every path this script reads or writes.
TAG=@TAG@
CONSOLE=/dev/console
"""

_SETTINGS_METADATA = """\
MD_URL=@MD_URL@
CONTACT_BUDGET=@CONTACT_BUDGET@
CONTACT_TRIES=@CONTACT_TRIES@
CONTACT_PAUSE=@CONTACT_PAUSE@
"""

_SETTINGS_EC2_USER = """\
SUDOERS_DIR=/etc/sudoers.d
"""

_SETTINGS_HOSTNAME = """\
HOSTNAME_FILE=/etc/hostname
"""

_SETTINGS_DISKS = """\
DEV_DIR=/dev
PROC_SWAPS=/proc/swaps
"""

_SETTINGS_EPHEMERAL = """\
SYS_BLOCK=/sys/class/block
PROC_MOUNTINFO=/proc/self/mountinfo
EPHEMERAL_MOUNT=@EPHEMERAL_MOUNT@
"""

_SETTINGS_USER_DATA = """\
RUN_DIR=@RUN_DIR@
USER_DATA_LOG=@USER_DATA_LOG@
"""

def _options_comment(metadata: Metadata) -> str:
    lines = []
    for name in _RC_OPTIONS:
        value = getattr(metadata, name)
        shown = ("on" if value else "off") if isinstance(value, bool) else _comment_safe(str(value))
        lines.append(f"#   {name + ':':<12}{shown}")
    return "\n".join(lines)


def render_rc_local(metadata: Metadata) -> str:
    """The image's /etc/rc.local for these metadata options (POSIX sh, mode 0755)."""
    settings = _SETTINGS
    functions = sh.SAY
    # (the step's name in the log, the function main calls)
    steps: list[tuple[str, str]] = []
    if _needs_metadata(metadata):
        settings += _SETTINGS_METADATA
        functions += sh.METADATA_FUNCTIONS
    if metadata.hostname or metadata.swap or metadata.ephemeral0:
        functions += sh.FIRST_WORD
    if metadata.hostname:
        settings += _SETTINGS_HOSTNAME
        functions += actions.HOSTNAME
        steps.append(("hostname", "do_hostname"))
    if metadata.ssh_key != "none":
        functions += sh.SSH_FUNCTIONS
        if metadata.ssh_key == "ec2-user":
            settings += _SETTINGS_EC2_USER
            functions += sh.SSH_EC2_USER
        else:
            functions += sh.SSH_ROOT
        steps.append(("ssh-key", "do_ssh_key"))
    if metadata.swap or metadata.ephemeral0:
        settings += _SETTINGS_DISKS
        functions += sh.DISK_FUNCTIONS
    # Swap before ephemeral0, so that the swap disk is in use by the time
    # ephemeral0 looks for a free one.
    if metadata.swap:
        functions += actions.SWAP
        steps.append(("swap", "do_swap"))
    if metadata.ephemeral0:
        settings += _SETTINGS_EPHEMERAL
        functions += actions.EPHEMERAL
        steps.append(("ephemeral0", "do_ephemeral0"))
    if metadata.user_data:
        settings += _SETTINGS_USER_DATA
        functions += actions.USER_DATA
        steps.append(("user-data", "do_user_data"))

    main = actions.MAIN_HEAD
    if steps:
        skipped = "\n".join(f'    say "{name}: skipped, $1"' for name, _ in steps)
        functions += actions.SKIP.replace("@SKIPPED@", skipped)
        calls = "\n".join(f"        {function}" for _, function in steps)
        main += actions.MAIN_METADATA.replace("@STEPS@", calls)
    else:
        main += actions.MAIN_NOTHING
    main += actions.MAIN_TAIL

    text = _HEADER + settings + functions + main
    return _fill(
        text,
        OPTIONS=_options_comment(metadata),
        TAG=sh_quote(TAG),
        MD_URL=sh_quote(metadata.url.rstrip("/")),
        CONTACT_BUDGET=CONTACT_BUDGET,
        CONTACT_TRIES=CONTACT_TRIES,
        CONTACT_PAUSE=CONTACT_PAUSE,
        CONNECT_TIMEOUT=CONNECT_TIMEOUT,
        MAX_TIME=MAX_TIME,
        FETCH_RETRIES=FETCH_RETRIES,
        RETRY_DELAY=RETRY_DELAY,
        KEY_LINE_RE=sh_quote(KEY_LINE_RE),
        ROOT_FORCED_COMMAND=sh_quote(ROOT_FORCED_COMMAND),
        EPHEMERAL_MOUNT="/" + layout.EPHEMERAL_MOUNT,
        EPHEMERAL_FALLBACK=" ".join(EPHEMERAL_FALLBACK),
        RUN_DIR=RUN_DIR,
        USER_DATA_LOG=USER_DATA_LOG,
    )
