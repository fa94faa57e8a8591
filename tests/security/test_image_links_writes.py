"""Class 3 (symlinks escape), on writes into an image: a hostile image's links never lead a write or a removal out.

A modify works on an image made elsewhere. Its hygiene removes `tmp/*`,
rotated logs and host keys, empties `/var/log`, and writes files such as
/etc/machine-id, all by host paths under the mounted root, where an image's
absolute link (`var -> /etc`, `tmp -> /`) names the host's own files. Here the
image holds such a link (generated: which folder, where it points) to a folder
of root's outside the image, and nothing there may change.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from emi_tui.engine.build import customize
from emi_tui.engine.errors import EmiError
from emi_tui.engine.run.context import JobContext, JobPaths
from tests.security.hostile import SECURITY

LINKED = ["tmp", "var", "var/log", "var/tmp", "etc", "etc/ssh", "var/lib"]
HOST_FILES = {"shadow": "root:$6$secret\n", "syslog.1": "old\n", "auth.log.gz": "gz\n", "ssh_host_rsa_key": "key\n", "passwd": "root:x:0:0\n"}


def snapshot(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    return {str(p.relative_to(folder)): (p.lstat().st_mode, p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")}


@SECURITY
@given(linked=st.sampled_from(LINKED), absolute=st.booleans(), extra=st.sampled_from(["", "sub"]))
def test_an_images_link_never_leads_hygiene_out_of_the_image(tmp_path: Path, linked: str, absolute: bool, extra: str) -> None:
    case = tmp_path / "case"
    shutil.rmtree(case, ignore_errors=True)
    host = case / "host"
    (host / "sub").mkdir(parents=True)
    for name, text in HOST_FILES.items():
        (host / name).write_text(text)
        (host / "sub" / name).write_text(text)
    work = case / "work"
    root = work / "root"
    for folder in ("etc/ssh", "var/log", "var/lib/apt/lists", "var/tmp", "tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    link = root / linked
    shutil.rmtree(link)
    target = host / extra if extra else host
    link.symlink_to(target if absolute else Path(os.path.relpath(target, link.parent)))
    before = snapshot(host)
    ctx = JobContext(paths=JobPaths(work, case / "out", case / "log"), emit=lambda _: None, cancel=threading.Event())
    ctx.recipe = SimpleNamespace(cleanup=[])  # type: ignore[assignment]

    for name in HOST_FILES:
        ctx.remove(f"{linked}/{name}")
    try:
        customize.clean_root(ctx)
    except EmiError as refused:  # a write the link would lead out (etc/machine-id through etc -> host) is refused
        assert "leads out of the image" in refused.message
    try:
        ctx.write(f"{linked}/planted", "x")
        raise AssertionError("a write through a link out of the image was not refused")
    except EmiError as refused:
        assert "leads out of the image" in refused.message

    assert snapshot(host) == before
