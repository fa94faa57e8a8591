"""What the operator asks a modify for (`ModifyRequest`), and what it comes to (`ModifyResult`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.run.events import JobFacts


@dataclass
class ModifyRequest:
    """What the operator asked for: one artifact and any combination of changes."""

    artifact: Path
    upgrade: bool = False
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    script: Path | None = None  # --run: copied into the image and run in the chroot
    metadata: Metadata | None = None  # --answers FILE's metadata (or the wizard's): regenerates rc.local and the rest
    answers_file: Path | None = None  # where `metadata` came from, for the log
    shell: bool = False
    grow: str | None = None
    version: str | None = None  # default: today (today.N when the image already is today's)
    output: Path | None = None  # default: the artifact's folder
    dry_run: bool = False
    zerofree: bool = True  # False only to measure what zerofree saves (--no-zerofree)
    work_root: Path | None = None
    #: Wrapped around the interactive shell, so that a renderer can step aside (the TUI suspends itself).
    shell_wrapper: Callable[[], AbstractContextManager[object]] | None = None

    def changes(self) -> list[str]:
        """The changes as command-line words, for the log and the stored answers' lineage."""
        words = ["--upgrade"] if self.upgrade else []
        words += [f"--add {' '.join(self.add)}"] if self.add else []
        words += [f"--remove {' '.join(self.remove)}"] if self.remove else []
        words += [f"--run {self.script.name}"] if self.script else []
        words += [f"--answers {self.answers_file.name if self.answers_file else '(metadata)'}"] if self.metadata else []
        words += ["--shell"] if self.shell else []
        words += [f"--grow {self.grow}"] if self.grow else []
        return words or ["re-stamp only"]


@dataclass
class ModifyResult:
    """The outcome, with what the Done screen shows: both image-ids and the package diff."""

    ok: bool
    artifacts: list[Path] = field(default_factory=list)
    old_image_id: str = ""
    new_image_id: str = ""
    added: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    upgraded: dict[str, tuple[str, str]] = field(default_factory=dict)
    log_path: Path | None = None
    failed_step: str | None = None
    message: str = ""
    hint: str = ""
    bad_artifact: bool = False  # the artifact itself is unusable (bad input: exit code 2)
    cancelled: bool = False  # stopped by the operator, a signal, the TUI's cancel or `exit 130` in the shell
    seconds: float = 0.0
    facts: JobFacts = field(default_factory=JobFacts)

    @property
    def image_id(self) -> str:
        """The new /etc/image-id (what a build's result calls `image_id`)."""
        return self.new_image_id
