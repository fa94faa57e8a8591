"""The checks before a build (wizard Summary, `build --dry-run`): a mirror on 127.0.0.1, folders in tmp, never a raise."""

from __future__ import annotations

import lzma
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_http import serve_folder

from emi_tui.engine.answers.model import Answers, Repository, effective_packages, validate_bytes
from emi_tui.engine.answers.recipes import Recipe, RecipeBook
from emi_tui.engine.build.readiness import CheckStatus, Readiness, check_readiness
from emi_tui.engine.errors import EmiError
from emi_tui.engine.paths import shipped_dir

BOOK = RecipeBook([shipped_dir("recipes")])
OK, WARNING, ERROR, NOT_CHECKED = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.ERROR, CheckStatus.NOT_CHECKED


class Mirror:
    """A Debian-like mirror on 127.0.0.1 serving one release; it records every path asked for."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.url = ""

    def publish(
        self,
        names: list[str],
        release: str = "bookworm",
        codename: str = "bookworm",
        installed_kb: int = 100,
        origin: str = "Debian",
        arches: str = "amd64 arm64",
    ) -> None:
        import hashlib

        folder = self.root / "debian" / "dists" / release
        (folder / "main" / "binary-amd64").mkdir(parents=True, exist_ok=True)
        packages = "".join(f"Package: {n}\nVersion: 1\nInstalled-Size: {installed_kb}\nPriority: optional\n\n" for n in names).encode()
        xz = lzma.compress(packages)
        (folder / "main" / "binary-amd64" / "Packages.xz").write_bytes(xz)
        (folder / "InRelease").write_text(
            f"Origin: {origin}\nLabel: {origin}\nSuite: stable\nCodename: {codename}\nArchitectures: {arches}\nComponents: main contrib\nSHA256:\n"
            f" {hashlib.sha256(packages).hexdigest()} {len(packages)} main/binary-amd64/Packages\n"
            f" {hashlib.sha256(xz).hexdigest()} {len(xz)} main/binary-amd64/Packages.xz\n"
        )


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirror]:
    monkeypatch.setenv("EMI_TUI_CACHE_DIR", str(tmp_path / "cache"))
    served = Mirror(tmp_path / "www")

    with serve_folder(served.root, served.requests) as url:
        served.url = f"{url}/debian"
        yield served


def answers_for(tmp_path: Path, mirror: str, extra: str = "", output: Path | str | None = None) -> tuple[Answers, Recipe]:
    text = f"version: 1\nrecipe: debian-based\nmirror: {mirror}\noutput:\n  dir: {output or tmp_path / 'out'}\n{extra}"
    checked = validate_bytes(text, "a.yaml", BOOK)
    assert checked.ok, checked.problems
    keyring = tmp_path / "archive.gpg"
    keyring.write_bytes(b"\x99")  # only its presence is checked here
    return checked.answers, checked.recipe.model_copy(update={"keyring": str(keyring)})


def everything(answers: Answers, recipe: Recipe) -> list[str]:
    """Every package the image needs, so that a mirror serving them has all of them."""
    return recipe.base_for(answers.arch) + effective_packages(answers, recipe) + ["apt"]


def by_name(readiness: Readiness) -> dict[str, tuple[CheckStatus, str]]:
    return {check.name: (check.status, check.message) for check in readiness.checks}


def run(answers: Answers, recipe: Recipe, tmp_path: Path, **kwargs) -> dict[str, tuple[CheckStatus, str]]:
    kwargs.setdefault("offline", False)
    kwargs.setdefault("work_parent", tmp_path / "work")
    return by_name(check_readiness(answers, recipe, **kwargs))


# --- online, against the mirror


def test_a_mirror_that_serves_every_package_passes_every_check(tmp_path, mirror):
    answers, recipe = answers_for(tmp_path, mirror.url, "packages:\n  add: [htop]\n")
    mirror.publish(everything(answers, recipe))
    found = run(answers, recipe, tmp_path)
    assert {name: status for name, (status, _) in found.items()} == {
        "mirror": OK,
        "packages": OK,
        "image_size": OK,
        "keyring": OK,
        "output_folder": OK,
        "output_space": OK,
        "work_space": OK,
    }
    assert "serves debian bookworm" in found["mirror"][1]
    assert found["packages"][1] == "all 1 added packages are in bookworm main amd64"
    assert f"will be made in {tmp_path}" in found["output_folder"][1]
    assert "/debian/dists/bookworm/InRelease" in mirror.requests


def test_an_added_package_the_release_lacks_is_an_error_with_a_suggestion(tmp_path, mirror):
    answers, recipe = answers_for(tmp_path, mirror.url, "packages:\n  add: [htopp, tmux]\n")
    mirror.publish([n for n in everything(answers, recipe) if n not in ("htopp", "tmux")] + ["htop"])
    found = run(answers, recipe, tmp_path)
    status, message = found["packages"]
    assert status is ERROR
    assert message.startswith("not in bookworm main amd64: 'htopp' (did you mean 'htop'?)") and "'tmux'" in message


def test_a_mirror_without_the_release_is_an_error_and_the_index_is_not_asked_for(tmp_path, mirror):
    answers, recipe = answers_for(tmp_path, mirror.url, "release: trixie\n")
    mirror.publish(everything(answers, recipe))  # bookworm only
    found = run(answers, recipe, tmp_path)
    assert found["mirror"][0] is ERROR
    assert "does not serve debian trixie: dists/trixie/InRelease answers HTTP 404" in found["mirror"][1]
    assert found["packages"] == (NOT_CHECKED, "not checked: the mirror check failed")
    assert not any("Packages" in path for path in mirror.requests)


def test_a_release_file_that_names_another_release_is_an_error(tmp_path, mirror):
    answers, recipe = answers_for(tmp_path, mirror.url)
    mirror.publish(everything(answers, recipe), codename="trixie")
    found = run(answers, recipe, tmp_path)
    assert found["mirror"][0] is ERROR and "is stable / trixie, not bookworm" in found["mirror"][1]


def test_a_mirror_of_another_distro_or_arch_is_reported(tmp_path, mirror):
    answers, recipe = answers_for(tmp_path, mirror.url)
    mirror.publish(everything(answers, recipe), origin="Ubuntu")
    assert run(answers, recipe, tmp_path)["mirror"][0] is WARNING
    mirror.publish(everything(answers, recipe), arches="arm64")
    status, message = run(answers, recipe, tmp_path)["mirror"]
    assert status is ERROR and "carries no amd64 packages" in message


def test_a_mirror_that_does_not_answer_is_an_error_in_words(tmp_path):
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    answers, recipe = answers_for(tmp_path, f"http://127.0.0.1:{port}/debian")
    status, message = run(answers, recipe, tmp_path)["mirror"]
    assert status is ERROR and "refuses the connection" in message and "Errno" not in message


def test_an_estimate_larger_than_the_root_and_the_folders_is_an_error(tmp_path, mirror):
    answers, recipe = answers_for(tmp_path, mirror.url)
    mirror.publish(everything(answers, recipe), installed_kb=2**40)  # a petabyte each
    found = run(answers, recipe, tmp_path)
    assert found["image_size"][0] is ERROR and "the 1.3G root holds" in found["image_size"][1]
    assert found["output_space"][0] is ERROR and found["work_space"][0] is ERROR


def test_the_index_is_read_once_per_release_and_arch(tmp_path, mirror):
    answers, recipe = answers_for(tmp_path, mirror.url)
    mirror.publish(everything(answers, recipe))
    run(answers, recipe, tmp_path)
    run(answers, recipe, tmp_path)
    assert sum(path.endswith("Packages.xz") for path in mirror.requests) == 1


def test_repositories_are_checked_for_their_key_and_an_answer(tmp_path, mirror):
    answers, recipe = answers_for(tmp_path, mirror.url)
    mirror.publish(everything(answers, recipe))
    repositories = [
        Repository(line=f"deb {mirror.url} bookworm main"),
        Repository(line=f"deb {mirror.url} nowhere main"),
        Repository(line=f"deb {mirror.url} bookworm main", key=str(tmp_path / "missing.gpg")),
    ]
    found = run(answers.model_copy(update={"repositories": repositories}), recipe, tmp_path)
    assert found["repository_1"][0] is OK
    assert found["repository_2"][0] is ERROR and "/dists/nowhere/Release answers HTTP 404" in found["repository_2"][1]
    assert found["repository_3"] == (ERROR, f"no keyring file at {tmp_path / 'missing.gpg'}")


# --- offline: the network checks say so, the local checks still run


def test_offline_nothing_is_asked_of_the_network_and_nothing_passes_unchecked(tmp_path, mirror):
    answers, recipe = answers_for(tmp_path, mirror.url, output="/proc/nope")
    repositories = [Repository(line=f"deb {mirror.url} bookworm main")]
    found = run(answers.model_copy(update={"repositories": repositories}), recipe, tmp_path, offline=True)
    for name in ("mirror", "packages", "image_size"):
        assert found[name] == (NOT_CHECKED, "not checked: offline"), name
    assert found["repository_1"][0] is NOT_CHECKED
    assert found["output_folder"][0] is ERROR and found["keyring"][0] is OK and found["work_space"][0] is OK
    assert mirror.requests == []


# --- local checks


def test_an_output_folder_under_proc_cannot_be_made(tmp_path):
    answers, recipe = answers_for(tmp_path, "http://mirror.example/debian", output="/proc/nope")
    found = run(answers, recipe, tmp_path, offline=True)
    status, message = found["output_folder"]
    assert status is ERROR
    assert message == "/proc/nope cannot be made: /proc is the kernel's proc filesystem, which does not take new folders"
    assert found["output_space"][0] is NOT_CHECKED


def test_an_output_folder_that_is_a_file_or_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    for output, words in (
        (tmp_path / "file", "is a file, not a folder"),
        (tmp_path / "file" / "sub", f"cannot be made: {tmp_path / 'file'} is a file"),
    ):
        answers, recipe = answers_for(tmp_path, "http://mirror.example/debian", output=output)
        status, message = run(answers, recipe, tmp_path, offline=True)["output_folder"]
        assert status is ERROR and words in message, message
    assert not (tmp_path / "out").exists()  # a check makes nothing


def test_a_read_only_or_kernel_filesystem_is_found_in_mountinfo(tmp_path):
    answers, recipe = answers_for(tmp_path, "http://mirror.example/debian", output=tmp_path / "ro" / "images")
    (tmp_path / "ro").mkdir()
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"22 1 0:21 / / rw - ext4 /dev/sda1 rw\n30 22 0:5 / {tmp_path / 'ro'} rw - sysfs sysfs rw\n")
    status, message = run(answers, recipe, tmp_path, offline=True, mountinfo=mountinfo)["output_folder"]
    assert status is ERROR and f"{tmp_path / 'ro'} is the kernel's sysfs filesystem" in message


def test_a_missing_archive_keyring_is_an_error(tmp_path):
    answers, recipe = answers_for(tmp_path, "http://mirror.example/debian")
    recipe = recipe.model_copy(update={"keyring": str(tmp_path / "none.gpg")})
    status, message = run(answers, recipe, tmp_path, offline=True)["keyring"]
    assert status is ERROR and message == f"the debian archive keyring {tmp_path / 'none.gpg'} is not on this workstation"


def test_bad_input_never_raises(tmp_path, mirror):
    answers, recipe = answers_for(tmp_path, mirror.url)
    found = run(answers.model_copy(update={"mirror": None}), recipe, tmp_path, offline=True)
    assert found["mirror"][0] is ERROR and found["output_folder"][0] is OK

    def broken(*_args):
        raise ValueError("boom")

    mirror.publish(everything(answers, recipe))
    found = run(answers, recipe, tmp_path, index_loader=broken)
    assert found["answers"] == (ERROR, "the checks stopped: ValueError: boom")
    assert found["output_folder"][0] is OK and found["work_space"][0] is OK  # the other checks still ran

    def refused(*_args):
        raise EmiError("the mirror's package index is not valid xz", hint="check the mirror")

    assert run(answers, recipe, tmp_path, index_loader=refused)["packages"] == (
        ERROR,
        "cannot read the package index: the mirror's package index is not valid xz",
    )


def test_a_killed_builds_leftovers_are_a_warning(tmp_path, monkeypatch):
    import json
    import subprocess

    monkeypatch.setenv("EMI_TUI_STATE_DIR", str(tmp_path / "state"))
    answers, recipe = answers_for(tmp_path, "http://mirror.example/debian")
    assert "leftovers" not in run(answers, recipe, tmp_path, offline=True)
    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid names no process now
    builds = tmp_path / "state" / "builds"
    builds.mkdir(parents=True, mode=0o700)
    (tmp_path / "state").chmod(0o700)
    (builds / "x.json").write_text(
        json.dumps(
            {
                "pid": gone.pid,
                "started": "1",
                "work": str(tmp_path / "work" / "x"),
                "mounts": [],
                "output": str(tmp_path / "out"),
                "log": "",
                "children": [],
            }
        )
    )
    status, message = run(answers, recipe, tmp_path, offline=True)["leftovers"]
    assert status is WARNING and message.startswith("1 dead build(s) left files or mounts behind")
