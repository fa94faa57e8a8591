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

from emi_tui.core import layout
from emi_tui.core.answers import Metadata

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

_SAY = """
say() {
    # say TEXT: one greppable line. Under systemd stdout already is the journal
    # and the console (see the rc-local.service drop-in), so writing them again
    # would only print every line twice.
    printf '%s: %s\\n' "$TAG" "$*"
    if [ -z "${JOURNAL_STREAM:-}" ]; then
        if [ -w "$CONSOLE" ]; then
            printf '%s: %s\\n' "$TAG" "$*" >>"$CONSOLE" 2>/dev/null
        fi
        if command -v logger >/dev/null 2>&1; then
            logger -t "$TAG" -- "$*" 2>/dev/null
        fi
    fi
    return 0
}
"""

_METADATA_FUNCTIONS = """
now() {
    # Seconds since the epoch; 0 where date cannot tell, so that the count of
    # tries alone then bounds the wait (and no arithmetic ever fails).
    now_s=$(date +%s 2>/dev/null)
    case $now_s in
        ''|*[!0-9]*) echo 0 ;;
        *) echo "$now_s" ;;
    esac
}

md_curl() {
    # Bounded on purpose, and never through a proxy: the service is link-local.
    curl -s -g --noproxy '*' --connect-timeout @CONNECT_TIMEOUT@ --max-time @MAX_TIME@ "$@"
}

wait_for_metadata() {
    # The network may still be coming up: ask again until the budget is spent.
    wm_start=$(now)
    wm_try=1
    while :; do
        if md_curl -f -o /dev/null "$MD_URL/latest/meta-data/"; then
            return 0
        fi
        wm_now=$(now)
        if [ $((wm_now - wm_start)) -ge "$CONTACT_BUDGET" ] || [ "$wm_try" -ge "$CONTACT_TRIES" ]; then
            return 1
        fi
        wm_try=$((wm_try + 1))
        sleep "$CONTACT_PAUSE"
    done
}

md_get() {
    # md_get PATH FILE: latest/PATH into FILE. Returns 0 when fetched, 1 when
    # the service has no such entry (404), 2 when it did not answer.
    mg_code=$(md_curl --retry @FETCH_RETRIES@ --retry-delay @RETRY_DELAY@ -o "$2" -w '%{http_code}' "$MD_URL/latest/$1") || mg_code=000
    case $mg_code in
        200) return 0 ;;
        404) return 1 ;;
        *) return 2 ;;
    esac
}
"""

_FIRST_WORD = """
first_word() {
    # first_word FILE: the first line of FILE without blanks (metadata values end in CR/LF or nothing).
    head -n 1 "$1" | tr -d '[:space:]'
}
"""

_SSH_FUNCTIONS = """
install_keys() (
    # install_keys USER PREFIX KEYS: append each key line of the file KEYS,
    # PREFIX in front, to USER's authorized_keys unless that key is already
    # there (with or without options). Prints added or present.
    ik_entry=$(getent passwd "$1") || return 1
    ik_uid=$(printf '%s\\n' "$ik_entry" | cut -d: -f3)
    ik_gid=$(printf '%s\\n' "$ik_entry" | cut -d: -f4)
    ik_home=$(printf '%s\\n' "$ik_entry" | cut -d: -f6)
    case $ik_home in
        /*) ;;
        *) return 1 ;;
    esac
    ik_dir=$ik_home/.ssh
    ik_file=$ik_dir/authorized_keys
    # Never write through a link that someone planted in a home directory.
    if [ -L "$ik_dir" ] || [ -L "$ik_file" ] || [ ! -d "$ik_home" ]; then
        return 1
    fi
    umask 077
    mkdir -p "$ik_dir" && chmod 700 "$ik_dir" && chown "$ik_uid:$ik_gid" "$ik_dir" || return 1
    touch "$ik_file" && chmod 600 "$ik_file" && chown "$ik_uid:$ik_gid" "$ik_file" || return 1
    # A file that does not end in a newline would glue our line onto its last one.
    if [ -s "$ik_file" ] && [ -n "$(tail -c 1 "$ik_file")" ]; then
        echo >>"$ik_file"
    fi
    # Files made by an init script get its SELinux label, which sshd may not read.
    if command -v restorecon >/dev/null 2>&1; then
        restorecon -R "$ik_dir" >/dev/null 2>&1
    fi
    ik_added=0
    while IFS= read -r ik_line; do
        ik_blob=$(printf '%s\\n' "$ik_line" | cut -d' ' -f2)
        if grep -qF -e "$ik_blob" "$ik_file"; then
            continue
        fi
        printf '%s%s\\n' "$2" "$ik_line" >>"$ik_file" || return 1
        ik_added=$((ik_added + 1))
    done <"$3"
    if [ "$ik_added" -gt 0 ]; then
        echo added
    else
        echo present
    fi
)

fetch_keys() {
    # fetch_keys FILE: the instance's OpenSSH key lines into FILE, or a say why not.
    md_get meta-data/public-keys/0/openssh-key "$WORK/key.raw"
    case $? in
        1) say "ssh-key: the metadata service offers no key, none installed"; return 1 ;;
        2) say "ssh-key: no answer for the key, none installed"; return 1 ;;
    esac
    # Only well-formed key lines: nothing else from the network reaches authorized_keys.
    tr -d '\\r' <"$WORK/key.raw" | grep -E @KEY_LINE_RE@ >"$1"
    if [ ! -s "$1" ]; then
        say "ssh-key: the metadata service's answer holds no OpenSSH key, none installed"
        return 1
    fi
    return 0
}

report_keys() {
    # report_keys USER RESULT: the log line of one install_keys.
    case $2 in
        added) say "ssh-key: installed for $1" ;;
        present) say "ssh-key: already installed for $1" ;;
        *) say "ssh-key: could not install the key for $1" ;;
    esac
}
"""

_SSH_ROOT = """
do_ssh_key() {
    fetch_keys "$WORK/keys" || return 0
    report_keys root "$(install_keys root '' "$WORK/keys")"
}
"""

_SSH_EC2_USER = """
ROOT_FORCED_COMMAND=@ROOT_FORCED_COMMAND@

ensure_ec2_user() {
    # An image built without ec2-user gets it at first boot; an account that
    # already exists keeps the sudo rights it has (none are added).
    if getent passwd ec2-user >/dev/null 2>&1; then
        return 0
    fi
    eu_shell=/bin/bash
    if [ ! -x "$eu_shell" ]; then
        eu_shell=/bin/sh
    fi
    if ! useradd -m -s "$eu_shell" ec2-user >/dev/null 2>&1; then
        say "ssh-key: could not create the account ec2-user"
        return 1
    fi
    say "ssh-key: created the account ec2-user"
    if command -v sudo >/dev/null 2>&1 && [ -d "$SUDOERS_DIR" ]; then
        eu_sudoers=$SUDOERS_DIR/ec2-user
        (umask 337 && printf '%s\\n' 'ec2-user ALL=(ALL) NOPASSWD:ALL' >"$eu_sudoers")
        # A broken sudoers file locks everyone out of sudo: keep only a valid one.
        if command -v visudo >/dev/null 2>&1 && ! visudo -cqf "$eu_sudoers" >/dev/null 2>&1; then
            rm -f "$eu_sudoers"
            say "ssh-key: sudo for ec2-user not set up (visudo rejected it)"
        else
            say "ssh-key: ec2-user may use sudo without a password"
        fi
    fi
    return 0
}

do_ssh_key() {
    fetch_keys "$WORK/keys" || return 0
    ensure_ec2_user || return 0
    report_keys ec2-user "$(install_keys ec2-user '' "$WORK/keys")"
    # Whoever tries root with that key is told to use ec2-user, and let go.
    case $(install_keys root "$ROOT_FORCED_COMMAND" "$WORK/keys") in
        added) say "ssh-key: root answers that key with \\"login as ec2-user\\"" ;;
        present) ;;
        *) say "ssh-key: could not set root's \\"login as ec2-user\\" answer" ;;
    esac
}
"""

_DISK_FUNCTIONS = """
find_dev() {
    # find_dev NAME: the block device NAME, or else its sd/xvd/vd twin (the
    # hypervisor decides which prefix the guest sees), as a resolved path.
    fd_name=${1#/dev/}
    case $fd_name in
        ''|*[!a-z0-9]*) return 1 ;;
    esac
    case $fd_name in
        xvd*) fd_rest=${fd_name#xvd} ;;
        vd*) fd_rest=${fd_name#vd} ;;
        sd*) fd_rest=${fd_name#sd} ;;
        *) fd_rest= ;;
    esac
    for fd_try in "$fd_name" "sd$fd_rest" "xvd$fd_rest" "vd$fd_rest"; do
        if [ -z "$fd_rest" ] && [ "$fd_try" != "$fd_name" ]; then
            continue
        fi
        if [ -b "$DEV_DIR/$fd_try" ]; then
            readlink -f "$DEV_DIR/$fd_try"
            return 0
        fi
    done
    return 1
}

fs_type() {
    # fs_type DEV: what blkid finds on DEV (ext4, swap, ...), read from the disk itself.
    blkid -p -o value -s TYPE "$1" 2>/dev/null
}
"""

_EPHEMERAL = """
dev_busy() {
    # dev_busy DEV: true when DEV is mounted, active swap, partitioned, or held
    # by LVM, RAID or device-mapper. What cannot be checked counts as busy.
    db_name=${1##*/}
    db_sys=$SYS_BLOCK/$db_name
    db_majmin=$(cat "$db_sys/dev" 2>/dev/null) || return 0
    if [ -z "$db_majmin" ] || [ ! -r "$PROC_MOUNTINFO" ] || [ ! -r "$PROC_SWAPS" ]; then
        return 0
    fi
    # mountinfo's third field is the device number: it also catches /dev/root.
    if awk -v d="$db_majmin" '$3 == d { f = 1 } END { exit !f }' "$PROC_MOUNTINFO"; then
        return 0
    fi
    if awk -v d="$1" '$1 == d { f = 1 } END { exit !f }' "$PROC_SWAPS"; then
        return 0
    fi
    for db_child in "$db_sys/holders"/* "$db_sys/$db_name"*; do
        if [ -e "$db_child" ]; then
            return 0
        fi
    done
    return 1
}

mount_point_in_use() {
    awk -v m="$EPHEMERAL_MOUNT" '$5 == m { f = 1 } END { exit !f }' "$PROC_MOUNTINFO"
}

mount_point_empty() {
    for mp_entry in "$EPHEMERAL_MOUNT"/* "$EPHEMERAL_MOUNT"/.[!.]* "$EPHEMERAL_MOUNT"/..?*; do
        if [ -e "$mp_entry" ] || [ -L "$mp_entry" ]; then
            return 1
        fi
    done
    return 0
}

do_ephemeral0() {
    if [ ! -r "$PROC_MOUNTINFO" ]; then
        say "ephemeral0: cannot read $PROC_MOUNTINFO, nothing mounted"
        return 0
    fi
    if mount_point_in_use; then
        say "ephemeral0: $EPHEMERAL_MOUNT is already a mount point, left as it is"
        return 0
    fi
    ep_dev=
    ep_mapped=no
    if md_get meta-data/block-device-mapping/ephemeral0 "$WORK/ephemeral0"; then
        if ep_try=$(find_dev "$(first_word "$WORK/ephemeral0")") && ! dev_busy "$ep_try"; then
            ep_dev=$ep_try
            ep_mapped=yes
        fi
    fi
    if [ -z "$ep_dev" ]; then
        # Without the service's word for it, only take a disk that already
        # carries a file system: a blank one may be a volume meant for
        # something else, and is never formatted.
        for ep_name in @EPHEMERAL_FALLBACK@; do
            if ep_try=$(find_dev "$ep_name") && ! dev_busy "$ep_try"; then
                case $(fs_type "$ep_try") in
                    ''|swap) ;;
                    *) ep_dev=$ep_try; break ;;
                esac
            fi
        done
    fi
    if [ -z "$ep_dev" ]; then
        say "ephemeral0: no ephemeral disk found, nothing mounted"
        return 0
    fi
    ep_type=$(fs_type "$ep_dev")
    if [ -z "$ep_type" ]; then
        # Format only a disk that carries nothing blkid knows (exit 2): no
        # file system, no partition table, no RAID or LVM signature.
        blkid -p "$ep_dev" >/dev/null 2>&1
        if [ $? -ne 2 ] || [ "$ep_mapped" != yes ]; then
            say "ephemeral0: $ep_dev holds no file system blkid can name, not mounted"
            return 0
        fi
        # ext4 with lazy initialisation formats even a large disk in seconds.
        if ! mke2fs -t ext4 -q -L ephemeral0 -E lazy_itable_init=1,lazy_journal_init=1 "$ep_dev" </dev/null >/dev/null 2>&1; then
            say "ephemeral0: could not format the blank disk $ep_dev, not mounted"
            return 0
        fi
        say "ephemeral0: formatted the blank disk $ep_dev as ext4"
    elif [ "$ep_type" = swap ]; then
        say "ephemeral0: $ep_dev is swap space, not mounted"
        return 0
    fi
    if ! mkdir -p "$EPHEMERAL_MOUNT"; then
        say "ephemeral0: could not create $EPHEMERAL_MOUNT, not mounted"
        return 0
    fi
    # Mounting over files would hide them.
    if ! mount_point_empty; then
        say "ephemeral0: $EPHEMERAL_MOUNT is not empty, $ep_dev not mounted"
        return 0
    fi
    if mount "$ep_dev" "$EPHEMERAL_MOUNT" >/dev/null 2>&1; then
        say "ephemeral0: mounted $ep_dev at $EPHEMERAL_MOUNT"
    else
        say "ephemeral0: could not mount $ep_dev at $EPHEMERAL_MOUNT"
    fi
    return 0
}
"""

_SWAP = """
do_swap() {
    sw_dev=
    if md_get meta-data/block-device-mapping/swap "$WORK/swap"; then
        if sw_try=$(find_dev "$(first_word "$WORK/swap")") && [ "$(fs_type "$sw_try")" = swap ]; then
            sw_dev=$sw_try
        fi
    fi
    if [ -z "$sw_dev" ]; then
        # No swap in the mapping: any disk whose signature says swap.
        blkid -t TYPE=swap -o device >"$WORK/swaps" 2>/dev/null
        while IFS= read -r sw_try; do
            if [ -b "$sw_try" ] && [ "$(fs_type "$sw_try")" = swap ]; then
                sw_dev=$(readlink -f "$sw_try")
                break
            fi
        done <"$WORK/swaps"
    fi
    if [ -z "$sw_dev" ]; then
        say "swap: none offered"
        return 0
    fi
    if [ -r "$PROC_SWAPS" ] && awk -v d="$sw_dev" '$1 == d { f = 1 } END { exit !f }' "$PROC_SWAPS"; then
        say "swap: $sw_dev already in use"
    elif swapon "$sw_dev" >/dev/null 2>&1; then
        say "swap: enabled $sw_dev"
    else
        say "swap: could not enable $sw_dev"
    fi
    return 0
}
"""

_HOSTNAME = """
do_hostname() {
    md_get meta-data/local-hostname "$WORK/hostname"
    case $? in
        1) say "hostname: the metadata service offers none, left as it is"; return 0 ;;
        2) say "hostname: no answer for it, left as it is"; return 0 ;;
    esac
    hn_full=$(first_word "$WORK/hostname")
    hn_short=${hn_full%%.*}
    # Only host-name characters reach the system (and the log): letters,
    # digits, dots between labels, hyphens inside them.
    case $hn_full in
        ''|*[!A-Za-z0-9.-]*|.*|*..*)
            say "hostname: the metadata service's name is not a valid host name, left as it is"; return 0 ;;
        *[!0-9.]*) ;;
        *) say "hostname: the metadata service gives an address, not a name, left as it is"; return 0 ;;
    esac
    case $hn_short in
        -*|*-)
            say "hostname: the metadata service's name is not a valid host name, left as it is"; return 0 ;;
    esac
    if [ "${#hn_full}" -gt 253 ] || [ "${#hn_short}" -gt 63 ]; then
        say "hostname: the metadata service's name is too long, left as it is"
        return 0
    fi
    if hostname "$hn_short" >/dev/null 2>&1 && printf '%s\\n' "$hn_short" >"$HOSTNAME_FILE"; then
        say "hostname: set to $hn_short (local-hostname $hn_full)"
    else
        say "hostname: could not set it to $hn_short"
    fi
    return 0
}
"""

_USER_DATA = """
do_user_data() {
    md_get user-data "$WORK/user-data"
    case $? in
        1) say "user-data: none"; return 0 ;;
        2) say "user-data: no answer for it, not run"; return 0 ;;
    esac
    if [ "$(head -c 2 "$WORK/user-data")" != '#!' ]; then
        say "user-data: not a script (it does not start with #!), not run"
        return 0
    fi
    # Once per boot: /run is empty at every boot, and mkdir either creates the
    # marker or fails because this boot already ran it (rc.local run again by hand).
    if ! mkdir -p "$RUN_DIR" || ! mkdir "$RUN_DIR/user-data" 2>/dev/null; then
        say "user-data: already ran this boot, not run again"
        return 0
    fi
    if ! ud_dir=$(mktemp -d "${TMPDIR:-/tmp}/emi-user-data.XXXXXX"); then
        say "user-data: no private temporary directory, not run"
        return 0
    fi
    cp "$WORK/user-data" "$ud_dir/user-data" && chmod 700 "$ud_dir/user-data"
    (umask 077 && : >>"$USER_DATA_LOG")
    # In the background, so that a long script (an upgrade, say) is neither
    # cut off by rc-local.service's start timeout nor holds up the logins
    # ordered after it, and a script that waits for a unit ordered after
    # rc.local cannot deadlock the boot.
    (
        trap '' HUP
        "$ud_dir/user-data" </dev/null >>"$USER_DATA_LOG" 2>&1
        ud_status=$?
        rm -rf "$ud_dir"
        say "user-data: ran (exit $ud_status), its output is in $USER_DATA_LOG"
    ) &
    say "user-data: started in the background, its output goes to $USER_DATA_LOG"
    return 0
}
"""

_SKIP = """
skip_steps() {
    # skip_steps WHY: every step says that it did not run, and why.
@SKIPPED@
}
"""

_MAIN_HEAD = """
main() {
    say "start"
"""

_MAIN_NOTHING = """\
    say "nothing to do: every metadata option is off"
"""

_MAIN_METADATA = """\
    if ! command -v curl >/dev/null 2>&1; then
        skip_steps "curl is not installed"
    elif ! WORK=$(mktemp -d "${TMPDIR:-/tmp}/emi-rc.local.XXXXXX"); then
        skip_steps "no private temporary directory"
    elif ! wait_for_metadata; then
        skip_steps "no answer from the metadata service at $MD_URL"
        rm -rf "$WORK"
    else
        say "metadata: the service at $MD_URL answers"
@STEPS@
        rm -rf "$WORK"
    fi
"""

_MAIN_TAIL = """\
    say "done"
    return 0
}

# In a subshell, so that not even a shell error inside can change the exit status.
(main "$@")
exit 0
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
    functions = _SAY
    # (the step's name in the log, the function main calls)
    steps: list[tuple[str, str]] = []
    if _needs_metadata(metadata):
        settings += _SETTINGS_METADATA
        functions += _METADATA_FUNCTIONS
    if metadata.hostname or metadata.swap or metadata.ephemeral0:
        functions += _FIRST_WORD
    if metadata.hostname:
        settings += _SETTINGS_HOSTNAME
        functions += _HOSTNAME
        steps.append(("hostname", "do_hostname"))
    if metadata.ssh_key != "none":
        functions += _SSH_FUNCTIONS
        if metadata.ssh_key == "ec2-user":
            settings += _SETTINGS_EC2_USER
            functions += _SSH_EC2_USER
        else:
            functions += _SSH_ROOT
        steps.append(("ssh-key", "do_ssh_key"))
    if metadata.swap or metadata.ephemeral0:
        settings += _SETTINGS_DISKS
        functions += _DISK_FUNCTIONS
    # Swap before ephemeral0, so that the swap disk is in use by the time
    # ephemeral0 looks for a free one.
    if metadata.swap:
        functions += _SWAP
        steps.append(("swap", "do_swap"))
    if metadata.ephemeral0:
        settings += _SETTINGS_EPHEMERAL
        functions += _EPHEMERAL
        steps.append(("ephemeral0", "do_ephemeral0"))
    if metadata.user_data:
        settings += _SETTINGS_USER_DATA
        functions += _USER_DATA
        steps.append(("user-data", "do_user_data"))

    main = _MAIN_HEAD
    if steps:
        skipped = "\n".join(f'    say "{name}: skipped, $1"' for name, _ in steps)
        functions += _SKIP.replace("@SKIPPED@", skipped)
        calls = "\n".join(f"        {function}" for _, function in steps)
        main += _MAIN_METADATA.replace("@STEPS@", calls)
    else:
        main += _MAIN_NOTHING
    main += _MAIN_TAIL

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
