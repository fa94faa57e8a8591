#@ rc.local: the grow-root step (metadata option grow_root). When the cloud
#@ gives the instance a root disk larger than the image, the root filesystem
#@ grows online to fill it. The image has no partition table, so there is no
#@ partition to grow first (no growpart). Needs no metadata service.
#@ Included by rc.local.sh.
size_words() {
    # size_words BYTES: "1.3 GB", "600.0 MB": binary units, the one unit style of emi-tui.
    awk -v b="$1" 'BEGIN {
        split("B KB MB GB TB", unit, " ")
        i = 1
        while (b >= 1024 && i < 5) { b /= 1024; i++ }
        if (i <= 2) printf "%.0f %s\n", b, unit[i]; else printf "%.1f %s\n", b, unit[i]
    }'
}

fs_bytes() {
    # fs_bytes DEV: the size of the ext file system on DEV (block count x block size), from its superblock.
    dumpe2fs -h "$1" 2>/dev/null | awk -F: '
        $1 == "Block count" { count = $2 + 0 }
        $1 == "Block size" { size = $2 + 0 }
        END { if (count > 0 && size > 0) printf "%.0f\n", count * size; else exit 1 }'
}

grow_root() {
    # The device number and type of the file system mounted at / (mountinfo:
    # field 3 is major:minor, the type follows the "-" separator). The number
    # also finds the disk when the kernel calls it /dev/root.
    gr_found=$(awk '$5 == "/" {
        for (i = 7; i < NF; i++) if ($i == "-") { dev = $3; type = $(i + 1); break }
    } END { if (dev != "") print dev, type }' "$PROC_MOUNTINFO" 2>/dev/null)
    gr_majmin=${gr_found% *}
    gr_type=${gr_found#* }
    case $gr_type in
        ext2|ext3|ext4) ;;
        '') say "grow-root: cannot tell which disk holds /, not grown"; return 0 ;;
        *) say "grow-root: / is $gr_type, not an ext file system, not grown"; return 0 ;;
    esac
    case $gr_majmin in
        ''|*[!0-9:]*) say "grow-root: cannot tell which disk holds /, not grown"; return 0 ;;
    esac
    gr_sys=$SYS_DEV_BLOCK/$gr_majmin
    gr_name=$(awk -F= '$1 == "DEVNAME" { print $2 }' "$gr_sys/uevent" 2>/dev/null)
    gr_sectors=$(cat "$gr_sys/size" 2>/dev/null)
    case $gr_name in
        ''|*[!A-Za-z0-9_.-]*|.*) say "grow-root: cannot find the disk of / ($gr_majmin), not grown"; return 0 ;;
    esac
    case $gr_sectors in
        ''|*[!0-9]*) say "grow-root: cannot read the size of $gr_name, not grown"; return 0 ;;
    esac
    gr_dev=$DEV_DIR/$gr_name
    if [ ! -e "$gr_dev" ]; then
        say "grow-root: $gr_dev does not exist, not grown"
        return 0
    fi
    if ! command -v resize2fs >/dev/null 2>&1 || ! command -v dumpe2fs >/dev/null 2>&1; then
        say "grow-root: resize2fs or dumpe2fs is missing (e2fsprogs), not grown"
        return 0
    fi
    if ! gr_before=$(fs_bytes "$gr_dev"); then
        say "grow-root: cannot read the file system of / on $gr_dev, not grown"
        return 0
    fi
    # /sys counts 512-byte sectors, whatever the disk's own sector size.
    gr_disk=$((gr_sectors * 512))
    # A few MB of slack is left alone: the image itself is never quite a whole number of blocks.
    if [ "$gr_disk" -le $((gr_before + GROW_MIN)) ]; then
        say "grow-root: / already fills $gr_dev ($(size_words "$gr_before")), nothing to grow"
        return 0
    fi
    # Online: the kernel grows the mounted file system in place. It writes the
    # new groups' metadata, so this takes seconds for a few GB.
    if ! resize2fs "$gr_dev" >/dev/null 2>&1; then
        say "grow-root: resize2fs could not grow / on $gr_dev, it stays $(size_words "$gr_before")"
        return 0
    fi
    gr_after=$(fs_bytes "$gr_dev") || gr_after=$gr_before
    say "grow-root: $(size_words "$gr_before") -> $(size_words "$gr_after") (/ on $gr_dev)"
    return 0
}
