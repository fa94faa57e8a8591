#@ rc.local: the hostname step (metadata option hostname).
#@ Included by rc.local.sh.
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
    if hostname "$hn_short" >/dev/null 2>&1 && printf '%s\n' "$hn_short" >"$HOSTNAME_FILE"; then
        say "hostname: set to $hn_short (local-hostname $hn_full)"
    else
        say "hostname: could not set it to $hn_short"
    fi
    return 0
}
