#!/bin/sh
# emi-tui's setup hook for mmdebstrap: runs in the new root ($1) before any
# package is unpacked or any index is downloaded. Paths come from the
# environment, so the hook's command line never holds anything but constants.
set -eu
root=$1

# Masked before the kernel is installed, so the initramfs keeps the kernel's
# NIC name (eth0, which /etc/network/interfaces configures).
mkdir -p "$root/etc/systemd/network"
ln -s /dev/null "$root/etc/systemd/network/99-default.link"

# The InRelease and Packages index preflight downloaded and checked, under
# apt's own names: apt fetches InRelease again, finds the Packages file it
# lists with the right hash, and downloads no index a second time.
if [ -n "${EMI_TUI_SEED_LISTS:-}" ]; then
  mkdir -p "$root/var/lib/apt/lists"
  cp -p -- "$EMI_TUI_SEED_LISTS"/* "$root/var/lib/apt/lists/"
fi
