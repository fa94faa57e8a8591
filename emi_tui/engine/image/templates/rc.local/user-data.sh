#@ rc.local: the user-data step (metadata option user_data).
#@ Included by rc.local.sh.
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
