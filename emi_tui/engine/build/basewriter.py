"""Storing a freshly bootstrapped base in the cache while the build goes on, so a cold build never waits for it.

Why a copy, and why it is safe: the next steps change the root in place
(dpkg rewrites its status file, apt installs into /usr, hygiene empties
logs), so the tarball must be made from a tree they cannot reach. A hardlink
copy would share every file's data with the root, and an in-place write there
would reach the cache too. Instead the base is copied whole (`cp -a`, data
included: about 0.2 s for the 325 MB base on tmpfs) into the job's private
work folder before the chroot step starts, and only this writer reads the
copy. The tarball therefore holds the base exactly as it was bootstrapped,
whatever the later steps do, and it is published by rename only when tar
succeeded; the cache key's lock is held until then, so a second build of the
same base waits for it rather than bootstrapping it again.

The writer runs `tar | zstd -T1` (one core, leaving the other to the chroot
step's apt) in a thread. The job's teardown waits for it, or stops it when
the job was cancelled; either way the copy and any partial file are removed.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from emi_tui.engine.build.cache import BaseCache, CacheInputs, store_argv
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.runner import Cancelled, run_captured

#: Writing a base of a few hundred MB takes seconds; ten minutes means something is wrong.
STORE_SECONDS = 600.0


class BaseWriter:
    """One background store of a base snapshot into the cache under `key`; `release` frees the key's lock when done."""

    def __init__(self, cache: BaseCache, key: str, inputs: CacheInputs, snapshot: Path, release: Callable[[], None]) -> None:
        self.cache, self.key, self.inputs, self.snapshot, self.release = cache, key, inputs, snapshot, release
        self.stop = threading.Event()
        self.stored = False
        self.problem = ""
        self.thread = threading.Thread(target=self._write, name=f"emi-tui base cache {key}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _write(self) -> None:
        partial = None
        try:
            partial = self.cache.temporary_tarball(self.key)
            done = run_captured(store_argv(self.snapshot, partial, threads=1), timeout=STORE_SECONDS, cancel=self.stop)
            if done.ok:
                self.cache.commit(self.key, partial, self.inputs)
                self.stored = True
            else:
                self.problem = f"tar exited with {done.exit_code}: {done.first_error_line()}"
        except Cancelled:
            self.problem = "stopped: the build was cancelled"
        except (EmiError, OSError) as exc:
            self.problem = str(exc)
        finally:
            if partial is not None:
                partial.unlink(missing_ok=True)
            shutil.rmtree(self.snapshot, ignore_errors=True)
            self.release()

    def finish(self, cancelled: bool, note: Callable[[str], None]) -> list[str]:
        """Wait for the store (or stop it, when `cancelled`); say how it went. Returns what was left behind."""
        if cancelled:
            self.stop.set()
        self.thread.join()
        if self.stored:
            note(f"cache: stored {self.key} (written in the background)")
        else:
            note(f"cache: base not stored: {self.problem}")
        return [str(self.snapshot)] if self.snapshot.exists() else []
