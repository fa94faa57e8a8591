"""Where emi-tui puts things inside an image, shared by the build, review and modify."""

IMAGE_ID = "etc/image-id"
ANSWERS = "etc/emi-tui/answers.yaml"
HISTORY_DIR = "etc/emi-tui/history"
RC_LOCAL = "etc/rc.local"
UDEV_RULE = "etc/udev/rules.d/70-euca-udev.rules"
EUCA_UDEV = "sbin/euca-udev"
FSTAB = "etc/fstab"
MACHINE_ID = "etc/machine-id"
HOSTKEY_UNIT_NAME = "emi-regenerate-ssh-host-keys.service"
HOSTKEY_UNIT = f"etc/systemd/system/{HOSTKEY_UNIT_NAME}"
HOSTKEY_UNIT_LINK = f"etc/systemd/system/multi-user.target.wants/{HOSTKEY_UNIT_NAME}"
RC_LOCAL_UNIT_DROPIN = "etc/systemd/system/rc-local.service.d/emi-tui.conf"
ROOT_HISTORY = ("root/.bash_history", "root/.sh_history", "root/.ash_history", "root/.zsh_history")
PACKAGE_CACHES = ("var/cache/apt/archives", "var/cache/yum", "var/cache/dnf")
EPHEMERAL_MOUNT = "media/ephemeral0"
#: The filesystem label of the root; the kernel command line says root=LABEL=<this>.
ROOT_LABEL = "cloudimg-rootfs"
