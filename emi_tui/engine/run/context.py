"""What every step of a job works with: the answers, the folders, a way to run things, and what to undo.

Steps never call subprocess themselves: they go through `JobContext.run`,
which streams the output as events and into the log, honours cancellation,
and in a dry run only records the argv. That is how `--dry-run` prints the
exact plan the real job would follow, from the same step code. A step that
sets up something which must be undone on every exit path pushes the undo
onto `JobContext.undo`; the job runner's one teardown runs them.

A build's context (emi_tui.engine.build.context.BuildContext) and a modify's
(emi_tui.engine.modify.context.ModifyContext) are kinds of `JobContext`.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.errors import EmiError, ExitCode
from emi_tui.engine.image.imageid import utc_today
from emi_tui.engine.run.chroot import chroot_argv
from emi_tui.engine.run.events import EventSink, JobFacts, OutputLine
from emi_tui.engine.run.logtext import describe_argv
from emi_tui.engine.run.mounts import MountStack
from emi_tui.engine.run.runner import CommandResult, run_command

CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LC_ALL": "C.UTF-8",
    "LANG": "C.UTF-8",
    "TERM": "xterm",
    "DEBIAN_FRONTEND": "noninteractive",
    "DEBCONF_NONINTERACTIVE_SEEN": "true",
}


@dataclass
class JobPaths:
    """The folders and files of one job."""

    work: Path  # private to this job, removed at the end
    output: Path  # the operator's output folder
    log: Path  # the full log; kept after the job

    @property
    def root(self) -> Path:
        return self.work / "root"

    @property
    def staging(self) -> Path:
        return self.work / "package"

    @property
    def kernel_dir(self) -> Path:
        return self.work / "kvm-kernel"


class UndoStack:
    """What a job set up that must be undone on every exit path, undone newest first.

    A step pushes the undo of what it just did (a loop device attached: its
    detach), so that the job's one teardown needs no knowledge of the kind of
    job. Each undo returns what it could not undo (or None); closing never
    raises, since it runs in the job's `finally`.
    """

    def __init__(self) -> None:
        self._undos: list[tuple[str, Callable[[], Iterable[str] | None]]] = []

    def push(self, what: str, undo: Callable[[], Iterable[str] | None]) -> None:
        """Remember `undo` (described as `what`, e.g. "detach the loop device") for the teardown."""
        self._undos.append((what, undo))

    def close(self, note: Callable[[str], None] = lambda _: None) -> list[str]:
        """Run every undo, newest first, even after one fails; returns what remains undone."""
        leftovers: list[str] = []
        while self._undos:
            what, undo = self._undos.pop()
            try:
                leftovers += list(undo() or [])
            except Exception as exc:  # the next undo must still run
                note(f"could not {what}: {exc}")
                leftovers.append(what)
        return leftovers


@dataclass(kw_only=True)
class JobContext:
    """Everything a step needs, and the only way a step touches the system.

    A build knows its answers and recipe before the first step; a modify
    learns them from the image, in its unpack step. Until then they are unset
    (`settled_answers`, `settled_recipe` are None), and `answers` and `recipe`
    raise an EmiError naming the step that used them too early.
    """

    settled_answers: Answers | None = None
    settled_recipe: Recipe | None = None
    paths: JobPaths
    emit: EventSink
    cancel: threading.Event
    dry_run: bool = False
    epoch: int = 0  # the one instant the image-id is stamped with
    today: date = field(default_factory=utc_today)
    step: str = ""
    mounts: MountStack | None = None
    undo: UndoStack = field(default_factory=UndoStack)
    facts: JobFacts = field(default_factory=JobFacts)  # what steps learn and later steps use
    track_pid: Callable[[int], None] = lambda _pid: None

    @property
    def answers(self) -> Answers:
        """The answers the job follows; an EmiError before they are settled."""
        if self.settled_answers is None:
            raise self._unsettled("answers")
        return self.settled_answers

    @answers.setter
    def answers(self, answers: Answers) -> None:
        self.settled_answers = answers

    @property
    def recipe(self) -> Recipe:
        """The recipe the job follows; an EmiError before it is settled."""
        if self.settled_recipe is None:
            raise self._unsettled("recipe")
        return self.settled_recipe

    @recipe.setter
    def recipe(self, recipe: Recipe) -> None:
        self.settled_recipe = recipe

    def _unsettled(self, what: str) -> EmiError:
        return EmiError(f"internal error: step {self.step or '(none)'} needs the job's {what}, not settled yet",
                        hint="a modify settles them in its unpack step, from the image", exit_code=ExitCode.FAILED)

    @property
    def image_stem(self) -> str:
        return self.answers.image.resolved_file.removesuffix(".img")

    @property
    def image_path(self) -> Path:
        return self.paths.work / self.answers.image.resolved_file

    def note(self, text: str) -> None:
        """A line of emi-tui's own in the step's log."""
        self.emit(OutputLine(self.step, text))

    def run(self, argv: Sequence[str], *, env: dict[str, str] | None = None, check: bool = True, shown: Sequence[str] | None = None) -> CommandResult:
        """Run a host command (or, in a dry run, record it); the log shows `shown` instead of `argv` when given."""
        argv = [str(a) for a in argv]
        self.note(f"$ {describe_argv([str(a) for a in shown] if shown is not None else argv)}")
        if self.dry_run:
            return CommandResult(argv, 0, 0.0, [])
        full_env = {**CHROOT_ENV, **(env or {})}
        return run_command(
            argv, lambda line: self.emit(OutputLine(self.step, line)), cancel=self.cancel, env=full_env,
            check=check, on_spawn=self.track_pid,
        )

    def chroot(self, argv: Sequence[str], *, check: bool = True) -> CommandResult:
        """Run a command inside the image's root, contained in its own namespaces (run.chroot)."""
        # The log shows the plain chroot it amounts to; the wrapper's own argv (a host python, a script path) says less.
        return self.run(chroot_argv(self.paths.root, argv), env=CHROOT_ENV, check=check, shown=["chroot", str(self.paths.root), *argv])

    def write(self, relative: str, content: str, mode: int = 0o644) -> None:
        """Write a text file inside the image's root (or, in a dry run, say so)."""
        self.write_bytes(relative, content.encode("utf-8"), mode)

    def write_bytes(self, relative: str, data: bytes, mode: int = 0o644) -> None:
        """Write a file inside the image's root through no link, with exactly `mode` (or, in a dry run, say so)."""
        self.note(f"write /{relative} ({len(data)} bytes, mode {mode:o})")
        if self.dry_run:
            return
        target = self._inside_root(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._inside_root(relative)  # a link the mkdir went through must still lead nowhere outside
        if target.is_symlink():
            target.unlink()  # never write through a link that could point out of the root
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(fd, mode)  # the umask must not change what the image gets
            out.write(data)

    def leads_inside_root(self, path: Path) -> bool:
        """Whether the folder holding `path` is inside the image's root once every link on the way is followed.

        An image's links are resolved on the host here (an absolute one names the
        host's file), so a hostile image's `var -> /etc` must never lead a write
        or a removal out.
        """
        return path.parent.resolve().is_relative_to(self.paths.root.resolve())

    def _inside_root(self, relative: str) -> Path:
        """`relative` under the root; EmiError when a link on its way leads out of the image."""
        target = self.paths.root / relative
        if not self.leads_inside_root(target):
            raise EmiError(f"refusing to write /{relative}: a link on its way leads out of the image",
                           hint="the image holds a symbolic link to a host path where emi-tui writes; only modify images you trust")
        return target

    def symlink(self, relative: str, points_to: str) -> None:
        self.note(f"link /{relative} -> {points_to}")
        if self.dry_run:
            return
        link = self._inside_root(relative)
        link.parent.mkdir(parents=True, exist_ok=True)
        self._inside_root(relative)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(points_to)

    def remove(self, relative: str) -> None:
        """Remove a file or folder inside the root, never following links out of it."""
        target = self.paths.root / relative
        if self.dry_run:
            self.note(f"remove /{relative}")
            return
        if not self.leads_inside_root(target):
            self.note(f"left /{relative}: a link on its way leads out of the image")
            return
        if target.is_symlink() or target.is_file():
            target.unlink()
            self.note(f"removed /{relative}")
        elif target.is_dir():
            shutil.rmtree(target)
            self.note(f"removed /{relative}/")
