#!/bin/sh
#@ Template of the image's /etc/rc.local, rendered by rclocal.render_rc_local
#@ (emi_tui/engine/image/), one script per set of metadata options. This file is
#@ the script's skeleton: its header, its settings, which step functions from
#@ rc.local/ it takes, and main. Each "#@if FLAG" ... "#@end" section is there
#@ only when the options need it (the flags: rclocal._sections); @@NAME@@ is a
#@ value, shell-quoted. The syntax is described in templates.py.
# /etc/rc.local of an EMI, written by emi-tui. At each boot it asks the
# metadata service for what this instance should get, and logs one line per
# step, "emi-rc.local: <step>: <what happened>", to the console and syslog
# (journalctl -t emi-rc.local, or grep emi-rc.local in the system log).
# It never holds the boot up for long: every request is bounded in time,
# no step that needs the service acts without its answer, and it always exits 0.
#
# Generated with these metadata options; options that are off left no code here:
#   url:        @@URL@@
#   ssh_key:    @@SSH_KEY@@
#   ephemeral0: @@EPHEMERAL0@@
#   swap:       @@SWAP@@
#   user_data:  @@USER_DATA@@
#   hostname:   @@HOSTNAME@@
#   grow_root:  @@GROW_ROOT@@
#
# Regenerate it with emi-tui rather than edit it by hand.

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
# Directories made here are readable by all; secret files set their own modes.
umask 022

# Settings: the service, the bounds, and every path this script reads or writes.
#@ The tests run this script in a sandbox by pointing these paths elsewhere:
#@ a path the script uses belongs here, not in a function.
TAG=@@TAG@@
CONSOLE=/dev/console
#@if metadata
MD_URL=@@MD_URL@@
CONTACT_BUDGET=@@CONTACT_BUDGET@@
CONTACT_TRIES=@@CONTACT_TRIES@@
CONTACT_PAUSE=@@CONTACT_PAUSE@@
TOKEN_TTL=@@TOKEN_TTL@@
TOKEN_MAX_TIME=@@TOKEN_MAX_TIME@@
#@end
#@if hostname
HOSTNAME_FILE=/etc/hostname
#@end
#@if ssh_ec2_user
SUDOERS_DIR=/etc/sudoers.d
#@end
#@if dev_dir
DEV_DIR=/dev
#@end
#@if disks
PROC_SWAPS=/proc/swaps
#@end
#@if mountinfo
PROC_MOUNTINFO=/proc/self/mountinfo
#@end
#@if ephemeral0
SYS_BLOCK=/sys/class/block
EPHEMERAL_MOUNT=@@EPHEMERAL_MOUNT@@
#@end
#@if grow_root
SYS_DEV_BLOCK=/sys/dev/block
GROW_MIN=@@GROW_MIN@@
#@end
#@if user_data
RUN_DIR=@@RUN_DIR@@
USER_DATA_LOG=@@USER_DATA_LOG@@
#@end

#@include rc.local/say.sh
#@if grow_root

#@include rc.local/grow-root.sh
#@end
#@if metadata

#@include rc.local/metadata.sh
#@end
#@if hostname

#@include rc.local/hostname.sh
#@end
#@if ssh_key

#@include rc.local/ssh-key.sh
#@end
#@if disks

#@include rc.local/disks.sh
#@end
#@if swap

#@include rc.local/swap.sh
#@end
#@if ephemeral0

#@include rc.local/ephemeral0.sh
#@end
#@if user_data

#@include rc.local/user-data.sh
#@end
#@if metadata

skip_steps() {
    # skip_steps WHY: every step says that it did not run, and why.
#@if hostname
    say "hostname: skipped, $1"
#@end
#@if ssh_key
    say "ssh-key: skipped, $1"
#@end
#@if swap
    say "swap: skipped, $1"
#@end
#@if ephemeral0
    say "ephemeral0: skipped, $1"
#@end
#@if user_data
    say "user-data: skipped, $1"
#@end
}
#@end

main() {
    say "start"
#@ First, and whatever the metadata service does: it needs no answer from it.
#@if grow_root
    grow_root
#@end
#@if metadata
    if ! command -v curl >/dev/null 2>&1; then
        skip_steps "curl is not installed"
    elif ! WORK=$(mktemp -d "${TMPDIR:-/tmp}/emi-rc.local.XXXXXX"); then
        skip_steps "no private temporary directory"
    elif ! wait_for_metadata; then
        skip_steps "$MD_FAILED"
        rm -rf "$WORK"
    else
        say "metadata: the service at $MD_URL answers, $MD_MODE ($MD_HOW)"
#@if hostname
        do_hostname
#@end
#@if ssh_key
        do_ssh_key
#@end
#@ Swap before ephemeral0, so that the swap disk is in use by the time
#@ ephemeral0 looks for a free one.
#@if swap
        do_swap
#@end
#@if ephemeral0
        do_ephemeral0
#@end
#@if user_data
        do_user_data
#@end
        rm -rf "$WORK"
    fi
#@else
#@if grow_root
    say "metadata: not asked, no option needs it"
#@else
    say "nothing to do: every metadata option is off"
#@end
#@end
    say "done"
    return 0
}

# In a subshell, so that not even a shell error inside can change the exit status.
#@ The tests source everything above the next two lines and call main themselves.
(main "$@")
exit 0
