"""Hostile artifacts, crafted at test time: tarballs with any member name, links, devices and declared sizes.

Python's tarfile writes members GNU tar would never make from a real folder
(a leading "-", "..", an absolute name, control characters, a symlinked
kvm-kernel/, a hard link to /etc/shadow, a device); they are compressed with
gzip or zstd like a real artifact. The strategies generate names, link
targets, nesting and sizes for hypothesis.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

#: The layout of a starter image's artifact: what a hostile member is hidden beside.
TOP = "euca-x"
IMAGE = f"{TOP}/{TOP}.img"
SUFFIXES = {"gzip": ".tgz", "zstd": ".tar.zst", "none": ".tar"}


@dataclass(frozen=True)
class Entry:
    """One member to write: a regular file (data), a folder, a link (type and target) or a special file."""

    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    link: str = ""
    size: int | None = None  # a declared size other than len(data) (only for what tar is never asked to read)


def image_bytes(folder: Path, label: str = TOP) -> bytes:
    """A small, empty ext4 filesystem with a label: enough for a survey, a dry-run look and a boot test's unpacking."""
    path = folder / "fs.img"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", label, str(path), "4M"], check=True, capture_output=True, timeout=60)
    data = path.read_bytes()
    path.unlink()
    return data


def craft(path: Path, entries: list[Entry], compress: str = "gzip") -> Path:
    """Write `entries` as a tarball at `path` (its suffix is added from `compress`)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type, info.linkname, info.mode = entry.type, entry.link, 0o755 if entry.type == tarfile.DIRTYPE else 0o644
            info.size = len(entry.data) if entry.type == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(entry.data) if info.size else None)
    raw = buffer.getvalue()
    target = path.with_name(path.name + SUFFIXES[compress])
    if compress == "gzip":
        target.write_bytes(gzip.compress(raw, 1))
    elif compress == "zstd":
        subprocess.run(["zstd", "-q", "-f", "-o", str(target)], input=raw, check=True, timeout=60)
    else:
        target.write_bytes(raw)
    return target


def layout(image: bytes) -> list[Entry]:
    """The members of an ordinary artifact: NAME/, NAME/NAME.img, NAME/kvm-kernel/ with a kernel and a ramdisk."""
    return [Entry(f"{TOP}/", type=tarfile.DIRTYPE), Entry(IMAGE, image), Entry(f"{TOP}/kvm-kernel/", type=tarfile.DIRTYPE),
            Entry(f"{TOP}/kvm-kernel/vmlinuz-6.1", b"kernel"), Entry(f"{TOP}/kvm-kernel/initrd.img-6.1", b"ramdisk")]


# --- strategies

#: Options of GNU tar that run a command, as a member name would spell them.
COMMAND_OPTIONS = ["--to-command=touch {marker}", "--checkpoint-action=exec=touch {marker}", "--use-compress-program=touch {marker}",
                   "--info-script=touch {marker}", "--rsh-command=touch {marker}", "-I touch {marker}", "-F touch {marker}"]

safe_part = st.sampled_from([TOP, "kvm-kernel", "boot", "a b", "x.img", "é"])
plain = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=12)
#: C0, DEL, C1, bidi overrides and line separators: anything a terminal or a message line acts on (NUL ends a tar name).
controls = st.characters(codec="utf-8", categories=("Cc", "Cf", "Zl", "Zp"), exclude_characters="\x00")


def unsafe_parts(marker: str) -> st.SearchStrategy[str]:
    """One path component an artifact must never hold."""
    return st.one_of(
        plain.map(lambda text: "-" + text),
        st.sampled_from(COMMAND_OPTIONS).map(lambda option: option.format(marker=marker)),
        st.just(".."),
        st.tuples(plain, controls, plain).map("".join),
        st.tuples(plain, st.just("\\"), plain).map("".join),
        st.integers(256, 400).map(lambda n: "a" * n),
    )


def unsafe_names(marker: str) -> st.SearchStrategy[str]:
    """A member name holding one unsafe component at any depth, sometimes absolute."""
    return st.tuples(
        st.booleans(), st.lists(safe_part, max_size=3), unsafe_parts(marker), st.lists(safe_part, max_size=2),
    ).map(lambda t: ("/" if t[0] else "") + "/".join([*t[1], t[2], *t[3]]))


link_targets = st.one_of(
    st.sampled_from(["/etc/shadow", "/etc", "/", "../../../etc", "..", "/dev/shm", "/root/.ssh/authorized_keys", IMAGE, "kvm-kernel"]),
    st.lists(st.sampled_from(["..", "etc", "tmp", TOP]), min_size=1, max_size=6).map("/".join),
)
link_places = st.sampled_from([f"{TOP}/kvm-kernel", f"{TOP}/kvm-kernel/vmlinuz-6.2", IMAGE, f"{TOP}/other.img", f"{TOP}/boot", "evil"])
special_types = st.sampled_from([tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
compressions = st.sampled_from(["gzip", "zstd"])


def add_kernel_stand_ins(tar: tarfile.TarFile, folder: str) -> None:
    """A one-byte kernel and ramdisk in `folder` (NAME/kvm-kernel) of an artifact being written: enough for a boot test to find."""
    for name in ("vmlinuz-6.1.0-9-amd64", "initrd.img-6.1.0-9-amd64"):
        info = tarfile.TarInfo(f"{folder}/{name}")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"k"))
