#@ rc.local: finding a disk under its sd/xvd/vd name and what it holds,
#@ for the swap and ephemeral0 steps.
#@ Included by rc.local.sh when either is on.
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
