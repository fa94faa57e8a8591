"""The output lock: one job at a time may write a given artifact; a second one refuses at once."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.errors import EmiError
from emi_tui.engine.safefs import open_lock_file


@dataclass(frozen=True)
class OutputLock:
    """What a job will write (`guarded`), and how a refusal names it (`purpose`, e.g. "writing /out/x.tgz")."""

    guarded: Path
    purpose: str
    hint: str = "wait for it, or choose another image.file or output.dir"

    @property
    def path(self) -> Path:
        """The lock file, hidden beside what it guards (`emi-tui cleanup` removes those of dead jobs)."""
        return self.guarded.with_name(f".{self.guarded.name}.lock")


@contextmanager
def output_lock(lock: OutputLock, kind: str = "build") -> Iterator[None]:
    """Hold `lock` for the block; EmiError at once when another process (or job) holds it.

    The folders made to hold the lock file are removed again when the job left
    nothing in them: a job that failed before writing leaves no empty output folder.
    """
    folder = lock.path.parent
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        # Never through a planted symlink, never a file of another user's (safefs.open_lock_file).
        handle = os.fdopen(open_lock_file(lock.path), "r+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read(32).strip() or "another process"
            handle.close()
            raise EmiError(f"another {kind} (pid {owner}) is already {lock.purpose}", hint=lock.hint) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            lock.path.unlink(missing_ok=True)
            handle.close()
    finally:
        for made_folder in made:  # deepest first
            try:
                made_folder.rmdir()
            except OSError:  # not empty: the job wrote there (or someone else did)
                break
