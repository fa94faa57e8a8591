"""Class 5: a mirror's password and the build's host paths stay out of the image and of what is published beside it.

The chroot step and the hygiene of a build run on a scratch root (the
commands that would run inside it are only recorded), with the job's own
`LoggedSink` writing the log that is published beside the artifact, then the
package step's companions are written. The answers name a mirror and
repositories whose URLs carry generated credentials (with @, :, % and
non-ASCII letters), a keyring file and an output folder of the workstation.
Neither the password nor those host paths may appear in the image's stored
answers, in its package sources, in the published answers, in the log, or in
any event a renderer shows. Before issue 14 the stored answers carried all of
them.
"""

from __future__ import annotations

import json
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build import customize, distro
from emi_tui.engine.build.package import artifact_names, partial_name, write_companions
from emi_tui.engine.image import layout
from emi_tui.engine.run.context import JobContext, JobPaths
from emi_tui.engine.run.job import LoggedSink

from .test_keyrings import public_keyring

#: What a mirror URL may hold (the answer file's check); a repository line may hold any letter.
URL_SAFE = "abcxyzABC019._~%+-"
user_names = st.text(st.sampled_from(URL_SAFE), min_size=1, max_size=8).map(lambda s: f"u{s}")
mirror_passwords = st.text(st.sampled_from(URL_SAFE + ":@"), min_size=4, max_size=16).map(lambda s: f"pw{s}")
line_passwords = st.text(st.sampled_from(URL_SAFE + ":@éü中"), min_size=4, max_size=16).map(lambda s: f"pw{s}")
#: A lone token in the userinfo (https://TOKEN@host/): with a colon it would be a user name and a password.
tokens = st.text(st.sampled_from(URL_SAFE + "@éü中"), min_size=4, max_size=16).map(lambda s: f"tk{s}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(user=user_names, mirror_password=mirror_passwords, line_user=user_names | st.just("a@b"), line_password=line_passwords, token=tokens)
def test_no_password_nor_host_path_is_stored_or_published(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                                                         user: str, mirror_password: str, line_user: str, line_password: str, token: str) -> None:
    base = tmp_path_factory.mktemp("secrets")
    keyring = base / "operator-keys" / "extra.gpg"
    keyring.parent.mkdir()
    keyring.write_bytes(public_keyring())
    output = base / "operator-output"
    recipe = RecipeBook().recipes["debian-based"]
    answers = Answers.model_validate({
        "version": 1, "recipe": "debian-based", "release": "bookworm", "mirror": f"http://{user}:{mirror_password}@mirror.example/debian",
        "repositories": [{"line": f"deb https://{line_user}:{line_password}@extra.example/debian bookworm main", "key": str(keyring)},
                         {"line": f"deb https://{token}@token.example/debian bookworm main"}],
        "image": {"name": "euca-debian-emi", "version": "2026.01.01", "file": "euca-debian-2026.01.01-x86_64.img"},
        "output": {"dir": str(output)},
    })
    # What would run inside the root is only recorded: the files the build writes are what is checked.
    ran: list[list[str]] = []
    monkeypatch.setattr(JobContext, "chroot", lambda self, argv, check=True: ran.append(list(argv)))
    monkeypatch.setattr(customize, "mount_chroot", lambda ctx: None)
    monkeypatch.setattr(distro, "query", lambda ctx, argv: "")
    shown: list[object] = []
    log = base / "job.log"
    logged = LoggedSink(shown.append, log)
    ctx = JobContext(settled_answers=answers, settled_recipe=recipe, paths=JobPaths(work=base / "work", output=output, log=log),
                     emit=logged, cancel=threading.Event())
    (ctx.paths.root / "etc").mkdir(parents=True)
    output.mkdir()
    try:
        ctx.step = "chroot"
        customize.run(ctx)
        ctx.note(f"mirror: {answers.mirror}")  # as the preflight and a modify's mirror choice note it
        ctx.step = "hygiene"
        customize.hygiene(ctx)
        ctx.step = "package"
        names = artifact_names(ctx)
        partial = partial_name(names["tarball"])
        partial.write_bytes(b"artifact")
        write_companions(ctx, names, partial)
    finally:
        logged.close()
    root = ctx.paths.root
    places = {
        "stored answers": (root / layout.ANSWERS).read_text(),
        "sources": "".join(p.read_text() for p in sorted(root.glob("etc/apt/sources.list*/**/*")) + [root / "etc/apt/sources.list"] if p.is_file()),
        "published answers": partial_name(names["answers"]).read_text(),
        "log": log.read_text(),
        "events": "\n".join(repr(event) for event in shown),
    }
    for place, text in places.items():
        for secret in (mirror_password, line_password, token):
            for written in {secret, json.dumps(secret)[1:-1]}:  # YAML may carry it as a JSON string, \u-escaped
                assert written not in text, f"{secret!r} in the {place}:\n{text}"
    for place in ("stored answers", "published answers"):
        for host_path in (str(keyring), str(keyring.parent), str(output)):
            assert host_path not in places[place], f"{host_path} in the {place}:\n{places[place]}"
    assert f"{user}:***@mirror.example" in places["stored answers"]  # still says which mirror, and as whom
    assert "key: extra.gpg" in places["stored answers"]
