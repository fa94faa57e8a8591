"""The euca2ools commands that put a finished artifact in a cloud: unpack, then bundle, upload and register.

The kernel (EKI) and the ramdisk (ERI) are registered first, when the image
has them, because the image (EMI) is registered with their ids. Each
command is an argv list; `register_commands` renders them as lines to paste
into a shell, every value quoted, so a hostile name stays one word.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.artifact.kinds import IMAGE_SUFFIX, stem, tarball_kind
from emi_tui.engine.run.logtext import describe_argv

#: Stand-ins the operator replaces with what euca-register printed for the kernel and the ramdisk.
KERNEL_PLACEHOLDER, RAMDISK_PLACEHOLDER = "eki-XXXXXXXX", "eri-XXXXXXXX"


@dataclass(frozen=True)
class CommandGroup:
    """Commands that belong together, and the comment that says what they do."""

    comment: str
    commands: list[list[str]]


def _operand(name: str) -> str:
    # A name is given as an option's value everywhere but to cd, which would read "-x" as an option.
    return f"./{name}" if name.startswith("-") else name


def registration(
    artifacts: Iterable[Path], image_file: str | None, kernel_files: Iterable[str], kernel: bool, bucket: str
) -> list[CommandGroup]:
    """The commands that unpack the artifact and bundle, upload and register its EKI, ERI and EMI."""
    paths = [Path(p) for p in artifacts]
    packed = next(((p, kind) for p in paths if (kind := tarball_kind(p)) is not None), None)
    image = image_file or next((p.name for p in paths if p.name.endswith(IMAGE_SUFFIX)), "IMAGE.img")
    groups: list[CommandGroup] = []
    if packed is not None:
        tarball, kind = packed
        # tar reads "host:file" as a remote archive unless told otherwise.
        local = ["--force-local"] if ":" in tarball.name else []
        groups.append(CommandGroup("unpack the image with its kernel and ramdisk", [
            ["tar", *local, *kind.unpack_flags, tarball.name],
            ["cd", _operand(stem(tarball.name))],
        ]))
    if kernel:
        names = list(kernel_files)
        found = {
            "kernel": next((n for n in names if "vmlinuz" in n or "kernel" in n), "vmlinuz-VERSION"),
            "ramdisk": next((n for n in names if "initrd" in n or "initramfs" in n), "initrd.img-VERSION"),
        }
        for what, letter in (("kernel", "k"), ("ramdisk", "r")):
            name = found[what]
            groups.append(CommandGroup(f"the {what} (E{letter.upper()}I): euca-register prints its e{letter}i-… id", [
                ["euca-bundle-image", "-i", f"kvm-kernel/{name}", f"--{what}", "true"],
                ["euca-upload-bundle", "-b", bucket, "-m", f"/tmp/{name}.manifest.xml"],
                ["euca-register", f"{bucket}/{name}.manifest.xml"],
            ]))
    ids = ["--kernel", KERNEL_PLACEHOLDER, "--ramdisk", RAMDISK_PLACEHOLDER] if kernel else []
    groups.append(CommandGroup("the image (EMI)" + (": put the eki-… and eri-… ids printed above in place of the X's" if kernel else ""), [
        ["euca-bundle-image", "-i", image],
        ["euca-upload-bundle", "-b", bucket, "-m", f"/tmp/{image}.manifest.xml"],
        ["euca-register", f"{bucket}/{image}.manifest.xml", *ids],
    ]))
    return groups


def register_commands(
    artifacts: Iterable[Path], image_file: str | None, kernel_files: Iterable[str], kernel: bool, bucket: str
) -> str:
    """The registration as shell lines, a comment above each group and a blank line between groups."""
    blocks = [
        "\n".join([f"# {group.comment}", *(describe_argv(argv) for argv in group.commands)])
        for group in registration(artifacts, image_file, kernel_files, kernel, bucket)
    ]
    return "\n\n".join(blocks) + "\n"
