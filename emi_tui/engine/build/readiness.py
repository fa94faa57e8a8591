"""Will this build work? The checks the wizard's Summary and `build --dry-run` run before anything is built.

Each check says what it looked at and what it found, in words an operator
uses: ok, a warning (the build may go on after a second confirmation), an
error (the build must not start), or "not checked" (it needs the network and
the run is offline: never reported as passed, never a failure).

`check_readiness` never raises for bad answers and never writes outside the
cache folder (the package index is kept there, per mirror, release and arch,
as the estimate keeps it): it only looks. Every network request has a timeout
(`NETWORK_TIMEOUT_S`), so the wizard can run it on a worker thread.
"""

from __future__ import annotations

import enum
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emi_tui.engine.answers.keyrings import keyring_problem
from emi_tui.engine.answers.model import Answers, effective_packages
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.answers.sources import source_line_problem
from emi_tui.engine.answers.trust import trust_warnings
from emi_tui.engine.build.aptlists import fetch_shared_index, package_index
from emi_tui.engine.build.emulation import BINFMT_DIR, emulation_note, emulation_problem, is_foreign
from emi_tui.engine.build.estimate import PackageIndex, estimate, usable_bytes
from emi_tui.engine.build.folderprobe import absolute_folder, probe_folder
from emi_tui.engine.build.mirrorprobe import NETWORK_TIMEOUT_S, fetch_problem, release_fields, repository_urls
from emi_tui.engine.build.preflight import space_needs, unreachable_mirror
from emi_tui.engine.errors import EmiError
from emi_tui.engine.sizes import human
from emi_tui.engine.text import redact_secrets

NOT_CHECKED_OFFLINE = "not checked: offline"


class CheckStatus(enum.Enum):
    """The outcome of one readiness check."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class Check:
    """One thing looked at before a build: `name` is stable (tests, JSON), `label` is for people."""

    name: str
    label: str
    status: CheckStatus
    message: str
    hint: str = ""
    #: The answer key whose step fixes it (the Summary jumps there), or None.
    key: str | None = None


@dataclass(frozen=True)
class Readiness:
    """Every check of one set of answers, in the order they ran."""

    checks: tuple[Check, ...]

    def with_status(self, status: CheckStatus) -> list[Check]:
        return [check for check in self.checks if check.status is status]

    @property
    def errors(self) -> list[Check]:
        return self.with_status(CheckStatus.ERROR)

    @property
    def warnings(self) -> list[Check]:
        return self.with_status(CheckStatus.WARNING)

    @property
    def can_build(self) -> bool:
        """No errors (warnings still need the operator's second confirmation)."""
        return not self.errors


#: (mirror, release, component, arch, keyring) -> the parsed Packages index; may raise EmiError.
IndexLoader = Callable[[str, str, str, str, "str | None"], PackageIndex]
_INDEXES: dict[tuple[str, str, str, str], tuple[float, PackageIndex]] = {}
_INDEXES_LOCK = threading.Lock()


def load_index(mirror: str, release: str, component: str, arch: str, keyring: str | None) -> PackageIndex:
    """The mirror's Packages index of `release` and `arch`, checked against its InRelease (aptlists); parsed once per download."""
    shared = fetch_shared_index(mirror, release, component, arch, keyring, timeout=NETWORK_TIMEOUT_S)
    stamp = shared.packages.stat().st_mtime
    key = (mirror, release, component, arch)
    with _INDEXES_LOCK:
        kept = _INDEXES.get(key)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    index = package_index(shared)
    with _INDEXES_LOCK:
        _INDEXES[key] = (stamp, index)
    return index


def check_readiness(
    answers: Answers, recipe: Recipe, *, offline: bool, work_parent: Path | None = None,
    index_loader: IndexLoader | None = None, mountinfo: Path | None = None, binfmt_dir: Path = BINFMT_DIR,
) -> Readiness:
    """Run every readiness check of `answers` built from `recipe`.

    Local checks (output folder, space, keyrings, package names) always run;
    the mirror and the package index are checked unless `offline`.
    `work_parent` is where the job's work folder goes (default: where a build
    would choose); `index_loader`, `mountinfo` and `binfmt_dir` replace the network,
    /proc/self/mountinfo and /proc/sys/fs/binfmt_misc in tests. Never raises: a check that cannot run is an error.
    """
    checks: list[Check] = []
    _Run(answers, recipe, offline, work_parent, index_loader or load_index, mountinfo, binfmt_dir).run(checks)
    return Readiness(tuple(checks))


def _failed_check(exc: Exception, name: str) -> Check:
    """A group of checks that raised (answers the wizard let through half-made, say): an error, never a traceback."""
    what = exc.message if isinstance(exc, EmiError) else f"{type(exc).__name__}: {exc}"
    return Check(name, "Answers", CheckStatus.ERROR, f"the checks stopped: {what}", getattr(exc, "hint", "") or "check the answers (emi-tui validate)")


class _Run:
    """One run of the checks: what the network checks learn (the index, the estimate) feeds the space checks."""

    def __init__(self, answers: Answers, recipe: Recipe, offline: bool, work_parent: Path | None,
                 loader: IndexLoader, mountinfo: Path | None, binfmt_dir: Path = BINFMT_DIR) -> None:
        self.answers, self.recipe, self.offline, self.work_parent = answers, recipe, offline, work_parent
        self.loader, self.mountinfo, self.binfmt_dir = loader, mountinfo, binfmt_dir
        self.estimate_bytes: int | None = None

    def run(self, checks: list[Check]) -> None:
        """Each group on its own: one that raises is an error check, and the others still run."""
        mirror_ok, unbuildable = False, False

        def mirror() -> list[Check]:
            nonlocal mirror_ok, unbuildable
            check = self.mirror()
            mirror_ok = check.status is CheckStatus.OK
            if check.status is CheckStatus.ERROR and self.answers.mirror and not self.offline:
                said = unreachable_mirror(self.recipe, self.answers.mirror, self.answers.resolved_release)
                if said:  # a recipe no mirror here serves (Ubuntu, CentOS): one line, and no more errors below it
                    unbuildable = True
                    return [Check("mirror", "Mirror", CheckStatus.ERROR, said[0], said[1], "mirror")]
            return [check]

        def keyring() -> list[Check]:
            return [] if unbuildable else [self.keyring()]

        groups = (self.emulation, mirror, lambda: self.packages(mirror_ok), keyring, self.trust, self.repositories, self.folders, self.leftovers)
        for group in groups:
            try:
                checks += group()
            except Exception as exc:  # bad answers never raise: an error check says what went wrong
                if not any(check.name == "answers" for check in checks):  # one is enough: the same cause, most likely
                    checks.append(_failed_check(exc, "answers"))

    # --- emulation (local): a foreign arch's programs run only through qemu-user

    def emulation(self) -> list[Check]:
        arch = self.answers.arch
        if not is_foreign(arch):
            return []
        problem = emulation_problem(arch, self.binfmt_dir)
        if problem:
            return [Check("emulation", "Emulation", CheckStatus.ERROR, problem[0], problem[1], "arch")]
        return [Check("emulation", "Emulation", CheckStatus.OK, emulation_note(arch, self.binfmt_dir), key="arch")]

    # --- the mirror and its package index (network)

    def mirror(self) -> Check:
        answers, recipe = self.answers, self.recipe
        label = "Mirror"
        if not answers.mirror:
            return Check("mirror", label, CheckStatus.ERROR, "no mirror is set", f"name a {recipe.distro} mirror on the Distro step", "mirror")
        if self.offline:
            return Check("mirror", label, CheckStatus.NOT_CHECKED, NOT_CHECKED_OFFLINE, key="mirror")
        mirror, release = answers.mirror.rstrip("/"), answers.resolved_release
        shown = redact_secrets(mirror)
        if recipe.family != "deb":
            url = f"{mirror}/{release}/"
            why = fetch_problem(url)
            if why:
                return Check("mirror", label, CheckStatus.ERROR, f"{shown}/{release}/ {why}", "check the mirror's address and the network", "mirror")
            return Check("mirror", label, CheckStatus.OK, f"{shown} serves {release}", key="mirror")
        fields, why = release_fields(mirror, release)
        if fields is None:
            return Check("mirror", label, CheckStatus.ERROR, f"{shown} does not serve {recipe.distro} {release}: {why}",
                         f"check the mirror's address (it is the folder that holds dists/{release}) and the network", "mirror")
        names = {fields.get("Suite", ""), fields.get("Codename", "")}
        if release not in names:
            return Check("mirror", label, CheckStatus.ERROR,
                         f"{shown}/dists/{release} is {' / '.join(sorted(n for n in names if n)) or 'an unnamed release'}, not {release}",
                         "choose another release or mirror", "mirror")
        problems = self._release_mismatch(fields)
        if problems:
            return Check("mirror", label, CheckStatus.ERROR, f"{shown} {release}: {'; '.join(problems)}", "choose a mirror that carries them", "mirror")
        origin = " ".join(fields.get(k, "") for k in ("Origin", "Label")).lower()
        if origin.strip() and recipe.distro not in origin:
            return Check("mirror", label, CheckStatus.WARNING,
                         f"{shown} says its {release} is {fields.get('Origin') or fields.get('Label')}'s, not {recipe.distro}'s",
                         f"check that it is a {recipe.distro} mirror", "mirror")
        return Check("mirror", label, CheckStatus.OK, f"{shown} serves {recipe.distro} {release}", key="mirror")

    def _release_mismatch(self, fields: dict[str, str]) -> list[str]:
        arch, component = self.recipe.arches[self.answers.arch], self.recipe.components[0]
        problems = []
        arches, components = fields.get("Architectures", "").split(), fields.get("Components", "").split()
        if arches and arch not in arches:
            problems.append(f"it carries no {arch} packages (only {', '.join(arches)})")
        if components and component not in components and not any(c.endswith(f"/{component}") for c in components):
            problems.append(f"it has no {component} component")
        return problems

    def packages(self, mirror_ok: bool) -> list[Check]:
        answers, recipe = self.answers, self.recipe
        label, size_label = "Packages", "Image size"
        if recipe.family != "deb":
            return [Check("packages", label, CheckStatus.NOT_CHECKED, "not checked: emi-tui reads only Debian package indexes; dnf checks the names", key="packages")]
        if self.offline:
            return [Check("packages", label, CheckStatus.NOT_CHECKED, NOT_CHECKED_OFFLINE, key="packages"),
                    Check("image_size", size_label, CheckStatus.NOT_CHECKED, NOT_CHECKED_OFFLINE, key="size")]
        if not mirror_ok:
            why = "not checked: the mirror check failed"
            return [Check("packages", label, CheckStatus.NOT_CHECKED, why, key="packages"), Check("image_size", size_label, CheckStatus.NOT_CHECKED, why, key="size")]
        release, component, arch = answers.resolved_release, recipe.components[0], recipe.arches[answers.arch]
        try:
            index = self.loader(answers.resolved_mirror, release, component, arch, recipe.keyring)
        except EmiError as exc:
            error = Check("packages", label, CheckStatus.ERROR, f"cannot read the package index: {redact_secrets(exc.message)}", exc.hint, "packages")
            return [error, Check("image_size", size_label, CheckStatus.NOT_CHECKED, "not checked: no package index", key="size")]
        added = list(answers.packages.add)
        wanted = recipe.base_for(answers.arch) + effective_packages(answers, recipe)
        removed = [p for p in recipe.trim + answers.packages.remove if p not in added]
        guess = estimate(index, wanted, removed)
        self.estimate_bytes = guess.needed_bytes
        where = f"{release} {component} {arch}"
        missing = [f"{name!r}{hint}" for name, hint in guess.missing if name in added]
        theirs = [name for name, _ in guess.missing if name not in added]
        checks = []
        if missing:
            checks.append(Check("packages", label, CheckStatus.ERROR, f"not in {where}: {', '.join(missing)}", "fix or remove them on the Packages step", "packages"))
        elif theirs:
            checks.append(Check("packages", label, CheckStatus.ERROR, f"the recipe {recipe.name} asks for packages {where} lacks: {', '.join(theirs)}",
                                "choose another release, or fix the recipe", "recipe"))
        else:
            found = f"all {len(added)} added packages are" if added else "the recipe's packages are"
            checks.append(Check("packages", label, CheckStatus.OK, f"{found} in {where}", key="packages"))
        capacity = usable_bytes(answers.size_bytes)
        needs = f"needs about {human(guess.needed_bytes)} ({guess.packages} packages); the {answers.size} root holds {human(capacity)}"
        if guess.needed_bytes > capacity:
            checks.append(Check("image_size", size_label, CheckStatus.ERROR, needs, "choose a larger size, or remove packages", "size"))
        else:
            checks.append(Check("image_size", size_label, CheckStatus.OK, needs, key="size"))
        return checks

    # --- keyrings and repositories

    def keyring(self) -> Check:
        keyring, distro = self.recipe.keyring, self.recipe.distro
        label = "Archive keyring"
        if not keyring:
            return Check("keyring", label, CheckStatus.WARNING, f"the recipe {self.recipe.name} names no {distro} archive keyring: packages are not verified against one",
                         "add keyring: to the recipe", "recipe")
        if not os.path.isfile(keyring):
            return Check("keyring", label, CheckStatus.ERROR, f"the {distro} archive keyring {keyring} is not on this workstation",
                         f"install the {distro} archive keyring there (it verifies the mirror's packages)", "recipe")
        return Check("keyring", label, CheckStatus.OK, f"{keyring} is there")

    def trust(self) -> list[Check]:
        """A recipe that replaces a shipped one, and sources apt installs from unchecked: allowed, never silently."""
        said = trust_warnings(self.answers, self.recipe)
        if not said:
            return []
        return [Check("trust", "Trust", CheckStatus.WARNING, "; ".join(redact_secrets(w) for w in said),
                      "check that you meant it", "repositories" if self.answers.repositories else "recipe")]

    def repositories(self) -> list[Check]:
        checks = []
        for number, repository in enumerate(self.answers.repositories, start=1):
            name, label, key = f"repository_{number}", f"Repository {number}", f"repositories[{number - 1}]"
            line = redact_secrets(repository.line)
            why = source_line_problem(repository.line, self.recipe.family)
            if not why and repository.key:
                why = keyring_problem(repository.key)
            if why:
                checks.append(Check(name, label, CheckStatus.ERROR, redact_secrets(why), "fix it on the Packages step", key))
                continue
            urls = repository_urls(repository.line, self.recipe.family)
            if self.offline or not urls:
                checks.append(Check(name, label, CheckStatus.NOT_CHECKED, f"{line}: {NOT_CHECKED_OFFLINE if self.offline else 'not checked: a file:// source'}", key=key))
                continue
            problem = None
            for url in urls:
                problem = fetch_problem(url)
                if problem is None or not problem.startswith("answers HTTP"):
                    break  # read, or no answer at all (the next file would not answer either)
            if problem:
                checks.append(Check(name, label, CheckStatus.ERROR, f"{redact_secrets(url)} {problem}", "check the repository's address and the network", key))
            else:
                checks.append(Check(name, label, CheckStatus.OK, f"{line}: answers", key=key))
        return checks

    # --- folders (local)

    def leftovers(self) -> list[Check]:
        """Killed builds' mounts and files still take the work folder's space: said, not an error."""
        dead = _dead_builds()
        if not dead:
            return []
        return [Check("leftovers", "Killed builds", CheckStatus.WARNING,
                      f"{dead} dead build(s) left files or mounts behind, which may take the work folder's space", "run `emi-tui cleanup`")]

    def folders(self) -> list[Check]:
        work_need, output_need = space_needs(self.estimate_bytes, self.answers.size_bytes)
        guess = "" if self.estimate_bytes else " (the image's size: the estimate needs the package index)"
        output = absolute_folder(self.answers.output.dir)
        probe = probe_folder(output, self.mountinfo) if self.mountinfo else probe_folder(output)
        checks = []
        if not probe.ok:
            checks.append(Check("output_folder", "Output folder", CheckStatus.ERROR, probe.problem, probe.fix, "output.dir"))
            checks.append(Check("output_space", "Output space", CheckStatus.NOT_CHECKED, "not checked: the folder cannot be used", key="output.dir"))
        else:
            made = "is a folder you may write in" if probe.exists else f"will be made in {probe.nearest}"
            checks.append(Check("output_folder", "Output folder", CheckStatus.OK, f"{output} {made}", key="output.dir"))
            checks.append(_space("output_space", "Output space", output, probe.free_bytes, output_need, guess, "output.dir"))
        work = self.work_parent or _default_work_root(self.answers.size_bytes)
        work_probe = probe_folder(work, self.mountinfo) if self.mountinfo else probe_folder(work)
        if not work_probe.ok:
            checks.append(Check("work_space", "Work folder", CheckStatus.ERROR, work_probe.problem, f"{work_probe.fix} (--work-dir)"))
        else:
            checks.append(_space("work_space", "Work folder", work, work_probe.free_bytes, work_need, guess, None))
        return checks


def _dead_builds() -> int:
    from emi_tui.engine.run.cleanup import find_dead_builds  # what `emi-tui cleanup` would undo

    try:
        return len(find_dead_builds())
    except EmiError:  # a state folder that is not private: cleanup says so when it runs
        return 0


def _space(name: str, label: str, folder: Path, free: int, need: int, guess: str, key: str | None) -> Check:
    said = f"{folder}: {human(free)} free, the build needs about {human(need)}{guess}"
    if free < need:
        return Check(name, label, CheckStatus.ERROR, said, "free some space, or choose another folder", key)
    return Check(name, label, CheckStatus.OK, said, key=key)


def _default_work_root(size_bytes: int) -> Path:
    from emi_tui.engine.run.job import choose_work_root  # the job runner's own choice, so the check looks where the build will work

    return choose_work_root(size_bytes)
