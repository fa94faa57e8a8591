"""One race of test_work_root_race, run as root inside its own mount namespace (`unshare -m`).

    python -m tests.security.work_root_race PLANT ARTIFACT OUTPUT VICTIM STATE

It mounts a fresh tmpfs on /dev/shm (the machine's own is untouched), starts
an unprivileged attacker (`setpriv` to uid 65534) that holds or races for
/dev/shm/emi-tui as PLANT says and then keeps swapping whatever root makes in
it for a symlink to VICTIM, runs a real `emi-tui modify ARTIFACT` as root, and
prints what happened as JSON: the modify's exit code and output, what the
attacker managed, and the work root's owner and mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

NOBODY = "65534"
PARENT = "/dev/shm/emi-tui"

#: The attacker, as uid 65534: hold the parent as `how` says, then swap anything root makes in it for a link to the victim.
ATTACKER = r"""
import os, sys, time
how, parent, victim, log = sys.argv[1:5]
def note(line):
    with open(log, "a") as out:
        out.write(line + "\n")
if how == "dir 0777":
    os.mkdir(parent); os.chmod(parent, 0o777)
elif how == "dir 0700":
    os.mkdir(parent, 0o700)
elif how == "symlink to victim":
    os.symlink(victim, parent)
print("ready", flush=True)
mine = set()
deadline = time.monotonic() + float(sys.argv[5])
while time.monotonic() < deadline:
    if how == "race":
        try:
            os.mkdir(parent, 0o777); os.chmod(parent, 0o777); note("won the mkdir")
        except OSError:
            pass
    try:
        names = os.listdir(parent)
    except OSError:
        continue
    for name in names:
        path = os.path.join(parent, name)
        if name in mine:
            continue
        try:
            if os.lstat(path).st_uid == os.getuid():
                continue
            os.rename(path, path + ".stolen"); mine.add(name + ".stolen")
            os.symlink(victim, path); mine.add(name)
            note("swapped " + name)
        except OSError as exc:
            note("could not swap " + name + ": " + type(exc).__name__)
"""


def main(plant: str, artifact: str, output: str, victim: str, state: str) -> dict[str, object]:
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777,size=64g", "tmpfs", "/dev/shm"], check=True)
    log = "/dev/shm/attacker.log"
    with open(log, "w"):
        pass
    os.chown(log, int(NOBODY), int(NOBODY))
    attacker = subprocess.Popen(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", sys.executable, "-c", ATTACKER,
         plant, PARENT, victim, log, "60"],
        stdout=subprocess.PIPE, text=True, cwd="/",
    )
    assert attacker.stdout is not None
    if plant != "race":  # the attacker holds the parent before root starts; a race starts both at once
        assert attacker.stdout.readline().strip() == "ready"
    env = {key: value for key, value in os.environ.items() if not key.startswith("EMI_TUI_")}
    env.update(EMI_TUI_STATE_DIR=state, XDG_DATA_HOME=os.path.join(state, "data"), NO_COLOR="1", COLUMNS="400")
    began = time.monotonic()
    modify = subprocess.run([sys.executable, "-m", "emi_tui", "modify", artifact, "--output", output, "--no-zerofree"],
                            capture_output=True, text=True, env=env, timeout=600, stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - began
    attacker.kill()
    attacker.wait()
    parent = os.lstat(PARENT) if os.path.lexists(PARENT) else None
    with open(log) as notes:
        return {
            "code": modify.returncode, "printed": modify.stdout + modify.stderr, "seconds": seconds,
            "attacker": notes.read().splitlines(),
            "parent_uid": parent.st_uid if parent else None, "parent_mode": parent.st_mode if parent else None,
        }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:6])))
