"""Which bootstrapper a build uses and why, what mmdebstrap is asked for, and its setup hook."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build import bootstrapper
from emi_tui.engine.build.bootstrapper import choose_bootstrapper, compatibility_includes
from emi_tui.engine.build.distro import SETUP_HOOK, SETUP_HOOK_COMMAND
from emi_tui.engine.build.estimate import PackageIndex
from emi_tui.engine.errors import EmiError
from tests.linting import run_shellcheck, shellcheck_program

BOOK = RecipeBook()
DEBIAN = BOOK.get("debian-based")


def index_of(**packages: list[list[str]]) -> PackageIndex:
    """An index whose packages depend on the given groups of alternatives (each package 1 kB)."""
    index = PackageIndex()
    for name, groups in packages.items():
        real = name.replace("_", "-")
        index.sizes_kb[real] = 1
        index.depends[real] = ", ".join(" | ".join(group) for group in groups)
    return index


BOOKWORM_LIKE = index_of(openssh_server=[["lsb-base"], ["procps"]], lsb_base=[], procps=[], usr_is_merged=[])


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The programs `which` finds (every one, until a test removes some)."""
    present = {"mmdebstrap", "debootstrap"}
    monkeypatch.setattr(bootstrapper, "which", lambda tool: f"/usr/bin/{tool}" if tool in present else None)
    return present


def test_the_debian_recipe_takes_mmdebstrap_when_it_is_installed_and_the_release_merges_usr(installed: set[str]) -> None:
    chosen = choose_bootstrapper(DEBIAN, None, BOOKWORM_LIKE)
    assert chosen.tool == "mmdebstrap"
    assert "half debootstrap's time" in chosen.reason


def test_without_mmdebstrap_the_build_falls_back_to_debootstrap_and_says_how_to_get_it(installed: set[str]) -> None:
    installed.discard("mmdebstrap")
    chosen = choose_bootstrapper(DEBIAN, None, BOOKWORM_LIKE)
    assert chosen.tool == "debootstrap"
    assert "mmdebstrap is not installed" in chosen.reason and "apt-get install mmdebstrap" in chosen.reason


def test_a_release_without_usr_is_merged_is_bootstrapped_by_debootstrap(installed: set[str]) -> None:
    chosen = choose_bootstrapper(DEBIAN, None, index_of(openssh_server=[]))
    assert chosen.tool == "debootstrap"
    assert "usr-is-merged" in chosen.reason


def test_the_operator_can_ask_for_either_and_a_missing_one_is_refused_with_the_fix(installed: set[str]) -> None:
    assert choose_bootstrapper(DEBIAN, "debootstrap", BOOKWORM_LIKE).reason == "asked for with --bootstrapper"
    installed.discard("mmdebstrap")
    with pytest.raises(EmiError) as raised:
        choose_bootstrapper(DEBIAN, "mmdebstrap", BOOKWORM_LIKE)
    assert raised.value.hint == "apt-get install mmdebstrap"
    with pytest.raises(EmiError, match="not Debian-based"):
        choose_bootstrapper(BOOK.get("centos-based"), "debootstrap", None)


def test_a_recipe_that_names_debootstrap_keeps_it(installed: set[str]) -> None:
    ubuntu = BOOK.get("ubuntu-based")
    assert choose_bootstrapper(ubuntu, None, BOOKWORM_LIKE).tool == ubuntu.bootstrap


def test_lsb_base_is_asked_for_only_where_debootstraps_resolver_would_install_it() -> None:
    assert compatibility_includes(BOOKWORM_LIKE, ["openssh-server"]) == ["lsb-base"]
    # Not a real package of the release (trixie): nothing to ask for.
    assert compatibility_includes(index_of(openssh_server=[["lsb-base"]]), ["openssh-server"]) == []
    # A real package that nothing in the base names first: apt and debootstrap agree without it.
    assert compatibility_includes(index_of(openssh_server=[["procps"]], lsb_base=[], procps=[]), ["openssh-server"]) == []
    assert compatibility_includes(None, ["openssh-server"]) == []


def test_the_setup_hook_command_is_a_constant_and_the_hook_takes_paths_from_the_environment(tmp_path: Path) -> None:
    assert "$EMI_TUI_SETUP_HOOK" in SETUP_HOOK_COMMAND and "/" not in SETUP_HOOK_COMMAND
    root, lists = tmp_path / "new root", tmp_path / "lists; touch pwned"
    root.mkdir()
    lists.mkdir()
    (lists / "mirror.example_debian_dists_bookworm_InRelease").write_text("signed")
    env = {**os.environ, "EMI_TUI_SETUP_HOOK": str(SETUP_HOOK), "EMI_TUI_SEED_LISTS": str(lists)}
    subprocess.run(["sh", "-c", SETUP_HOOK_COMMAND, "exec", str(root)], env=env, check=True, cwd=tmp_path)
    assert os.readlink(root / "etc/systemd/network/99-default.link") == "/dev/null"
    assert (root / "var/lib/apt/lists/mirror.example_debian_dists_bookworm_InRelease").read_text() == "signed"
    assert not (tmp_path / "pwned").exists()
    bare = tmp_path / "bare"
    bare.mkdir()
    subprocess.run(["sh", "-c", SETUP_HOOK_COMMAND, "exec", str(bare)], env={**env, "EMI_TUI_SEED_LISTS": ""}, check=True)
    assert not (bare / "var/lib/apt/lists").exists()


def test_shellcheck_passes_on_every_hook_shipped_to_mmdebstrap() -> None:
    hooks = sorted(SETUP_HOOK.parent.glob("*.sh"))
    assert SETUP_HOOK in hooks
    done = run_shellcheck(shellcheck_program(), "sh", hooks)
    assert done.returncode == 0, done.stdout
