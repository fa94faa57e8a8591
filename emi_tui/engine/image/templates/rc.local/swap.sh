#@ rc.local: the swap step (metadata option swap).
#@ Included by rc.local.sh.
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
