"""The cache of bootstrapped bases: a tarball per distinct base, in the user's cache folder.

The key covers everything that changes a bootstrapped root: recipe, release,
arch, mirror, the base package list, and the bootstrap tool with its version.
Changing only added packages, metadata or image fields reuses the base.
Entries are written under a temporary name and renamed, and a per-key lock
keeps two builds from bootstrapping or storing the same base at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypedDict

from emi_tui.engine import paths
from emi_tui.engine.run.runner import Cancelled, CommandFailed, run_captured, which
from emi_tui.engine.safefs import private_folder

FORMAT = 1
#: `--version` answers at once; a tool that does not is treated as of unknown version.
VERSION_SECONDS = 30.0


def tool_version(tool: str) -> str:
    """The bootstrap tool's version, part of the key (a new debootstrap makes a different base)."""
    if which(tool) is None:
        return "absent"
    try:
        done = run_captured([tool, "--version"], timeout=VERSION_SECONDS)
    except CommandFailed:
        return "unknown"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


class CacheInputs(TypedDict):
    """Everything that changes a bootstrapped base: its cache key is a hash of these."""

    format: int
    recipe: str
    release: str
    arch: str
    mirror: str
    base_packages: list[str]
    tool: str
    tool_version: str


def cache_inputs(recipe_name: str, release: str, arch: str, mirror: str, base_packages: list[str], tool: str, version: str) -> CacheInputs:
    return {
        "format": FORMAT, "recipe": recipe_name, "release": release, "arch": arch, "mirror": mirror,
        "base_packages": sorted(base_packages), "tool": tool, "tool_version": version,
    }


def cache_key(inputs: CacheInputs) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:20]


@dataclass
class CacheEntry:
    """One stored base; `inputs` as its metadata file says (older formats may hold other keys)."""

    key: str
    tarball: Path
    inputs: Mapping[str, object]
    created: float
    size: int


class BaseCache:
    """Bootstrapped bases stored as <key>.tar.zst with a <key>.json describing its inputs."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or paths.cache_dir() / "bases"

    def tarball(self, key: str) -> Path:
        return self.root / f"{key}.tar.zst"

    def _checked(self) -> bool:
        """Whether the cache folder exists; EmiError when another user could have changed what it holds.

        A base is unpacked into every image as root, so one read from a folder others can write is never used.
        """
        if not self.root.exists() and not self.root.is_symlink():
            return False
        private_folder(self.root, create=False)
        return True

    def lookup(self, key: str) -> CacheEntry | None:
        meta = self.root / f"{key}.json"
        tarball = self.tarball(key)
        if not self._checked() or not (meta.is_file() and tarball.is_file()):
            return None
        try:
            data = json.loads(meta.read_text())
        except (OSError, ValueError):
            return None
        inputs: Mapping[str, object] = data.get("inputs", {})
        created: float = data.get("created", 0.0)
        return CacheEntry(key, tarball, inputs, created, tarball.stat().st_size)

    def explain_miss(self, inputs: CacheInputs) -> str:
        """Why no entry matched: the closest entry's differing inputs, or that the cache is empty."""
        entries = self.entries()
        if not entries:
            return "the cache is empty"
        same_recipe = [e for e in entries if e.inputs.get("recipe") == inputs["recipe"]] or entries
        newest = max(same_recipe, key=lambda e: e.created)
        changed = [k for k, value in inputs.items() if newest.inputs.get(k) != value]
        return f"closest cached base {newest.key} differs in: {', '.join(changed) or 'nothing (damaged?)'}"

    def entries(self) -> list[CacheEntry]:
        if not self._checked():
            return []
        found = [self.lookup(p.stem) for p in sorted(self.root.glob("*.json"))]
        return [e for e in found if e is not None]

    def temporary_tarball(self, key: str) -> Path:
        private_folder(self.root)
        return self.root / f".{key}.{time.time_ns()}.partial"

    def commit(self, key: str, partial: Path, inputs: CacheInputs) -> CacheEntry:
        """Publish a finished tarball under its key (rename, so readers never see half a base)."""
        meta_tmp = self.root / f".{key}.json.{time.time_ns()}.partial"
        created = time.time()
        meta_tmp.write_text(json.dumps({"inputs": inputs, "created": created}, indent=2))
        tarball = self.tarball(key)
        partial.replace(tarball)
        meta_tmp.replace(self.root / f"{key}.json")
        return CacheEntry(key, tarball, inputs, created, tarball.stat().st_size)

    @contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """Hold the key's lock: one build at a time bootstraps or stores a given base."""
        release = self.lock(key)
        try:
            yield
        finally:
            release()

    def lock(self, key: str, cancel: threading.Event | None = None, waiting: Callable[[], None] | None = None) -> Callable[[], None]:
        """Take the key's lock (waiting for another build that holds it); returns the function that releases it.

        The build that bootstraps a base hands this to the background writer, which releases it once the base is stored.
        While another build holds the lock, `waiting` is called once and the wait ends with Cancelled as soon as
        `cancel` is set: a catalog's second image can wait minutes on its base's first build.
        """
        private_folder(self.root)
        handle = open(self.root / f".{key}.lock", "w")  # closed by the returned function, maybe on another thread
        try:
            _wait_for_lock(handle, cancel, waiting)
        except BaseException:
            handle.close()
            raise
        released = threading.Lock()

        def release() -> None:
            if released.acquire(blocking=False):
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()

        return release

    def clear(self) -> int:
        """Remove every entry (and stray partials); returns the bytes freed."""
        freed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.iterdir():
            if path.name.endswith(".lock"):
                continue
            freed += path.stat().st_size
            path.unlink()
        return freed


def extract_argv(tarball: Path, root: Path) -> list[str]:
    return ["tar", "--zstd", "-xpf", str(tarball), "-C", str(root), "--numeric-owner", "--xattrs", "--xattrs-include=*"]


def store_argv(root: Path, partial: Path, threads: int = 0) -> list[str]:
    """tar the base at `root` into `partial` with zstd on `threads` cores (0: all of them)."""
    return [
        "tar", f"--use-compress-program=zstd -T{threads} -3", "-cpf", str(partial), "-C", str(root),
        "--numeric-owner", "--xattrs", "--xattrs-include=*", ".",
    ]


#: How often a wait for a base's lock looks at the cancel event, in seconds.
LOCK_POLL_SECONDS = 0.25


def _wait_for_lock(handle: IO[str], cancel: threading.Event | None, waiting: Callable[[], None] | None) -> None:
    """flock `handle` exclusively; without `cancel`, block; with it, poll so a cancel ends the wait."""
    if cancel is None:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if not told and waiting is not None:
            waiting()
            told = True
        if cancel.wait(LOCK_POLL_SECONDS):
            raise Cancelled("cancelled while waiting for another build to store the same base")
