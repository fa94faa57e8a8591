"""The shell of rc.local, part 2: ephemeral0, swap, hostname, user-data and main.

rclocal.render_rc_local stitches these fragments together; they are plain sh
(checked by sh -n and shellcheck in the tests), with {PLACEHOLDERS} it fills.
"""

# fmt: off
EPHEMERAL = """
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

SWAP = """
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

HOSTNAME = """
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

USER_DATA = """
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

SKIP = """
skip_steps() {
    # skip_steps WHY: every step says that it did not run, and why.
@SKIPPED@
}
"""

MAIN_HEAD = """
main() {
    say "start"
"""

MAIN_NOTHING = """\
    say "nothing to do: every metadata option is off"
"""

MAIN_METADATA = """\
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

MAIN_TAIL = """\
    say "done"
    return 0
}

# In a subshell, so that not even a shell error inside can change the exit status.
(main "$@")
exit 0
"""
