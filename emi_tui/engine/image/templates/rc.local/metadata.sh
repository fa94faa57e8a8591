#@ rc.local: talking to the metadata service as cloud-init's EC2 datasource
#@ does (an IMDSv2 session token first, plain IMDSv1 requests when the
#@ service has no tokens), bounded in time and size, the first contact's
#@ wait, and first_word for the steps that read a one-word answer.
#@ Included by rc.local.sh when any option needs the metadata service.
#@
#@ The token travels in a curl config file (-K) in the private $WORK folder,
#@ not as -H on the command line: an argument is visible in ps to every local
#@ user. -K works with every curl an image may carry; -H @FILE needs 7.55.
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
    # -q (it must come first): no .curlrc can loosen these bounds.
    curl -q -s -g --noproxy '*' --connect-timeout @@CONNECT_TIMEOUT@@ --max-time @@MAX_TIME@@ "$@"
}

md_request() {
    # md_request MAX FILE CURL-ARGUMENTS...: one request, its body into FILE
    # (in $WORK). Sets MD_CODE to the HTTP status, 000 when no whole answer
    # came, "big" when the body is larger than MAX bytes.
    mr_max=$1
    mr_file=$2
    shift 2
    : >"$mr_file"
    # --max-filesize refuses a body whose announced length is too large; curl
    # before 8.4 does not count one that comes unannounced, so the file-size
    # limit stops that one (curl is killed past it, quietly: 2>/dev/null).
    MD_CODE=$(
        {
            ulimit -f $((mr_max / 512 + 1))
            md_curl --max-filesize "$mr_max" -o "$mr_file" -w '%{http_code}' "$@"
        } 2>/dev/null
    )
    mr_status=$?
    if [ "$mr_status" -eq 63 ] || [ "$(wc -c <"$mr_file")" -gt "$mr_max" ]; then
        MD_CODE=big
    elif [ "$mr_status" -ne 0 ]; then
        MD_CODE=000
    fi
}

md_new_token() {
    # A new IMDSv2 session token for TOKEN_TTL seconds. Returns 0 when one is
    # stored (the mode is IMDSv2 from then on), 1 when not: MD_CODE says why
    # (the token request's HTTP status, 000 no answer in time, bad no token).
    # The token's time starts when it is asked for, not when it arrives.
    nt_at=$(now)
    md_request @@TOKEN_MAX_BYTES@@ "$WORK/token" -X PUT \
        -H "X-aws-ec2-metadata-token-ttl-seconds: $TOKEN_TTL" --max-time "$TOKEN_MAX_TIME" \
        "$MD_URL/latest/api/token"
    [ "$MD_CODE" = 200 ] || return 1
    nt_token=$(cat "$WORK/token")
    # Only token characters: the value goes into a curl config line.
    case $nt_token in
        ''|*[!A-Za-z0-9+/=_.-]*) MD_CODE=bad; return 1 ;;
    esac
    (umask 077 && printf 'header = "X-aws-ec2-metadata-token: %s"\n' "$nt_token" >"$WORK/token.conf") || return 1
    MD_AUTH=$WORK/token.conf
    MD_MODE=IMDSv2
    MD_TOKEN_AT=$nt_at
    return 0
}

md_contact() {
    # One try at the service, as cloud-init's EC2 datasource makes it: a
    # session token first; plain IMDSv1 when the token request fails with any
    # error but 400, or gets no answer in time. Returns 0 when the meta-data
    # index answered (MD_MODE, MD_HOW say how), 1 when not (yet), 2 when the
    # token request got a 400.
    MD_MODE=IMDSv1
    MD_AUTH=/dev/null
    if md_new_token; then
        MD_HOW="with a session token"
    elif [ "$MD_CODE" = 400 ]; then
        # No fallback: a 400 comes from a service that has tokens and found
        # our token request malformed (a TTL out of range, or a proxy that
        # added X-Forwarded-For); token-less requests would hide that, and a
        # service that requires tokens would refuse them anyway.
        return 2
    else
        case $MD_CODE in
            000) MD_HOW="its token request got no answer" ;;
            bad) MD_HOW="its token request returned no token" ;;
            big) MD_HOW="its token request returned too much" ;;
            *) MD_HOW="its token request got HTTP $MD_CODE" ;;
        esac
    fi
    md_request @@VALUE_MAX_BYTES@@ "$WORK/contact" -K "$MD_AUTH" "$MD_URL/latest/meta-data/"
    [ "$MD_CODE" = 200 ]
}

wait_for_metadata() {
    # The network may still be coming up: ask again until the budget is spent.
    # Returns 1 with MD_FAILED saying why the service cannot be used.
    wm_start=$(now)
    wm_try=1
    MD_FAILED="no answer from the metadata service at $MD_URL"
    while :; do
        md_contact
        case $? in
            0) return 0 ;;
            2) MD_FAILED="the metadata service at $MD_URL refused the token request (HTTP 400), no fallback to IMDSv1"
               return 1 ;;
        esac
        wm_now=$(now)
        if [ $((wm_now - wm_start)) -ge "$CONTACT_BUDGET" ] || [ "$wm_try" -ge "$CONTACT_TRIES" ]; then
            return 1
        fi
        wm_try=$((wm_try + 1))
        sleep "$CONTACT_PAUSE"
    done
}

md_fetch() {
    # md_fetch PATH FILE MAX: one GET of latest/PATH, retried while the
    # service is busy or slow (not on 401: that needs a new token).
    md_request "$3" "$2" -K "$MD_AUTH" --retry @@FETCH_RETRIES@@ --retry-delay @@RETRY_DELAY@@ "$MD_URL/latest/$1"
}

md_get() {
    # md_get PATH FILE: latest/PATH into FILE. Returns 0 when fetched, 1 when
    # the service has no such entry (404), 2 when it did not answer (or its
    # answer is larger than the bound for PATH).
    mg_max=@@VALUE_MAX_BYTES@@
    case $1 in
        user-data) mg_max=@@USER_DATA_MAX_BYTES@@ ;;
        meta-data/public-keys/*) mg_max=@@KEY_MAX_BYTES@@ ;;
    esac
    if [ "$MD_MODE" = IMDSv2 ]; then
        mg_now=$(now)
        if [ $((mg_now - MD_TOKEN_AT)) -ge "$TOKEN_TTL" ] && md_new_token; then
            say "metadata: the session token's time was up, got a new one"
        fi
    fi
    md_fetch "$1" "$2" "$mg_max"
    # 401: the service no longer takes the token (it restarted, or the clock
    # jumped at boot), or it has started to require one: one new token, once.
    if [ "$MD_CODE" = 401 ]; then
        mg_was=$MD_MODE
        if md_new_token; then
            if [ "$mg_was" = IMDSv2 ]; then
                say "metadata: the service refused the session token, got a new one"
            else
                say "metadata: the service asks for a session token now, got one (IMDSv2)"
            fi
            md_fetch "$1" "$2" "$mg_max"
        else
            MD_CODE=401
        fi
    fi
    case $MD_CODE in
        200) return 0 ;;
        404) return 1 ;;
        big) say "metadata: the answer for $1 is larger than $mg_max bytes, not used"; return 2 ;;
        *) return 2 ;;
    esac
}
#@if first_word

first_word() {
    # first_word FILE: the first line of FILE without blanks (metadata values end in CR/LF or nothing).
    head -n 1 "$1" | tr -d '[:space:]'
}
#@end
