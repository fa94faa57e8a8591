#!/bin/sh
# Install the Debian packages emi-tui and its tests use, only those missing.
# Builds need mmdebstrap (or debootstrap, its fallback and the tests' reference), gpgv, mke2fs, zerofree, tar and a compressor; boot tests
# need QEMU (qemu-system-arm and qemu-user-static for the aarch64 benchmark); the rc.local tests use shellcheck; screenshots and TUI tests use tmux;
# the chroot containment test builds a tiny root from busybox-static; the man page test runs groff (groff-base); the completion tests load the scripts in zsh and fish.
set -eu
PACKAGES="mmdebstrap debootstrap gpgv e2fsprogs zerofree tar gzip pigz zstd xz-utils
  qemu-system-x86 qemu-system-arm qemu-user-static qemu-utils shellcheck tmux python3 python3-venv python3-pip
  debian-archive-keyring ca-certificates curl git make util-linux mount openssh-client librsvg2-bin busybox-static
  groff-base zsh fish"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing:$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
