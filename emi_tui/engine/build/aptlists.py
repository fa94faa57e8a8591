"""One download of the mirror's package index per build, shared by preflight, the bootstrap and the chroot's apt.

Preflight needs the Packages index to estimate the image's size before
anything is installed; mmdebstrap's `apt-get update` and the chroot's would
each download it again. Instead preflight keeps the release's InRelease and
its Packages index (downloaded as Packages.xz, kept uncompressed: it is
unpacked once, not once per apt) in the cache folder, checks them, and the
build lays them out in the root's /var/lib/apt/lists under apt's own names
before each `apt-get update`. apt then fetches only InRelease and, finding a
Packages file whose hash the (signed) InRelease lists, downloads nothing more.

Why this is safe: apt verifies the InRelease signature and checks every
index against the hashes it lists, so a seeded file that is stale or altered
is simply downloaded again. Preflight also checks the pair itself: the
InRelease must verify with the recipe's keyring (gpgv), and the Packages.xz
and the Packages must have the hashes it lists. The cached Packages is named
by the hash the InRelease lists, so a mirror that changed is downloaded
again: "fresh" means "what the mirror serves now", not "less than a day old".
"""

from __future__ import annotations

import email.utils
import hashlib
import lzma
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine import paths
from emi_tui.engine.build.estimate import PackageIndex, parsed_index
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.runner import run_captured
from emi_tui.engine.safefs import private_folder, write_atomic

#: An InRelease of a whole Debian release is about 150 KB; far more is not one.
INRELEASE_MAX_BYTES = 8 * 1024**2
#: A Packages.xz of Debian main is about 9 MB, 50 MB unpacked.
INDEX_MAX_BYTES = 256 * 1024**2
#: What apt's URItoFileName quotes (apt-pkg/contrib/strutl.cc), before it turns each / into _.
_APT_QUOTED = set('\\|{}[]<>"^~_=!@#$%^&*')


@dataclass(frozen=True)
class SharedIndex:
    """A checked InRelease and Packages index of one mirror, release, component and arch, in the cache folder."""

    mirror: str
    release: str
    component: str
    arch: str
    inrelease: Path
    packages: Path  # uncompressed, named by its hash
    verified: bool  # the InRelease verified with the recipe's keyring

    def apt_names(self) -> tuple[str, str]:
        """The file names apt keeps the InRelease and the uncompressed Packages under, in /var/lib/apt/lists."""
        base = f"{self.mirror.rstrip('/')}/dists/{self.release}"
        return apt_list_name(f"{base}/InRelease"), apt_list_name(f"{base}/{self.component}/binary-{self.arch}/Packages")


def apt_list_name(uri: str) -> str:
    """apt's URItoFileName: the URI without its scheme and password, quoted, with each / as _."""
    parts = urllib.parse.urlsplit(uri)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    text = host + parts.path
    quoted = "".join(f"%{ord(c):02x}" if c in _APT_QUOTED or ord(c) <= 0x20 or ord(c) >= 0x7F else c for c in text)
    return quoted.replace("/", "_")


def _cache_folder() -> Path:
    return private_folder(paths.cache_dir() / "indexes")


def _stem(mirror: str, release: str, component: str, arch: str) -> str:
    """The start of the cache's file names for one mirror, release, component and arch."""
    return hashlib.sha256(f"{mirror.rstrip('/')} {release} {component} {arch}".encode()).hexdigest()[:24]


def kept_packages(mirror: str, release: str, component: str, arch: str) -> Path | None:
    """The newest Packages index an earlier `fetch_shared_index` kept for these, or None (no network)."""
    stem = _stem(mirror, release, component, arch)
    try:
        found = [p for p in _cache_folder().glob(f"{stem}.*.Packages") if p.is_file()]
    except (EmiError, OSError):
        return None
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


def _download(url: str, limit: int, timeout: float = 30.0) -> tuple[bytes, float | None]:
    """The body at `url` (at most `limit` bytes) and its Last-Modified time."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read(limit + 1)
            modified = response.headers.get("Last-Modified")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise EmiError(f"cannot read {url}: {getattr(exc, 'reason', exc)}", hint="check that the mirror answers (the mirror: line of the answer file)") from None
    if len(data) > limit:
        raise EmiError(f"{url} is larger than {limit // 1024**2} MiB", hint="check that the mirror: line names a Debian mirror")
    when = email.utils.parsedate_to_datetime(modified).timestamp() if modified else None
    return data, when


def listed_sha256(inrelease: bytes, name: str) -> str | None:
    """The SHA256 the InRelease lists for `name` (such as main/binary-amd64/Packages.xz), or None."""
    in_section = False
    for line in inrelease.decode("utf-8", errors="replace").splitlines():
        if not line.startswith(" "):
            in_section = line.strip() == "SHA256:"
            continue
        fields = line.split()
        if in_section and len(fields) == 3 and fields[2] == name:
            return fields[0].lower()
    return None


def verify_inrelease(path: Path, keyring: str | None) -> bool:
    """Whether the InRelease at `path` is signed by a key of `keyring` (gpgv); False when either is missing."""
    if not keyring or not os.path.isfile(keyring) or shutil.which("gpgv") is None:
        return False
    # Its home is the private folder the InRelease lies in: gpgv reads no keyring of the user's, and writes nothing.
    done = run_captured(["gpgv", "--homedir", str(path.parent), "--keyring", keyring, "--", str(path)], timeout=60)
    return done.ok


def fetch_shared_index(mirror: str, release: str, component: str, arch: str, keyring: str | None, timeout: float = 30.0) -> SharedIndex:
    """Download the release's InRelease, and its Packages.xz when the cached index is not the one it lists.

    `timeout` bounds each wait for the mirror (the readiness checks wait less than a build).
    """
    folder = _cache_folder()
    stem = _stem(mirror, release, component, arch)
    inrelease_path = folder / f"{stem}.InRelease"
    signed = True
    try:
        inrelease, modified = _download(f"{mirror.rstrip('/')}/dists/{release}/InRelease", INRELEASE_MAX_BYTES, timeout)
    except EmiError:
        # An older mirror may serve only Release (+ Release.gpg): its hashes still check the index, but
        # nothing is laid out for apt, which then downloads and verifies the index itself.
        inrelease, modified = _download(f"{mirror.rstrip('/')}/dists/{release}/Release", INRELEASE_MAX_BYTES, timeout)
        signed = False
    write_atomic(inrelease_path, inrelease)
    if modified:  # apt asks again with If-Modified-Since this file's time
        os.utime(inrelease_path, (modified, modified))
    name = f"{component}/binary-{arch}/Packages"
    wanted_xz, wanted = listed_sha256(inrelease, f"{name}.xz"), listed_sha256(inrelease, name)
    if wanted_xz is None or wanted is None:
        raise EmiError(f"the mirror's InRelease for {release} lists no {name}.xz", hint=f"check that the mirror carries {release} for {arch}")
    packages_path = folder / f"{stem}.{wanted[:24]}.Packages"
    if not packages_path.is_file():  # written only after both checks below: its name says it was the listed one
        xz_digest, plain = _download_unpacked(f"{mirror.rstrip('/')}/dists/{release}/{name}.xz", timeout)
        if xz_digest != wanted_xz or hashlib.sha256(plain).hexdigest() != wanted:
            raise EmiError(f"the mirror's {name}.xz does not have the hash its InRelease lists", hint="the mirror may be updating: run the build again in a few minutes")
        for older in folder.glob(f"{stem}.*.Packages*"):
            older.unlink(missing_ok=True)
        write_atomic(packages_path, plain)
    return SharedIndex(mirror, release, component, arch, inrelease_path, packages_path, signed and verify_inrelease(inrelease_path, keyring))


def _download_unpacked(url: str, timeout: float = 30.0) -> tuple[str, bytes]:
    """The sha256 of the xz file at `url` and its content unpacked, each at most INDEX_MAX_BYTES.

    Unpacked as it arrives: the download waits on the network, the unpacking
    on the CPU, and overlapping them saves most of the unpacking's time.
    """
    unpacker, digest, parts, got, size = lzma.LZMADecompressor(), hashlib.sha256(), [], 0, 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            while chunk := response.read(256 * 1024):
                got += len(chunk)
                if got > INDEX_MAX_BYTES:
                    raise EmiError(f"{url} is larger than {INDEX_MAX_BYTES // 1024**2} MiB", hint="check that the mirror: line names a Debian mirror")
                digest.update(chunk)
                part = unpacker.decompress(chunk, max_length=INDEX_MAX_BYTES + 1 - size)
                size += len(part)
                parts.append(part)
                if size > INDEX_MAX_BYTES or (unpacker.needs_input is False and not unpacker.eof):
                    raise EmiError(f"the mirror's package index unpacks to more than {INDEX_MAX_BYTES // 1024**2} MiB",
                                   hint="check that the mirror: line names a Debian mirror")
    except lzma.LZMAError:
        raise EmiError("the mirror's package index is not valid xz", hint="check that the mirror: line names a Debian mirror") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise EmiError(f"cannot read {url}: {getattr(exc, 'reason', exc)}", hint="check that the mirror answers (the mirror: line of the answer file)") from None
    if not unpacker.eof:
        raise EmiError("the mirror's package index ends early", hint="the mirror may be updating: run the build again in a few minutes")
    return digest.hexdigest(), b"".join(parts)


def package_index(index: SharedIndex) -> PackageIndex:
    """The parsed index, kept beside it as JSON (emi_tui.engine.build.estimate.parsed_index)."""
    return parsed_packages(index.packages)


def parsed_packages(packages: Path) -> PackageIndex:
    """The parse of a Packages index this cache keeps, kept beside it as JSON."""
    return parsed_index(packages, packages.with_suffix(".json"), lambda: read_packages(packages))


def read_packages(path: Path) -> str:
    """The text of a kept Packages index (at most INDEX_MAX_BYTES of it)."""
    with open(path, "rb") as handle:
        return handle.read(INDEX_MAX_BYTES).decode("utf-8", errors="replace")


def lay_out_lists(index: SharedIndex, folder: Path) -> list[Path]:
    """Write the InRelease and the uncompressed Packages into `folder` under apt's names; returns what was written.

    Nothing is written unless the InRelease verified: apt would check it
    anyway, but an unverified pair is not worth the space.
    """
    if not index.verified:
        return []
    inrelease_name, packages_name = index.apt_names()
    written = [folder / inrelease_name, folder / packages_name]
    shutil.copyfile(index.inrelease, written[0])
    stamp = index.inrelease.stat().st_mtime
    os.utime(written[0], (stamp, stamp))
    shutil.copyfile(index.packages, written[1])
    return written
