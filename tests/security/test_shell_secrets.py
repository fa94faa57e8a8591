"""Class 5: what is typed in `modify --shell` (a password, say) is never published.

A real shell step runs on a pty, in a tiny busybox root, with the modify's
log written by the job's own `LoggedSink` (the log that is published beside
the artifact) and the events passed on to a renderer. The operator types a
generated password: once in a command the terminal echoes back, once as
the answer to a prompt. It must not appear in the published log nor in any event; it goes
only to the session log beside it in the log folder, a new file of mode 0600
owned by root. Before issue 14 every typed and shown line was in the
published log as "typed: …".
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pexpect
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .tinyroot import busybox_root

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="runs the shell in the chroot as root, as emi-tui does")

DRIVER = """
import json, sys, threading
from pathlib import Path
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.modify.context import ModifyContext
from emi_tui.engine.modify.job import ArtifactSurvey, ModifyRequest
from emi_tui.engine.modify.shell import shell
from emi_tui.engine.run.context import JobPaths
from emi_tui.engine.run.job import LoggedSink
work, log = Path(sys.argv[1]), Path(sys.argv[2])
events = []
logged = LoggedSink(events.append, log)
image = work.parent / "euca-debian.img"
ctx = ModifyContext(
    settled_recipe=RecipeBook().recipes["debian-based"], paths=JobPaths(work=work, output=work.parent / "out", log=log),
    emit=logged, cancel=threading.Event(), request=ModifyRequest(image, shell=True),
    survey=ArtifactSurvey(image, "image", "none", "", [], 0), step="shell",
)
result = shell(ctx)
logged.close()
print("REPORT " + json.dumps({"result": str(result), "events": [repr(e) for e in events]}))
"""

#: Passwords as people make them, with the characters that URLs and shells make special; no quote, so `echo '…'` holds it.
passwords = st.text(st.sampled_from("abcXYZ019@:%!._-+=/#~é"), min_size=6, max_size=16).map(lambda s: f"Pw{s}")


@settings(max_examples=4, deadline=None, derandomize=True, database=None)
@given(password=passwords)
def test_a_password_typed_in_the_shell_stays_in_the_root_only_session_log(tmp_path_factory: pytest.TempPathFactory, password: str) -> None:
    base = tmp_path_factory.mktemp("shell")
    work = busybox_root(base / "work")
    logs = base / "logs"
    logs.mkdir()
    log = logs / "job-modify.log"
    child = pexpect.spawn(sys.executable, ["-c", DRIVER, str(work), str(log)], encoding="utf-8", timeout=60, dimensions=(30, 200),
                          env={**os.environ, "TERM": "dumb", "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    try:
        child.expect_exact("(emi-modify) /# ")  # busybox line editing drops what is typed before its prompt
        # $((…)) makes the line shown after a command differ from the command line the terminal echoes.
        child.sendline(f"echo '{password}' > /dev/null; echo step-$((0+1))")  # typed, and echoed back by the terminal
        child.expect_exact("step-1")
        child.sendline("read secret; echo step-$((1+1))")
        child.sendline(password)  # typed at a prompt, as a password would be
        child.expect_exact("step-2")
        child.sendline("exit")
        child.expect(r"REPORT (\{.*\})\r?\n")
        report = json.loads(child.match.group(1))
    finally:
        child.close(force=True)
    published = log.read_text()
    assert password not in published, published
    assert not [event for event in report["events"] if password in event or "typed:" in event]
    assert "interactive shell: " in published and "lines typed" in published, published
    session = logs / "job-modify.shell.log"
    info = session.lstat()
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == 0, oct(info.st_mode)
    private = session.read_text()
    assert f"typed: {password}" in private, private  # the operator keeps the full record, privately
    assert str(session) in published  # and the published log says where it is
