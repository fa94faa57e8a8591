"""One process runner: no module of emi_tui but the runner spawns a process, and children get a clean environment.

The walk reads every module under emi_tui/ (recursively) as a syntax tree and
reports any import of subprocess, pexpect, ptyprocess or pty, and any call that
starts a process behind the runner's back (os.system, os.popen, os.exec*,
os.spawn*, os.fork, os.forkpty), outside emi_tui/engine/run/runner.py. A module
that needs a process asks the runner for it; the one exception (ALLOWED) is
the helper the runner starts to enter an image's root, which only execs.
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

from processes import gone_or_zombie

import emi_tui
from emi_tui.engine.run import runner
from emi_tui.engine.run.runner import ENDED, TIMED_OUT, run_captured, run_command, start_process

PACKAGE = Path(emi_tui.__file__).resolve().parent
#: The one module allowed to spawn processes, relative to the package.
RUNNER = Path("engine/run/runner.py")
#: Modules whose import alone means spawning processes by hand.
FORBIDDEN_MODULES = {"subprocess", "pexpect", "ptyprocess", "pty"}
#: os functions that start or replace a process.
FORBIDDEN_OS_CALL = re.compile(r"^(system|popen|fork|forkpty|exec\w*|spawn\w*|posix_spawn\w*)$")
#: Modules allowed to hold such calls besides the runner. enter_root is the program the runner starts (through
#: unshare) for a command inside an image's root: it spawns nothing, it replaces itself with that command by exec.
ALLOWED: set[Path] = {Path("engine/run/enter_root.py")}


def _violations_in(source: str, name: str) -> list[str]:
    tree = ast.parse(source, filename=name)
    found: list[str] = []
    os_names = {"os"}  # what `os` is called in this module (import os as o)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{name}:{node.lineno}: import {alias.name}")
                if alias.name == "os":
                    os_names.add(alias.asname or "os")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            top = node.module.split(".")[0]
            if top in FORBIDDEN_MODULES:
                found.append(f"{name}:{node.lineno}: from {node.module} import ...")
            if node.module == "os":
                found += [f"{name}:{node.lineno}: from os import {a.name}" for a in node.names if FORBIDDEN_OS_CALL.match(a.name)]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        is_os_call = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in os_names
        if is_os_call and FORBIDDEN_OS_CALL.match(func.attr):
            found.append(f"{name}:{node.lineno}: os.{func.attr}()")
        dynamic = (isinstance(func, ast.Name) and func.id == "__import__") or (
            isinstance(func, ast.Attribute) and func.attr == "import_module"
        )
        named = node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
        if dynamic and named and node.args[0].value.split(".")[0] in FORBIDDEN_MODULES:
            found.append(f"{name}:{node.lineno}: imports {node.args[0].value} by name")
    return sorted(found, key=lambda line: int(line.split(":")[1]))


def violations(package: Path, allowed: set[Path] = ALLOWED) -> list[str]:
    """Every process spawned outside the runner, as 'path:line: what', in every module under `package`."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative == RUNNER or relative in allowed:
            continue
        found += _violations_in(path.read_text(encoding="utf-8"), str(Path(package.name) / relative))
    return found


def test_no_module_but_the_runner_spawns_a_process():
    found = violations(PACKAGE)
    assert not found, "spawn processes through emi_tui/engine/run/runner.py only:\n" + "\n".join(found)


def test_the_checker_reports_every_kind_of_planted_violation(tmp_path):
    package = tmp_path / "emi_tui"
    (package / "engine" / "run").mkdir(parents=True)
    (package / "deep" / "er").mkdir(parents=True)
    (package / "engine" / "run" / "runner.py").write_text("import subprocess\nimport pexpect\nos.fork()\n")
    (package / "clean.py").write_text("import os\nos.path.join('a')\nos.environ.get('X')\nfrom os import path\n")
    (package / "deep" / "er" / "bad.py").write_text(
        "import subprocess\n"
        "from pexpect import spawn\n"
        "import pty\n"
        "import os\n"
        "os.system('true')\n"
        "os.popen('true')\n"
        "os.execvp('true', ['true'])\n"
        "os.spawnlp(os.P_WAIT, 'true', 'true')\n"
        "os.fork()\n"
        "from os import execv\n"
        "import os as o\n"
        "o.forkpty()\n"
        "import ptyprocess.ptyprocess\n"
        "__import__('subprocess')\n"
    )
    found = violations(package)
    assert [line.split(":", 2)[1] for line in found] == [str(n) for n in (1, 2, 3, 5, 6, 7, 8, 9, 10, 12, 13, 14)], found
    assert all(line.startswith("emi_tui/deep/er/bad.py:") for line in found), found
    # The runner itself, and only it, may spawn; an allow-listed file is skipped too.
    assert violations(package, {Path("deep/er/bad.py")}) == []


def _env_lines(lines: list[str]) -> dict[str, str]:
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_children_get_path_and_locale_but_not_the_operators_variables(monkeypatch):
    monkeypatch.setenv("EMI_TUI_SECRET_TEST", "1")
    monkeypatch.setenv("TERM", "xterm-test")
    captured = _env_lines(run_captured(["env"], timeout=60, check=True).stdout.splitlines())
    streamed: list[str] = []
    run_command(["env"], streamed.append, timeout=60)
    log = io.StringIO()
    process = start_process(["env"], log=log)
    try:
        while process.expect([r"\n"], timeout=60) not in (ENDED, TIMED_OUT):
            pass
    finally:
        process.stop()
    for env in (captured, _env_lines(streamed), _env_lines(log.getvalue().splitlines())):
        assert "EMI_TUI_SECRET_TEST" not in env, env
        assert env["PATH"] == runner.BASE_ENV["PATH"]
        assert env["LANG"] == "C.UTF-8"
        assert env["TERM"] == "xterm-test"  # one of the few passed through


def test_tests_point_children_at_fake_tools_through_base_env(tmp_path, monkeypatch):
    tool = tmp_path / "emi-fake-tool"
    tool.write_text("#!/bin/sh\necho fake \"$@\"\n")
    tool.chmod(0o755)
    assert runner.which(tool.name) is None
    monkeypatch.setitem(runner.BASE_ENV, "PATH", f"{tmp_path}:{runner.BASE_ENV['PATH']}")
    assert runner.which(tool.name) == str(tool)
    assert run_captured([tool.name, "--", "x"], timeout=60).stdout == "fake -- x\n"


def test_a_started_process_is_stopped_with_its_whole_session():
    process = start_process(["sh", "-c", "sleep 600 & echo child=$!; wait"])
    try:
        assert process.expect([r"child=(\d+)"], timeout=60) == 0
        grandchild = int(process.after.split("=")[1])
        assert process.is_alive()
    finally:
        process.stop()
    assert not process.is_alive()
    assert gone_or_zombie(grandchild), f"process {grandchild} survived stop()"
    process.stop()  # a second stop does nothing


