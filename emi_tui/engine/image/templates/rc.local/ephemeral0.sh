#@ rc.local: the ephemeral0 step (metadata option ephemeral0).
#@ Included by rc.local.sh.
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
        for ep_name in @@EPHEMERAL_FALLBACK@@; do
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
