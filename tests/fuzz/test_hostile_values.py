"""Hostile values in every field that reaches a command or a path: rejected where they stand, or harmless.

Each value of HOSTILE goes into each field of FIELDS, one at a time, in an
otherwise valid answer file. Validation either refuses it with a problem
located at that field, or accepts it; an accepted value is then followed
through the build's dry run (which runs nothing and needs no root), and the
plan must show that it stayed data: every command is an argv list in which
the value is one whole argument (never split into several, never inside a
`sh -c` string), every file the plan writes stays inside the image root or
the output folder, and nothing was executed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import threading
import types
import unicodedata
from datetime import date
from pathlib import Path, PurePosixPath

import pytest
import yaml

from emi_tui.engine import paths
from emi_tui.engine.answers import model as answers_module
from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build import bootstrap as bootstrap_step
from emi_tui.engine.build import preflight as preflight_step
from emi_tui.engine.build.job import BuildOptions, run_build
from emi_tui.engine.build.package import artifact_names
from emi_tui.engine.image.files import image_files
from emi_tui.engine.run.context import JobContext, JobPaths
from emi_tui.engine.run.events import OutputLine

from .harness import problem_errors
from .strategies import MIRROR

SOURCE = "hostile.yaml"
TODAY = date(2026, 11, 28)
CENTOS_MIRROR = "http://mirror.example/centos"
EXTRA_LINE = "deb http://extra.example/debian bookworm main"
NAME_MAX = 255
#: Whichever bootstrapper preflight settles on (mmdebstrap when installed, else debootstrap).
BOOTSTRAPPERS = ("debootstrap", "mmdebstrap")

#: id -> value ({pwned} becomes a file that must never be created)
HOSTILE = {
    "semicolon": "curl; rm -rf /",
    "subshell": "$(touch {pwned})",
    "backticks": "`touch {pwned}`",
    "apt-option": "-oAPT::x=1",
    "long-option": "--allow-unauthenticated",
    "newline-inside": "curl\nrm -rf /",
    "newline-at-end": "curl\n",
    "carriage-return": "curl\r",
    "nul": "curl\x00x",
    "traversal": "../../etc/passwd",
    "dotdot": "..",
    "absolute": "/etc/passwd",
    "cyrillic-lookalike": "\u0441url",
    "fullwidth-lookalike": "\uff43\uff55\uff52\uff4c",
    "right-to-left-override": "curl\u202egpj.img",
    "line-separator": "curl\u2028reboot",
    "very-long": "a" * 300,
    "space": "curl rm",
    "pipe": "curl|reboot",
    "glob": "*",
    "tilde": "~root",
    "ifs": "${IFS}reboot",
    "quotes": "'\"; reboot; #",
    "dash": "-",
    "empty": "",
}


def _deb(**extra) -> dict:
    return {"version": 1, "recipe": "debian-based", "mirror": MIRROR, **extra}


def _rpm(**extra) -> dict:
    return {"version": 1, "recipe": "centos-based", "mirror": CENTOS_MIRROR, **extra}


#: id -> (answers for a value v, the key path a rejection must point at, the field's value in the answers)
FIELDS = {
    "packages.add-deb": (lambda v, _: _deb(packages={"add": [v]}), "packages.add[0]", lambda a: a.packages.add[0]),
    "packages.add-rpm": (lambda v, _: _rpm(packages={"add": [v]}), "packages.add[0]", lambda a: a.packages.add[0]),
    "packages.remove-deb": (lambda v, _: _deb(packages={"remove": [v]}), "packages.remove[0]", lambda a: a.packages.remove[0]),
    "packages.remove-rpm": (lambda v, _: _rpm(packages={"remove": [v]}), "packages.remove[0]", lambda a: a.packages.remove[0]),
    "repositories.line-deb": (lambda v, _: _deb(repositories=[{"line": v}]), "repositories[0].line", lambda a: a.repositories[0].line),
    "repositories.line-deb-tail": (lambda v, _: _deb(repositories=[{"line": f"{EXTRA_LINE} {v}"}]), "repositories[0].line", lambda a: a.repositories[0].line),
    "repositories.line-rpm-tail": (lambda v, _: _rpm(repositories=[{"line": f"baseurl http://extra.example/el9/{v}"}]), "repositories[0].line", lambda a: a.repositories[0].line),
    "repositories.key": (lambda v, _: _deb(repositories=[{"line": EXTRA_LINE, "key": v}]), "repositories[0].key", lambda a: a.repositories[0].key),
    "repositories.key-file": (lambda v, keys: _deb(repositories=[{"line": EXTRA_LINE, "key": _key_file(keys, v)}]), "repositories[0].key", lambda a: a.repositories[0].key),
    "image.name": (lambda v, _: _deb(image={"name": v}), "image.name", lambda a: a.image.name),
    "image.version": (lambda v, _: _deb(image={"version": v}), "image.version", lambda a: a.image.version),
    "image.file": (lambda v, _: _deb(image={"file": v}), "image.file", lambda a: a.image.file),
    "image.file-img": (lambda v, _: _deb(image={"file": v + ".img"}), "image.file", lambda a: a.image.file),
    "mirror-deb": (lambda v, _: _deb(mirror=v), "mirror", lambda a: a.mirror),
    "mirror-deb-tail": (lambda v, _: _deb(mirror=MIRROR + v), "mirror", lambda a: a.mirror),
    "mirror-rpm-tail": (lambda v, _: _rpm(mirror=CENTOS_MIRROR + v), "mirror", lambda a: a.mirror),
    "metadata.url-tail": (lambda v, _: _deb(metadata={"url": "http://169.254.169.254" + v}), "metadata.url", lambda a: a.metadata.url),
    "release": (lambda v, _: _deb(release=v), "release", lambda a: a.release),
    "output.dir": (lambda v, _: _deb(output={"dir": v}), "output.dir", lambda a: a.output.dir),
    "output.dir-absolute": (lambda v, keys: _deb(output={"dir": str(keys.parent / "out" / v)}), "output.dir", lambda a: a.output.dir),
}
#: Fields whose accepted values may legitimately hold any printable text: a folder may be called "a b" or "ünï".
FREE_TEXT = {"output.dir", "output.dir-absolute", "repositories.key-file"}
#: Fields whose value is written into a file inside the image, never into a command.
DATA_ONLY = {"repositories.line-deb", "repositories.line-deb-tail", "repositories.line-rpm-tail", "image.name", "metadata.url-tail"}


#: A public key packet and a user id packet: the least that the answer-file check takes for an OpenPGP keyring.
_KEYRING_BYTES = bytes([0xC6, 13, 4, 0, 0, 0, 1, 1, 0, 9, 1, 0xFF, 0, 1, 1]) + bytes([0xCD, 1]) + b"k"


def _key_file(keys: Path, name: str) -> str:
    """An absolute path to a keyring file called `name`, created when the file system allows such a name."""
    path = keys / name
    try:
        if ".." not in Path(name).parts:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_KEYRING_BYTES)
    except (OSError, ValueError):
        pass
    return str(path)


# Known core bugs, by (field, value): each one's test is a strict xfail.
# A keyring the plain plan copies into the image (the build copies only files that look like keyrings).
KEYRING = "/usr/share/keyrings/debian-archive-bookworm-stable.gpg"  # not the recipe's own keyring, so it appears once
KNOWN: dict[tuple[str, str], str] = {}  # none open: the ones found were fixed in the core


def _cases():
    for field in FIELDS:
        for value_id in HOSTILE:
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[field, value_id])] if (field, value_id) in KNOWN else []
            yield pytest.param(field, value_id, marks=marks, id=f"{field}-{value_id}")


@pytest.fixture(scope="module")
def book() -> RecipeBook:
    return RecipeBook([paths.shipped_dir("recipes")])


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Every folder a dry run touches is under tmp_path; no tool is looked up or run on this machine."""
    for variable, name in [
        ("EMI_TUI_STATE_DIR", "state"), ("EMI_TUI_CACHE_DIR", "cache"), ("EMI_TUI_WORK_DIR", "work"), ("HOME", "home"),
        ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "xdg-state"), ("XDG_CACHE_HOME", "xdg-cache"),
    ]:
        monkeypatch.setenv(variable, str(tmp_path / name))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setattr(answers_module, "workstation_mirror", lambda releases: MIRROR)
    # The plan must not depend on which build tools this machine has: preflight sees them all, none is run.
    monkeypatch.setattr(preflight_step, "shutil", types.SimpleNamespace(which=lambda tool: f"/usr/sbin/{tool}", disk_usage=shutil.disk_usage))
    monkeypatch.setattr(bootstrap_step, "tool_version", lambda tool: f"{tool} 1.0 (fuzz)")
    return tmp_path


# --------------------------------------------------------------------------- reading the plan

_WRITE = re.compile(r"^write /(?P<rel>.*) \(\d+ bytes, mode [0-7]+\)$", re.DOTALL)
_LINK = re.compile(r"^link /(?P<rel>.*) -> .*$", re.DOTALL)
_REMOVE = re.compile(r"^remove /(?P<rel>\S.*)$", re.DOTALL)
_PUBLISH = re.compile(r"^write (?P<partial>.+), then rename it to (?P<final>/.*)$", re.DOTALL)
_SHELLS = {"sh", "bash", "dash", "zsh", "/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash"}


class Plan:
    """What a dry run says it would do: commands (argv lists), files written in the root, artifacts published."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.commands = [shlex.split(line[2:]) for line in lines if line.startswith("$ ")]
        self.root_paths = [m["rel"] for line in lines for m in [_WRITE.match(line) or _LINK.match(line) or _REMOVE.match(line)] if m]
        self.published = [(m["partial"], Path(m["final"])) for line in lines if (m := _PUBLISH.match(line))]


def dry_run(answers, recipe) -> tuple[object, Plan]:
    events: list = []
    result = run_build(answers, recipe, events.append, options=BuildOptions(dry_run=True), epoch=1_796_000_000)
    return result, Plan([e.text for e in events if isinstance(e, OutputLine)])


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system cannot exist
        return False


def _inside(path: Path, folder: Path) -> bool:
    normal = Path(os.path.normpath(path))
    return normal == folder or folder in normal.parents


def check_plan_is_harmless(plan: Plan, value: str, answers, recipe, sandbox: Path, output_existed: bool = True) -> None:
    output = Path(answers.output.dir).expanduser().resolve()
    work_root = sandbox / "work"
    assert plan.commands, "the dry run planned no command at all"
    for argv in plan.commands:
        assert all(isinstance(a, str) for a in argv)
        # Never a shell string.
        for i, arg in enumerate(argv[:-1]):
            if PurePosixPath(arg).name in {PurePosixPath(s).name for s in _SHELLS} and argv[i + 1] == "-c":
                raise AssertionError(f"a shell command string is planned: {argv}")
        # Never split: the words of the value (shell punctuation aside) do not turn up as consecutive arguments.
        words = re.findall(r"[^\s;|&`$(){}'\"<>]+", value)
        if len(words) > 1:
            n = len(words)
            assert not any(argv[i:i + n] == words for i in range(len(argv) - n + 1)), f"{value!r} was split in {argv}"
        # Every path under the work folder stays in it.
        for arg in argv:
            candidate = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
            if candidate.startswith(str(work_root)):
                assert _inside(Path(candidate), work_root), f"{candidate} leaves the work folder"
    for rel in plan.root_paths:
        parts = PurePosixPath(rel).parts
        assert ".." not in parts and not rel.startswith("/") and not any(ord(c) < 32 for c in rel), f"/{rel} is not inside the image root"
    assert plan.published, "the dry run publishes no artifact"
    for partial, final in plan.published:
        assert final.parent == output, f"{final} is not in the output folder {output}"
        assert "/" not in partial and partial.startswith(".") and partial != ".." and len(partial.encode()) > 1
    # The artifact names the real build would use, and the image it would make.
    ctx = JobContext(
        settled_answers=answers, settled_recipe=recipe, paths=JobPaths(work=work_root / "x", output=output, log=sandbox / "log"),
        emit=lambda _event: None, cancel=threading.Event(), dry_run=True,
    )
    for final in artifact_names(ctx).values():
        assert final.parent == output and _inside(final, output) and final.name not in ("", ".", "..")
    assert _inside(ctx.image_path, ctx.paths.work) and ctx.image_path.parent == ctx.paths.work
    # Nothing ran, nothing was created where the artifacts would go.
    assert not (sandbox / "pwned").exists()
    if not output_existed:
        assert not _exists(output), f"the dry run created {output}"


def check_value_in_commands(field: str, value: str, plan: Plan, answers) -> None:
    """Where the value must be one whole argument, it is; where it is data only, it is in no command."""
    everything = [arg for argv in plan.commands for arg in argv]
    if field.startswith("packages.add"):
        install = [argv for argv in plan.commands if "install" in argv and value in argv]
        assert install, f"{value!r} is not one whole argument of an install command: {plan.commands}"
    elif field.startswith("packages.remove"):
        assert any(("purge" in argv or "remove" in argv) and value in argv for argv in plan.commands), plan.commands
    elif field.startswith("repositories.key"):
        # The build copies the keyring's checked bytes itself: its path is in no command, its copy in the root.
        assert not any(value in arg for arg in everything), plan.commands
        assert "etc/apt/keyrings/emi-tui-extra-0.gpg" in plan.root_paths, plan.root_paths
    elif field == "mirror-deb" or field == "mirror-deb-tail":
        assert any(argv[0] in BOOTSTRAPPERS and argv[-1] == answers.mirror for argv in plan.commands), plan.commands
    elif field in ("image.file", "image.file-img", "image.version"):
        mke2fs = [argv for argv in plan.commands if argv[0] == "mke2fs"]
        assert mke2fs and PurePosixPath(mke2fs[0][-2]).name == answers.image.file
    elif field.startswith("output.dir"):
        tar = [argv for argv in plan.commands if argv[0] == "tar" and "-cf" in argv]
        assert tar and Path(tar[-1][tar[-1].index("-cf") + 1]).parent == Path(answers.output.dir).expanduser().resolve()
    if field in DATA_ONLY and value:
        assert not any(value in arg for arg in everything), f"{value!r} reached a command: {plan.commands}"


def check_rc_local(answers) -> None:
    """The metadata URL is one shell word in rc.local, read back unchanged."""
    rc_local = next(text for rel, (text, _mode) in image_files(answers.metadata).items() if rel.endswith("rc.local"))
    # shlex.quote's forms: bare safe characters, '...' and "'" for a quote.
    match = re.search(r"""^MD_URL=((?:[A-Za-z0-9_@%+=:,./-]|'[^']*'|"'")+)$""", rc_local, re.MULTILINE)
    assert match, "rc.local sets MD_URL on a line of its own"
    assert shlex.split(match.group(1)) == [answers.metadata.url.rstrip("/")]


@pytest.mark.parametrize(("field", "value_id"), list(_cases()))
def test_hostile_value(field, value_id, book, sandbox):
    value = HOSTILE[value_id].replace("{pwned}", str(sandbox / "pwned"))
    build_doc, key, stored = FIELDS[field]
    raw = yaml.safe_dump(build_doc(value, sandbox / "keys"), allow_unicode=False).encode()
    validation = validate_bytes(raw, SOURCE, book, TODAY)
    assert not problem_errors(validation.problems, SOURCE, raw)
    if not validation.ok:
        # Rejected: the problem says where, at the field itself.
        errors = [p for p in validation.problems if p.severity == "error"]
        assert any(p.key == key for p in errors), [str(p) for p in validation.problems]
        return
    answers, recipe = validation.answers, validation.recipe
    accepted = stored(answers)
    if field not in FREE_TEXT:
        assert not any(unicodedata.category(c) == "Cc" for c in accepted), f"{accepted!r} was accepted with a control character"
    output_existed = _exists(Path(answers.output.dir).expanduser().resolve())
    result, plan = dry_run(answers, recipe)
    if field.startswith("output.dir") and not result.ok and result.message.startswith("the output folder cannot be used: "):
        assert "Errno" not in result.message and _exists(Path(answers.output.dir).expanduser().resolve()) == output_existed
        return  # a file (such as /etc/passwd) is no folder: the dry run's preflight refuses it in words, making nothing
    assert result.ok, f"the dry run of accepted answers failed: {result.message}"
    check_plan_is_harmless(plan, accepted, answers, recipe, sandbox, output_existed)
    check_value_in_commands(field, accepted, plan, answers)
    if field == "metadata.url-tail":
        check_rc_local(answers)


# --------------------------------------------------------------------------- the checks themselves


def test_a_plain_build_plan_passes_the_checks(book, sandbox):
    """The baseline: a valid file's plan is read correctly (commands, root paths, artifacts)."""
    validation = validate_bytes(yaml.safe_dump(_deb(packages={"add": ["htop"]}, repositories=[{"line": EXTRA_LINE, "key": KEYRING}])).encode(), SOURCE, book, TODAY)
    assert validation.ok, validation.problems
    result, plan = dry_run(validation.answers, validation.recipe)
    assert result.ok, result.message
    assert any(argv[0] in BOOTSTRAPPERS for argv in plan.commands)
    assert any(argv[:2] == ["chroot", argv[1]] and "install" in argv and "htop" in argv for argv in plan.commands)
    assert "etc/apt/sources.list" in plan.root_paths and "etc/image-id" in plan.root_paths
    assert len(plan.published) == 5
    check_plan_is_harmless(plan, "htop", validation.answers, validation.recipe, sandbox)
    check_value_in_commands("packages.add-deb", "htop", plan, validation.answers)
    check_value_in_commands("repositories.key", KEYRING, plan, validation.answers)


def test_the_plan_checks_catch_what_they_must(book, sandbox):
    validation = validate_bytes(yaml.safe_dump(_deb()).encode(), SOURCE, book, TODAY)
    answers, recipe = validation.answers, validation.recipe
    _, plan = dry_run(answers, recipe)
    bad_plans = {
        "shell string": plan.lines + ["$ sh -c 'apt-get install curl; rm -rf /'"],
        "split value": plan.lines + ["$ apt-get install curl rm -rf /"],
        "escape by ..": plan.lines + ["write /etc/../../etc/passwd (1 bytes, mode 644)"],
        "artifact elsewhere": plan.lines + ["write .x.partial-1, then rename it to /etc/x.tgz"],
    }
    for what, lines in bad_plans.items():
        with pytest.raises(AssertionError):
            check_plan_is_harmless(Plan(lines), "curl; rm -rf /", answers, recipe, sandbox)
            raise RuntimeError(f"{what} was not caught")
    with pytest.raises(AssertionError):
        check_value_in_commands("image.name", "bookworm", plan, answers)  # a data-only value found in a command


def test_baseurl_line_with_a_key_for_a_deb_recipe(book, sandbox):
    """A yum line in a deb recipe is refused at the line (it used to crash Deb.add_repository in the build)."""
    raw = yaml.safe_dump(_deb(repositories=[{"line": "baseurl", "key": "/etc/passwd"}])).encode()
    validation = validate_bytes(raw, SOURCE, book, TODAY)
    if not validation.ok:
        assert any(p.key == "repositories[0].line" for p in validation.problems)
        return
    result, _ = dry_run(validation.answers, validation.recipe)
    assert result.ok, result.message
