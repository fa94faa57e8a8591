"""A folder review reads only what is in the folder: it follows no link in it, and never prints a line of a link's target.

The attacker shares the folder under review (a download folder, a shared
catalogue): they plant links named like image-id files, catalogs or
artifacts, pointing at a host secret (by absolute path or out through
`../..`), and linked folders leading out. Each link must be reported as
skipped, no line of a target may appear, and the real files in the folder
are still reviewed.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emi_tui.commands import review as review_command
from emi_tui.engine.review.review import review_paths

CHECKS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ID_TEXT = 'image_name="euca-debian-12-x86_64-emi"\nimage_version="2024.05.01"\nimage_arch="x86_64"\nimage_file="x.img"\n'
LINK_NAMES = ["image-id", "a.image-id", "EMI-IDs", "images.txt", "catalog", "old-emi-ids.list", "image-id.d"]


@CHECKS
@given(
    name=st.sampled_from(LINK_NAMES),
    nesting=st.lists(st.sampled_from(["a", "b", "deep", "x y"]), max_size=3),
    links_a_folder=st.booleans(),
    absolute=st.booleans(),
)
def test_a_folder_review_follows_no_link(tmp_path_factory, printed, name, nesting, links_a_folder, absolute):
    work = tmp_path_factory.mktemp("folder")
    marker = f"SECRET-{uuid.uuid4().hex}"
    outside = work / "outside"
    outside.mkdir()
    secret_text = f'image_name="{marker}"\nimage_version="{marker}"\nroot:{marker}:19000:0:99999:7:::\n'
    (outside / "image-id").write_text(secret_text)
    (outside / "shadow").write_text(secret_text)
    folder = work / "reviewed"
    inner = folder.joinpath(*nesting)
    inner.mkdir(parents=True)
    (folder / "real.image-id").write_text(ID_TEXT)  # a real file, still reviewed
    target = outside if links_a_folder else outside / ("image-id" if name.endswith("image-id") else "shadow")
    link = inner / name
    if absolute:
        link.symlink_to(target)
    else:
        link.symlink_to(Path(*[".."] * (len(nesting) + 1), target.relative_to(work)))

    entries = review_paths([folder])
    shown = json.dumps([e.to_json() for e in entries])
    assert marker not in shown
    skipped = [e for e in entries if e.source == str(link)]
    assert len(skipped) == 1 and skipped[0].problems[0].severity == "warning", shown
    assert skipped[0].problems[0].message.startswith("a link: not followed"), shown
    assert any(e.source == str(folder / "real.image-id") and e.fields.get("image_name") == "euca-debian-12-x86_64-emi" for e in entries), shown
    review_command.run([folder], as_json=False)  # the table the operator sees
    assert marker not in printed()
