"""The base is stored in the cache in the background, from a copy the build's later steps cannot change."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from emi_tui.engine.build import basewriter
from emi_tui.engine.build.basewriter import BaseWriter
from emi_tui.engine.build.bootstrap import _store_in_background
from emi_tui.engine.build.cache import BaseCache, cache_inputs, cache_key
from emi_tui.engine.build.context import BuildContext
from emi_tui.engine.run.context import JobPaths
from tests.linting import is_locked as flock_held

INPUTS = cache_inputs("debian-based", "bookworm", "x86_64", "http://mirror.example/debian", ["udev"], "mmdebstrap", "mmdebstrap 1.3.5")
KEY = cache_key(INPUTS)


def is_locked(cache: BaseCache, key: str) -> bool:
    return flock_held(cache.root / f".{key}.lock")


def started_writer(tmp_path: Path) -> tuple[BaseCache, BaseWriter, Path]:
    """A writer of an empty snapshot, started, holding the key's lock."""
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    cache = BaseCache(tmp_path / "cache")
    writer = BaseWriter(cache, KEY, INPUTS, snapshot, cache.lock(KEY))
    writer.start()
    return cache, writer, snapshot


def tar_listing(tarball: Path) -> dict[str, str]:
    names = subprocess.run(["tar", "--zstd", "-tf", str(tarball)], capture_output=True, text=True, check=True).stdout.split()
    return {name: subprocess.run(["tar", "--zstd", "-xOf", str(tarball), name], capture_output=True, text=True, check=True).stdout
            for name in names if not name.endswith("/")}


def build_context(tmp_path: Path) -> BuildContext:
    work = tmp_path / "work"
    (work / "root/etc").mkdir(parents=True)
    return BuildContext(paths=JobPaths(work=work, output=tmp_path / "out", log=tmp_path / "log"), emit=lambda event: None, cancel=threading.Event())


def test_later_in_place_writes_to_the_root_never_reach_the_cached_base(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    status = ctx.paths.root / "etc/status"
    status.write_text("as bootstrapped\n")
    cache = BaseCache(tmp_path / "cache")
    _store_in_background(ctx, cache, KEY, INPUTS, cache.lock(KEY))
    # What the chroot step does next: rewrite a file in place (same inode, as dpkg's status or a log) and add one.
    with open(status, "r+") as handle:
        handle.write("CHANGED by a later step\n")
    (ctx.paths.root / "etc/added").write_text("new\n")
    assert ctx.undo.close() == []
    entry = cache.lookup(KEY)
    assert entry is not None
    assert tar_listing(entry.tarball) == {"./etc/status": "as bootstrapped\n"}
    assert not (ctx.paths.work / "base-for-cache").exists()
    assert not is_locked(cache, KEY)


def test_the_keys_lock_is_held_until_the_base_is_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release_tar = threading.Event()
    real_run = basewriter.run_captured

    def slow_run(argv, **kwargs):
        release_tar.wait(timeout=30)
        return real_run(argv, **kwargs)

    monkeypatch.setattr(basewriter, "run_captured", slow_run)
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "file").write_text("x")
    cache = BaseCache(tmp_path / "cache")
    writer = BaseWriter(cache, KEY, INPUTS, snapshot, cache.lock(KEY))
    writer.start()
    assert is_locked(cache, KEY)  # a second build of this base waits, rather than bootstrap it again
    release_tar.set()
    notes: list[str] = []
    assert writer.finish(False, notes.append) == []
    assert notes == [f"cache: stored {KEY} (written in the background)"]
    assert not is_locked(cache, KEY)


def test_a_cancelled_build_stops_the_writer_and_leaves_no_partial_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(basewriter, "store_argv", lambda root, partial, threads=0: ["sleep", "120"])
    cache, writer, snapshot = started_writer(tmp_path)
    notes: list[str] = []
    writer.finish(True, notes.append)
    assert notes == ["cache: base not stored: stopped: the build was cancelled"]
    assert cache.lookup(KEY) is None
    assert [p.name for p in cache.root.iterdir()] == [f".{KEY}.lock"]
    assert not snapshot.exists() and not is_locked(cache, KEY)


def test_a_failed_store_is_said_and_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(basewriter, "store_argv", lambda root, partial, threads=0: ["sh", "-c", "echo tar: disk full >&2; exit 2"])
    cache, writer, _snapshot = started_writer(tmp_path)
    notes: list[str] = []
    writer.finish(False, notes.append)
    assert notes == ["cache: base not stored: tar exited with 2: tar: disk full"]
    assert cache.lookup(KEY) is None and not is_locked(cache, KEY)
