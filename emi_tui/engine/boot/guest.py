"""What a boot test needs from an artifact, and how it talks to the guest."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.artifact.extract import extract_surveyed
from emi_tui.engine.artifact.kinds import BUILT_SUFFIXES, SUFFIX_LIST, is_image, tarball_kind
from emi_tui.engine.artifact.read import ImageReadError, read_from_image, superblock
from emi_tui.engine.artifact.survey import survey_artifact
from emi_tui.engine.errors import EmiError
from emi_tui.engine.image import layout


@dataclass
class GuestFiles:
    image: Path
    kernel: Path
    ramdisk: Path
    label: str
    #: The image's architecture (image_arch of its /etc/image-id): which QEMU boots it.
    arch: str = "x86_64"


#: image_arch="aarch64" in /etc/image-id, arch: aarch64 in the stored answers.
_ARCH_LINES = (re.compile(rb'^image_arch="?([a-z0-9_]+)"?\s*$', re.MULTILINE), re.compile(rb"^arch:\s*([a-z0-9_]+)\b", re.MULTILINE))


def image_arch(image: Path) -> str:
    """The architecture the image says it is built for: its /etc/image-id, else its stored answers, else x86_64.

    Raises ImageReadError when the image cannot be read at all (superblock has opened it by then).
    """
    for inner, pattern in zip((layout.IMAGE_ID, layout.ANSWERS), _ARCH_LINES, strict=True):
        try:
            text = read_from_image(image, inner)
        except ImageReadError:
            text = None  # a link or an oversize file: not believed, the next source is tried
        found = pattern.search(text or b"")
        if found:
            return found.group(1).decode()
    return "x86_64"


def _newest(paths: list[Path]) -> Path | None:
    def key(path: Path) -> list[int | str]:
        return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]

    return sorted(paths, key=key)[-1] if paths else None


def _regular(folder: Path, pattern: str) -> list[Path]:
    return [p for p in folder.rglob(pattern) if not p.is_symlink() and p.is_file()]


def extract_guest(artifact: Path, into: Path, kernel: Path | None, ramdisk: Path | None) -> GuestFiles:
    """The image, kernel and ramdisk of `artifact` (a tarball, or an .img with --kernel/--ramdisk)."""
    if not artifact.is_file():
        raise EmiError(f"no such artifact: {artifact}", hint=f"give a built {BUILT_SUFFIXES}, or an .img with --kernel and --ramdisk")
    kind = tarball_kind(artifact)
    if kind is not None:
        # Surveyed first: links, devices, unsafe names and more than one image are refused before anything is unpacked.
        extract_surveyed(survey_artifact(artifact), into)
        # And checked after: only the artifact's own regular files boot, a member that is a link could lead to any host file.
        image = _newest([p for p in _regular(into, "*.img") if not p.name.startswith("initrd")])
        kernel = kernel or _newest(_regular(into, "vmlinuz-*"))
        ramdisk = ramdisk or _newest(_regular(into, "initrd.img-*") + _regular(into, "initramfs-*.img"))
    elif is_image(artifact):
        image = artifact
        if kernel is None or ramdisk is None:
            raise EmiError(f"{artifact.name} is a bare image: the boot test needs its kernel and ramdisk", hint="add --kernel VMLINUZ --ramdisk INITRD")
    else:
        raise EmiError(f"{artifact.name} is not an artifact emi-tui can boot", hint=f"give a {SUFFIX_LIST}")
    image, kernel, ramdisk = _present("image", image), _present("kernel", kernel), _present("ramdisk", ramdisk)
    try:
        fields = superblock(image)
    except ImageReadError as exc:
        raise EmiError(str(exc)) from None
    label = (fields or {}).get("Filesystem volume name", "")
    if label in ("", "<none>"):  # dumpe2fs's word for no label
        raise EmiError(f"{image.name} has no filesystem label", hint="the boot test boots root=LABEL=…; emi-tui images carry one")
    return GuestFiles(image, kernel, ramdisk, label, image_arch(image))


def _present(what: str, path: Path | None) -> Path:
    """`path`, when the artifact gave that file; an EmiError naming `what` when not."""
    if path is None or not path.is_file():
        raise EmiError(f"the artifact has no {what}", hint="build it with `kernel: true`, or give --kernel and --ramdisk")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]  # an AF_INET socket's name is (host, port)
        return port


def ssh_argv(key: Path, port: int, user: str, command: str) -> list[str]:
    return [
        "ssh", "-i", str(key), "-p", str(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
        f"{user}@127.0.0.1", command,
    ]
