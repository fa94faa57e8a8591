"""Running a foreign architecture's programs on this workstation: qemu-user through binfmt_misc.

Bootstrapping an aarch64 image on an x86_64 workstation runs the image's own
programs (dpkg's maintainer scripts, apt, update-initramfs): the kernel hands
each one to qemu-user only when binfmt_misc has an enabled registration for
that architecture. An i386 root runs natively on x86_64, as an x86_64 one does.

emi-tui only looks at /proc/sys/fs/binfmt_misc (`emulation_problem`), unless
the operator asks it to register (`build --setup-emulation`): then it mounts
binfmt_misc if needed and registers the architecture from the line that
qemu-user-static ships in /usr/lib/binfmt.d, and says what it changed.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.runner import run_captured

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
BINFMT_CONF_DIR = Path("/usr/lib/binfmt.d")
#: The workstation's machine -> the image arches its kernel runs without emulation.
NATIVE = {"x86_64": {"x86_64", "i386"}, "i686": {"i386"}, "i386": {"i386"}, "aarch64": {"aarch64"}, "arm64": {"aarch64"}}
#: image arch -> qemu-user's name for it (the binfmt entry is qemu-<name>).
QEMU_NAMES = {"x86_64": "x86_64", "i386": "i386", "aarch64": "aarch64"}
INSTALL = "apt-get install qemu-user-static"
MOUNT_SECONDS = 30.0


@dataclass(frozen=True)
class Registration:
    """One binfmt_misc entry, as its file in binfmt_misc says."""

    name: str
    enabled: bool
    interpreter: str
    flags: str


def is_foreign(image_arch: str, machine: str | None = None) -> bool:
    """True when programs of `image_arch` need emulation on `machine` (default: this workstation's)."""
    machine = machine or platform.machine()
    return image_arch not in NATIVE.get(machine, {machine})


def qemu_name(image_arch: str) -> str:
    return QEMU_NAMES.get(image_arch, image_arch)


def read_registration(path: Path) -> Registration | None:
    """The entry at `path` (a file of binfmt_misc), or None when it is not there or cannot be read."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    fields = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
    return Registration(path.name, bool(lines) and lines[0].strip() == "enabled", fields.get("interpreter", ""), fields.get("flags:", "").strip())


def emulation_problem(image_arch: str, binfmt_dir: Path = BINFMT_DIR, machine: str | None = None) -> tuple[str, str] | None:
    """(what is missing, how to fix it) when `image_arch` cannot run here; None when it runs natively or is registered."""
    if not is_foreign(image_arch, machine):
        return None
    name, here = qemu_name(image_arch), machine or platform.machine()
    fix_register = "then register it: emi-tui build --setup-emulation ANSWERS (or systemctl restart systemd-binfmt)"
    if not (binfmt_dir / "status").is_file():
        return (f"building {image_arch} on this {here} workstation needs qemu-user emulation, "
                f"and binfmt_misc is not mounted at {binfmt_dir}", f"{INSTALL}, {fix_register}")
    entry = read_registration(binfmt_dir / f"qemu-{name}")
    if entry is None:
        return (f"building {image_arch} on this {here} workstation needs qemu-user emulation: "
                f"no qemu-{name} is registered in {binfmt_dir}", f"{INSTALL}, {fix_register}")
    if not entry.enabled:
        return f"the qemu-{name} emulation is registered but disabled in {binfmt_dir}", f"echo 1 > {binfmt_dir / entry.name}, or emi-tui build --setup-emulation ANSWERS"
    if "F" not in entry.flags and not Path(entry.interpreter).is_file():
        return (f"the qemu-{name} emulation's interpreter {entry.interpreter} is not installed",
                f"{INSTALL}, {fix_register}")
    return None


def emulation_note(image_arch: str, binfmt_dir: Path = BINFMT_DIR, machine: str | None = None) -> str:
    """One line saying how `image_arch`'s programs run here (for the build log and the readiness check)."""
    if not is_foreign(image_arch, machine):
        return f"{image_arch} runs natively on this {machine or platform.machine()} workstation"
    entry = read_registration(binfmt_dir / f"qemu-{qemu_name(image_arch)}")
    where = f"{entry.interpreter}, flags {entry.flags or 'none'}" if entry else "not registered"
    return f"{image_arch} runs under qemu-user emulation ({where}): expect the bootstrap to take several times longer"


def setup_emulation(image_arch: str, binfmt_dir: Path = BINFMT_DIR, conf_dir: Path = BINFMT_CONF_DIR,
                    machine: str | None = None, mount: bool = True) -> list[str]:
    """Register `image_arch`'s qemu-user emulation (`--setup-emulation`): what was changed, one line each.

    Mounts binfmt_misc when it is not (and `mount`), enables a disabled entry,
    or registers the line qemu-user-static ships as conf_dir/qemu-<arch>.conf.
    Nothing is changed when the arch runs natively or is registered already.
    """
    if not is_foreign(image_arch, machine):
        return [f"nothing changed: {image_arch} runs natively here"]
    name = qemu_name(image_arch)
    changed: list[str] = []
    if not (binfmt_dir / "register").exists():
        if not mount:
            raise EmiError(f"binfmt_misc is not mounted at {binfmt_dir}", hint=f"mount -t binfmt_misc binfmt_misc {binfmt_dir}")
        done = run_captured(["mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt_dir)], timeout=MOUNT_SECONDS)
        if not done.ok:
            raise EmiError(f"could not mount binfmt_misc at {binfmt_dir}: {(done.stderr or done.stdout).strip()[:200]}",
                           hint="load the binfmt_misc module (modprobe binfmt_misc), or run emi-tui on the host, not in a container")
        changed.append(f"mounted binfmt_misc at {binfmt_dir}")
    entry_path = binfmt_dir / f"qemu-{name}"
    entry = read_registration(entry_path)
    if entry is not None and entry.enabled:
        nothing = "nothing else changed" if changed else "nothing changed"
        return changed + [f"{nothing}: qemu-{name} is registered and enabled ({entry.interpreter}, flags {entry.flags or 'none'})"]
    if entry is not None:
        entry_path.write_text("1")
        return changed + [f"enabled the registered qemu-{name} ({entry_path})"]
    conf = conf_dir / f"qemu-{name}.conf"
    try:
        line = conf.read_text().strip()
    except OSError:
        raise EmiError(f"{conf} is not there, so there is no qemu-{name} emulation to register", hint=INSTALL) from None
    interpreter = line.split(":")[6] if line.count(":") >= 7 else ""
    if not line.startswith(f":qemu-{name}:") or not Path(interpreter).is_file():
        raise EmiError(f"{conf} does not register an installed qemu-{name} interpreter", hint=f"reinstall it: {INSTALL} --reinstall")
    (binfmt_dir / "register").write_text(line + "\n")
    return changed + [f"registered qemu-{name} in {binfmt_dir} from {conf} (interpreter {interpreter}, flags {line.rsplit(':', 1)[-1]})"]
