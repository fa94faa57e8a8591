#!/bin/sh
#@ Template of the image's /sbin/euca-udev (mode 0755, only when the metadata
#@ option udev_xvd or udev_vd is on), rendered by files.render_euca_udev; no values.
# Written by emi-tui. Called by /etc/udev/rules.d/70-euca-udev.rules as
# "euca-udev KERNEL-NAME"; prints the sd* name of an xvd* or vd* disk or
# partition (xvda -> sda, xvdb1 -> sdb1, vdb -> sdb) and any other name unchanged.
if [ "$#" -ne 1 ]; then
    echo "usage: $0 KERNEL-NAME (for example xvda1 or vdb)" >&2
    exit 1
fi
case $1 in
    xvd[a-z]*) rest=${1#xvd} ;;
    vd[a-z]*) rest=${1#vd} ;;
    *) rest= ;;
esac
case $rest in
    ''|*[!a-z0-9]*) printf '%s\n' "$1" ;;
    *) printf 'sd%s\n' "$rest" ;;
esac
