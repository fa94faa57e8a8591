#@ rc.local: say, the one way the script reports, in every rc.local.
#@ Included by rc.local.sh.
say() {
    # say TEXT: one greppable line. Under systemd stdout already is the journal
    # and the console (see the rc-local.service drop-in), so writing them again
    # would only print every line twice.
    printf '%s: %s\n' "$TAG" "$*"
    if [ -z "${JOURNAL_STREAM:-}" ]; then
        if [ -w "$CONSOLE" ]; then
            printf '%s: %s\n' "$TAG" "$*" >>"$CONSOLE" 2>/dev/null
        fi
        if command -v logger >/dev/null 2>&1; then
            logger -t "$TAG" -- "$*" 2>/dev/null
        fi
    fi
    return 0
}
