"""Reading files out of built images without mounting them (no root needed).

An EMI is a bare ext2/3/4 file system image, shipped alone (`*.img`) or in a
tarball laid out like the Eucalyptus starter images (`NAME/NAME.img` plus
`NAME/kvm-kernel/vmlinuz-*` and `initrd.img-*`). `debugfs` from e2fsprogs reads
the file system directly, and GNU tar pulls the image out of the artifact, so
a reviewer can inspect an image on any workstation.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from emi_tui.engine.artifact.kinds import installed
from emi_tui.engine.image import layout
from emi_tui.engine.run.runner import CAPTURE_LIMIT, Captured, CommandFailed, run_captured

#: debugfs prints its version on stderr every time; it is not an error.
_BANNER = re.compile(r"^debugfs \S+ \(.*\)\s*$")
# debugfs and dumpe2fs read local files; five minutes means something is wrong (a FIFO, a hung disk).
_TIMEOUT_S = 300
#: The programs and the package that installs each, for the message when one is missing.
_PACKAGES = {"debugfs": "e2fsprogs", "dumpe2fs": "e2fsprogs"}


#: The most read of any one text file in an image (image-id, stored answers, os-release are a few KiB each).
TEXT_FILE_LIMIT = 64 << 10
# debugfs `stat`: "Inode: 12   Type: regular ..." and "User: 0   Group: 0 ...   Size: 1234".
_STAT_TYPE = re.compile(r"^Inode:\s*\d+\s+Type:\s*(\S+)", re.MULTILINE)
_STAT_SIZE = re.compile(r"^User:.*\bSize:\s*(\d+)", re.MULTILINE)


class ImageReadError(Exception):
    """The image (or artifact) could not be opened at all; the message says why and what to do."""


class UnsafeImageFile(ImageReadError):
    """A file in the image is there but is not read: a link, not a regular file, or bigger than emi-tui reads."""


class HygieneCheckJson(TypedDict):
    """`HygieneCheck.to_json`."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class HygieneCheck:
    """One thing a sealed image must (not) contain, and what was found."""

    name: str
    ok: bool
    detail: str

    def to_json(self) -> HygieneCheckJson:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class ImageFacts:
    """What a review needs from one image: its image-id, its stored answers, its hygiene."""

    label: str
    image_id: bytes | None
    answers: bytes | None
    hygiene: list[HygieneCheck] = field(default_factory=list)
    #: Files that are there but were not read (UnsafeImageFile's messages), for the review to report.
    unread: list[str] = field(default_factory=list)


def _run(argv: list[str], what: str, stdin: bytes | None = None, timeout: float = _TIMEOUT_S, limit: int = CAPTURE_LIMIT) -> Captured:
    if not installed(argv[0]):
        raise ImageReadError(f"{argv[0]} is not installed: install {_PACKAGES.get(argv[0], argv[0])} to review {what}")
    try:
        # The runner keeps at most `limit` bytes and stops the command past them: a hostile image costs no more.
        done = run_captured(argv, timeout=timeout, input=stdin, limit=limit)
    except CommandFailed as exc:  # it is installed, so it ran too long
        raise ImageReadError(f"{exc.message} on {what}: is it a regular file on a local disk?") from None
    if done.truncated:
        raise ImageReadError(f"{argv[0]} printed too much for {what}: no file emi-tui reads from an image is that big")
    return done


def superblock(img: Path) -> dict[str, str] | None:
    """The ext2/3/4 superblock fields of `img` as dumpe2fs -h names them ("Block count": "…"), or None when it is none.

    Raises ImageReadError when dumpe2fs is missing or hangs.
    """
    done = _run(["dumpe2fs", "-h", "--", os.path.abspath(img)], str(img))
    fields = {key.strip(): value.strip() for key, value in (line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)}
    return fields if done.ok and "Block count" in fields else None


def _debugfs(img: Path, *, request: str | None = None, script: str | None = None, limit: int = CAPTURE_LIMIT) -> tuple[bytes, list[str]]:
    """Run one debugfs request (-R) or a script of them (-f -): stdout, and stderr minus the banner.

    debugfs exits 0 even when a file is missing, so errors are read from stderr.
    """
    argv = ["debugfs", *(["-R", request] if request is not None else ["-f", "-"]), "--", os.path.abspath(img)]
    done = _run(argv, str(img), stdin=script.encode() if script is not None else None, limit=limit)
    errors = [line.strip() for line in done.stderr.splitlines() if line.strip() and not _BANNER.match(line)]
    if any("while trying to open" in e or "Filesystem not open" in e for e in errors):
        why = next((e for e in errors if "while trying to open" in e), errors[0])
        raise ImageReadError(f"{img} is not a readable ext2/3/4 image ({why.removeprefix('debugfs: ')}): review the .img itself or its artifact")
    # The runner reads output as UTF-8 (a byte that is not becomes U+FFFD), as every caller decodes these files anyway.
    return done.stdout.encode("utf-8"), errors


def _quoted(inner_path: str) -> str:
    # debugfs splits its command line on blanks unless the argument is double-quoted.
    return '"/' + inner_path.lstrip("/").replace('"', "") + '"'


def read_from_image(img: Path, inner_path: str, limit: int = TEXT_FILE_LIMIT) -> bytes | None:
    """The bytes of the regular file `inner_path` inside the file system image `img`, or None when it is absent.

    debugfs reads the image's own blocks, so nothing outside the image is ever
    reached; a link in a folder on the way is resolved by debugfs inside the
    image. The file itself is looked at first (`stat`) and read only when it is
    a regular file of at most `limit` bytes, and the read stops at `limit`: a
    sparse file claiming gigabytes costs nothing. Raises UnsafeImageFile when
    it is a link (not followed), a FIFO, a device, a folder or too big, and
    ImageReadError when `img` is not an ext2/3/4 image or debugfs is missing.
    """
    quoted = _quoted(inner_path)
    # stat prints a few lines, and one line per extent of a fragmented file: a small bound is plenty.
    info, errors = _debugfs(img, request=f"stat {quoted}", limit=1 << 20)
    kind, size = _STAT_TYPE.search(info.decode("utf-8", "replace")), _STAT_SIZE.search(info.decode("utf-8", "replace"))
    if errors or kind is None or size is None:
        return None
    if kind.group(1) != "regular":
        what = "a link (emi-tui follows no link in an image)" if kind.group(1) == "symlink" else f"not a regular file ({kind.group(1)})"
        raise UnsafeImageFile(f"/{inner_path.lstrip('/')} in the image is {what}: not read")
    if int(size.group(1)) > limit:
        raise UnsafeImageFile(f"/{inner_path.lstrip('/')} in the image claims {int(size.group(1)):,} bytes, over the {limit:,} emi-tui reads of it: not read")
    data, errors = _debugfs(img, request=f"cat {quoted}", limit=limit)
    return None if errors else data


def _listings(img: Path, dirs: list[str]) -> dict[str, dict[str, int | None]]:
    """`ls -p` of every folder in one debugfs run: {folder: {name: size in bytes}}.

    A folder that is absent comes back empty, which is what every hygiene check wants.
    """
    script = "".join(f"ls -p {_quoted(d)}\n" for d in dirs)
    out, _ = _debugfs(img, script=script)
    result: dict[str, dict[str, int | None]] = {d: {} for d in dirs}
    current: dict[str, int | None] | None = None
    for line in out.decode("utf-8").splitlines():
        if line.startswith("debugfs: ls -p "):
            # The echoed command names the folder whose entries follow.
            current = result.get(line.removeprefix("debugfs: ls -p ").strip().strip('"').lstrip("/"))
            continue
        parts = line.split("/")
        # /inode/mode/uid/gid/name/size/ ; names never contain "/".
        if current is None or len(parts) < 7 or parts[5] in (".", ".."):
            continue
        current[parts[5]] = int(parts[6]) if parts[6].isdigit() else None
    return result


def hygiene_checks(img: Path) -> list[HygieneCheck]:
    """Check that an image is sealed: nothing in it that belongs to one machine or one build.

    No SSH host keys but their regeneration at first boot enabled, no root shell
    history, an empty machine-id, and no package caches.
    """
    ssh, units = "etc/ssh", posixpath.dirname(layout.HOSTKEY_UNIT)
    wants, root, etc = posixpath.dirname(layout.HOSTKEY_UNIT_LINK), posixpath.dirname(layout.ROOT_HISTORY[0]), posixpath.dirname(layout.MACHINE_ID)
    apt, *rpm_caches = layout.PACKAGE_CACHES
    ls = _listings(img, [ssh, units, wants, root, etc, *layout.PACKAGE_CACHES])
    checks = []

    keys = sorted(n for n in ls[ssh] if n.startswith("ssh_host_"))
    checks.append(HygieneCheck("no SSH host keys", not keys, (
        f"found {', '.join(f'/{ssh}/{k}' for k in keys)}: every instance would share them; delete /{ssh}/ssh_host_* before sealing the image"
        if keys else f"no /{ssh}/ssh_host_* in the image")))

    unit, link = posixpath.basename(layout.HOSTKEY_UNIT), posixpath.basename(layout.HOSTKEY_UNIT_LINK)
    missing = [f"/{p}" for p, present in ((layout.HOSTKEY_UNIT, unit in ls[units]), (layout.HOSTKEY_UNIT_LINK, link in ls[wants])) if not present]
    checks.append(HygieneCheck("host keys regenerated at boot", not missing, (
        f"missing {' and '.join(missing)}: without them an instance boots with no SSH host keys; rebuild the image with emi-tui"
        if missing else f"/{layout.HOSTKEY_UNIT} is enabled")))

    histories = [f"/{p}" for p in layout.ROOT_HISTORY if posixpath.basename(p) in ls[root]]
    checks.append(HygieneCheck("no root shell history", not histories, (
        f"found {', '.join(histories)}: it records the build session; delete it" if histories else "no shell history under /root")))

    name = posixpath.basename(layout.MACHINE_ID)
    size = ls[etc].get(name)
    if name not in ls[etc]:
        ok, detail = False, f"/{layout.MACHINE_ID} is absent: create it empty so systemd writes a fresh one at first boot"
    elif size != 0:
        ok, detail = False, f"/{layout.MACHINE_ID} holds {size} bytes: every instance would share that id; truncate it to 0 bytes"
    else:
        ok, detail = True, f"/{layout.MACHINE_ID} is empty"
    checks.append(HygieneCheck("empty machine-id", ok, detail))

    debs = sorted(n for n in ls[apt] if n.endswith(".deb"))
    leftovers = [f"/{apt}/{n}" for n in debs[:3]] + [f"/{d}/" for d in rpm_caches if ls[d]]
    checks.append(HygieneCheck("no package caches", not leftovers, (
        f"found {', '.join(leftovers)}{' …' if len(debs) > 3 else ''}: they only make the image bigger; run apt-get clean / dnf clean all in the image"
        if leftovers else "no downloaded packages left in the image")))
    return checks


def inspect_image(img: Path, label: str | None = None) -> ImageFacts:
    """Everything a review reads from one .img: /etc/image-id, the stored answers, the hygiene checks."""
    unread: list[str] = []

    def read(inner: str) -> bytes | None:
        try:
            return read_from_image(img, inner)
        except UnsafeImageFile as exc:
            unread.append(str(exc))
            return None

    return ImageFacts(label=label or img.name, image_id=read(layout.IMAGE_ID), answers=read(layout.ANSWERS), hygiene=hygiene_checks(img), unread=unread)

