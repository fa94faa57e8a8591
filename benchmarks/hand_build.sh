#!/bin/sh
# The default debian-based EMI built the way an operator would by hand: the
# baseline benchmarks/peer_bench.py measures emi-tui's build against.
#
#   hand_build.sh MIRROR RELEASE OUTPUT_TARBALL PACKAGES
#
# PACKAGES is comma-separated, as mmdebstrap's --include takes it. Writes
# OUTPUT_TARBALL (NAME/NAME.img and NAME/kvm-kernel/, NAME being the tarball's
# name without .tgz) and OUTPUT_TARBALL.packages (name<TAB>version<TAB>status
# of every package in the root). Prints `phase NAME SECONDS` to stderr after
# each phase. Needs root.
set -eu

if [ "$#" -ne 4 ]; then
    echo "usage: $0 MIRROR RELEASE OUTPUT_TARBALL PACKAGES" >&2
    exit 2
fi
mirror=$1
release=$2
output=$3
packages=$4
name=$(basename -- "$output" .tgz)
# emi-tui's 1.3G in binary units: int(1.3 * 1024^3) bytes = 1395864371, // 1024 = 1363148 KiB.
size=1363148k

work=$(mktemp -d /dev/shm/hand-build.XXXXXX)
cleanup() {
    # --one-file-system: never reach through a mount into the host.
    rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT
# A signal ends the script through `exit`, which runs the EXIT trap above.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

root=$work/root
staging=$work/staging
image=$staging/$name/$name.img

started=$(date +%s.%N)
phase() {
    now=$(date +%s.%N)
    awk -v phase="$1" -v now="$now" -v then="$started" 'BEGIN { printf "phase %s %.2f\n", phase, now - then }' >&2
    started=$now
}

# The hook is mmdebstrap's merged-/usr setup (its manual's advice for bookworm): without it
# apt picks usrmerge (and perl) where debootstrap sets up merged-/usr itself, and the two
# sides would not install the same packages. (Its maybe-merged-usr variant would first run
# one more apt-get update, to learn that bookworm has usr-is-merged: a cost this script need
# not pay.)
mmdebstrap --mode=root --variant=minbase --architectures=amd64 --components=main \
    --include="$packages" --dpkgopt=force-unsafe-io \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$release" "$root" "$mirror"
phase mmdebstrap

chroot "$root" apt-get clean
phase clean

dpkg-query --admindir="$root/var/lib/dpkg" -W \
    -f '${Package}\t${Version}\t${db:Status-Abbrev}\n' > "$output.packages"
phase list

mkdir -p -- "$staging/$name/kvm-kernel"
mke2fs -F -q -t ext3 -d "$root" "$image" "$size"
phase mke2fs

zerofree "$image"
phase zerofree

kernel=$(printf '%s\n' "$root"/boot/vmlinuz-* | sort -V | tail -n 1)
ramdisk=$(printf '%s\n' "$root"/boot/initrd.img-* | sort -V | tail -n 1)
cp -- "$kernel" "$ramdisk" "$staging/$name/kvm-kernel/"
phase kernel

# tar's own -I pigz is the same work as `tar -cf - | pigz`, but a tar that fails fails the script (sh has no pipefail).
tar --sparse --use-compress-program=pigz -cf "$output" -C "$staging" -- "$name"
phase package
