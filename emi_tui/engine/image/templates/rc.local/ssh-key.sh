#@ rc.local: the ssh-key step (metadata option ssh_key: root or ec2-user).
#@ The key goes to root; or to ec2-user (made at first boot if missing) while
#@ root answers the same key with "login as ec2-user".
#@ Included by rc.local.sh.
install_keys() (
    # install_keys USER PREFIX KEYS: append each key line of the file KEYS,
    # PREFIX in front, to USER's authorized_keys unless that key is already
    # there (with or without options). Prints added or present.
    ik_entry=$(getent passwd "$1") || return 1
    ik_uid=$(printf '%s\n' "$ik_entry" | cut -d: -f3)
    ik_gid=$(printf '%s\n' "$ik_entry" | cut -d: -f4)
    ik_home=$(printf '%s\n' "$ik_entry" | cut -d: -f6)
    case $ik_home in
        /*) ;;
        *) return 1 ;;
    esac
    ik_dir=$ik_home/.ssh
    ik_file=$ik_dir/authorized_keys
    # Never write through a link that someone planted in a home directory.
    if [ -L "$ik_dir" ] || [ -L "$ik_file" ] || [ ! -d "$ik_home" ]; then
        return 1
    fi
    umask 077
    mkdir -p "$ik_dir" && chmod 700 "$ik_dir" && chown "$ik_uid:$ik_gid" "$ik_dir" || return 1
    touch "$ik_file" && chmod 600 "$ik_file" && chown "$ik_uid:$ik_gid" "$ik_file" || return 1
    # A file that does not end in a newline would glue our line onto its last one.
    if [ -s "$ik_file" ] && [ -n "$(tail -c 1 "$ik_file")" ]; then
        echo >>"$ik_file"
    fi
    # Files made by an init script get its SELinux label, which sshd may not read.
    if command -v restorecon >/dev/null 2>&1; then
        restorecon -R "$ik_dir" >/dev/null 2>&1
    fi
    ik_added=0
    while IFS= read -r ik_line; do
        ik_blob=$(printf '%s\n' "$ik_line" | cut -d' ' -f2)
        if grep -qF -e "$ik_blob" "$ik_file"; then
            continue
        fi
        printf '%s%s\n' "$2" "$ik_line" >>"$ik_file" || return 1
        ik_added=$((ik_added + 1))
    done <"$3"
    if [ "$ik_added" -gt 0 ]; then
        echo added
    else
        echo present
    fi
)

fetch_keys() {
    # fetch_keys FILE: the instance's OpenSSH key lines into FILE, or a say why not.
    md_get meta-data/public-keys/0/openssh-key "$WORK/key.raw"
    case $? in
        1) say "ssh-key: the metadata service offers no key, none installed"; return 1 ;;
        2) say "ssh-key: no answer for the key, none installed"; return 1 ;;
    esac
    # Only well-formed key lines: nothing else from the network reaches authorized_keys.
    tr -d '\r' <"$WORK/key.raw" | grep -E @@KEY_LINE_RE@@ >"$1"
    if [ ! -s "$1" ]; then
        say "ssh-key: the metadata service's answer holds no OpenSSH key, none installed"
        return 1
    fi
    return 0
}

report_keys() {
    # report_keys USER RESULT: the log line of one install_keys.
    case $2 in
        added) say "ssh-key: installed for $1" ;;
        present) say "ssh-key: already installed for $1" ;;
        *) say "ssh-key: could not install the key for $1" ;;
    esac
}
#@if ssh_ec2_user

ROOT_FORCED_COMMAND=@@ROOT_FORCED_COMMAND@@

ensure_ec2_user() {
    # An image built without ec2-user gets it at first boot; an account that
    # already exists keeps the sudo rights it has (none are added).
    if getent passwd ec2-user >/dev/null 2>&1; then
        return 0
    fi
    eu_shell=/bin/bash
    if [ ! -x "$eu_shell" ]; then
        eu_shell=/bin/sh
    fi
    if ! useradd -m -s "$eu_shell" ec2-user >/dev/null 2>&1; then
        say "ssh-key: could not create the account ec2-user"
        return 1
    fi
    say "ssh-key: created the account ec2-user"
    if command -v sudo >/dev/null 2>&1 && [ -d "$SUDOERS_DIR" ]; then
        eu_sudoers=$SUDOERS_DIR/ec2-user
        (umask 337 && printf '%s\n' 'ec2-user ALL=(ALL) NOPASSWD:ALL' >"$eu_sudoers")
        # A broken sudoers file locks everyone out of sudo: keep only a valid one.
        if command -v visudo >/dev/null 2>&1 && ! visudo -cqf "$eu_sudoers" >/dev/null 2>&1; then
            rm -f "$eu_sudoers"
            say "ssh-key: sudo for ec2-user not set up (visudo rejected it)"
        else
            say "ssh-key: ec2-user may use sudo without a password"
        fi
    fi
    return 0
}

do_ssh_key() {
    fetch_keys "$WORK/keys" || return 0
    ensure_ec2_user || return 0
    report_keys ec2-user "$(install_keys ec2-user '' "$WORK/keys")"
    # Whoever tries root with that key is told to use ec2-user, and let go.
    case $(install_keys root "$ROOT_FORCED_COMMAND" "$WORK/keys") in
        added) say "ssh-key: root answers that key with \"login as ec2-user\"" ;;
        present) ;;
        *) say "ssh-key: could not set root's \"login as ec2-user\" answer" ;;
    esac
}
#@else

do_ssh_key() {
    fetch_keys "$WORK/keys" || return 0
    report_keys root "$(install_keys root '' "$WORK/keys")"
}
#@end
