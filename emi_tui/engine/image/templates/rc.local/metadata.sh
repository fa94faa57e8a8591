#@ rc.local: talking to the metadata service (bounded requests, the first
#@ contact's wait), and first_word for the steps that read a one-word answer.
#@ Included by rc.local.sh when any option needs the metadata service.
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
    curl -s -g --noproxy '*' --connect-timeout @@CONNECT_TIMEOUT@@ --max-time @@MAX_TIME@@ "$@"
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
    mg_code=$(md_curl --retry @@FETCH_RETRIES@@ --retry-delay @@RETRY_DELAY@@ -o "$2" -w '%{http_code}' "$MD_URL/latest/$1") || mg_code=000
    case $mg_code in
        200) return 0 ;;
        404) return 1 ;;
        *) return 2 ;;
    esac
}
#@if first_word

first_word() {
    # first_word FILE: the first line of FILE without blanks (metadata values end in CR/LF or nothing).
    head -n 1 "$1" | tr -d '[:space:]'
}
#@end
