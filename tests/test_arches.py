"""i386 and aarch64 images: the recipe's per-arch releases, validation's refusal, the cache key, the bootstrap and QEMU per arch."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook, load_recipe_file
from emi_tui.engine.boot import boottest
from emi_tui.engine.boot.boottest import qemu_argv, require_tools
from emi_tui.engine.boot.guest import GuestFiles, image_arch
from emi_tui.engine.build import preflight
from emi_tui.engine.build.bootstrap import base_inputs
from emi_tui.engine.build.cache import cache_key
from emi_tui.engine.build.job import BuildOptions, run_build
from emi_tui.engine.errors import EmiError
from emi_tui.engine.paths import shipped_dir
from emi_tui.engine.run.events import OutputLine

BOOK = RecipeBook([shipped_dir("recipes")])
DEBIAN = BOOK.get("debian-based")


def validate(extra: str):
    return validate_bytes(f"version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\n{extra}", "a.yaml", BOOK)


# --- the recipe


def test_debian_offers_i386_with_the_686_kernel_and_only_the_releases_that_have_one():
    assert list(DEBIAN.arches) == ["x86_64", "i386", "aarch64"]
    assert DEBIAN.arches["i386"] == "i386" and DEBIAN.base_for("i386")[-1] == "linux-image-686"
    assert DEBIAN.releases_for("i386") == ["bookworm", "bullseye"]
    assert DEBIAN.releases_for("x86_64") == DEBIAN.releases == DEBIAN.releases_for("aarch64")
    assert DEBIAN.default_release_for("i386") == "bookworm"
    assert DEBIAN.release_refusal("i386", "trixie") == (
        "trixie is not built for i386: Debian builds no i386 kernel from trixie on; choose bookworm or bullseye")
    assert DEBIAN.release_refusal("i386", "bookworm") is None and DEBIAN.release_refusal("aarch64", "trixie") is None


@pytest.mark.parametrize(("limits", "said"), [
    ("arch_limits: {sparc: {releases: [bookworm], reason: r}}", "'sparc', which is not among arches"),
    ("arch_limits: {i386: {releases: [sid], reason: r}}", "arch_limits.i386 names 'sid', not among releases"),
    ("arch_limits: {i386: {releases: [bookworm]}}", "arch_limits.i386.reason: is required"),
])
def test_a_recipe_whose_arch_limits_do_not_fit_is_refused_with_its_line(tmp_path, limits, said):
    text = (shipped_dir("recipes") / "debian-based.yaml").read_text()
    start = text.index("arch_limits:")
    end = text.index("\n#", start)  # the limits block ends at the next comment
    path = tmp_path / "debian-based.yaml"
    path.write_text(text[:start] + limits + text[end:])
    recipe, problems = load_recipe_file(path)
    assert recipe is None
    assert any(said in str(p) for p in problems), [str(p) for p in problems]


# --- validation


def test_validate_refuses_trixie_with_i386_at_the_release_line_saying_why():
    checked = validate("arch: i386\nrelease: trixie\n")
    assert not checked.ok
    assert [(p.line, p.key) for p in checked.problems] == [(5, "release")]
    assert "Debian builds no i386 kernel from trixie on; choose bookworm or bullseye" in checked.problems[0].message


@pytest.mark.parametrize("release", ["bookworm", "bullseye", None])
def test_validate_takes_i386_with_a_release_that_has_its_kernel(release):
    checked = validate("arch: i386\n" + (f"release: {release}\n" if release else ""))
    assert checked.ok, [str(p) for p in checked.problems]
    assert checked.answers.resolved_release == (release or "bookworm")


def test_the_base_cache_key_differs_per_arch(tmp_path):
    keys = set()
    for arch in ("x86_64", "i386", "aarch64"):
        checked = validate(f"arch: {arch}\n")
        ctx = type("Ctx", (), {"recipe": checked.recipe, "answers": checked.answers,
                               "bootstrap_plan": type("Plan", (), {"tool": "mmdebstrap"})()})()
        inputs = base_inputs(ctx)
        assert inputs["arch"] == arch and inputs["base_packages"][-1] in inputs["base_packages"]
        keys.add(cache_key(inputs))
    assert len(keys) == 3


# --- the bootstrap


def _plan(tmp_path, monkeypatch, arch: str, bootstrapper: str) -> list[str]:
    """The dry run's commands of a build of `arch` with `bootstrapper` (this workstation's emulation not consulted)."""
    monkeypatch.setattr(preflight, "emulation_problem", lambda _arch: None)
    checked = validate(f"arch: {arch}\noutput: {{dir: {tmp_path / 'out'}}}\n")
    lines: list[str] = []
    options = BuildOptions(dry_run=True, bootstrapper=bootstrapper, work_root=tmp_path / "work")
    result = run_build(checked.answers, checked.recipe, lambda e: lines.append(e.text) if isinstance(e, OutputLine) else None,
                       threading.Event(), options)
    assert result.ok, result.message
    return lines


def test_debootstrap_bootstraps_a_foreign_arch_in_two_stages(tmp_path, monkeypatch):
    lines = _plan(tmp_path, monkeypatch, "aarch64", "debootstrap")
    first = next(line for line in lines if "debootstrap --variant=minbase" in line)
    assert "--arch=arm64" in first and "--foreign" in first
    second = [line for line in lines if "/debootstrap/debootstrap --second-stage" in line]
    assert len(second) == 1 and lines.index(second[0]) > lines.index(first)


def test_debootstrap_bootstraps_i386_natively_in_one_stage(tmp_path, monkeypatch):
    lines = _plan(tmp_path, monkeypatch, "i386", "debootstrap")
    first = next(line for line in lines if "debootstrap --variant=minbase" in line)
    assert "--arch=i386" in first and "--foreign" not in first
    assert not any("--second-stage" in line for line in lines)


# --- the boot test's QEMU

GUEST = {arch: GuestFiles(Path("/w/image.img"), Path("/w/vmlinuz"), Path("/w/initrd.img"), "emi-root", arch) for arch in ("x86_64", "i386", "aarch64")}


def _argv(arch: str) -> list[str]:
    return qemu_argv(GUEST[arch], Path("/w/overlay.qcow2"), Path("/w/ephemeral0.img"), "emi-root", "tcg", 2222, 8080)


def test_each_arch_boots_under_its_own_qemu_with_its_serial_console():
    for arch, program, console in (("x86_64", "qemu-system-x86_64", "ttyS0"), ("i386", "qemu-system-i386", "ttyS0"),
                                   ("aarch64", "qemu-system-aarch64", "ttyAMA0")):
        argv = _argv(arch)
        assert argv[0] == program
        append = argv[argv.index("-append") + 1]
        assert f"console={console},115200" in append and "root=LABEL=emi-root" in append
        assert argv[argv.index("-kernel") + 1] == "/w/vmlinuz" and "-bios" not in argv and "-pflash" not in argv
    aarch64 = _argv("aarch64")
    assert aarch64[aarch64.index("-M") + 1] == "virt" and aarch64[aarch64.index("-cpu") + 1] == "cortex-a57"
    assert "-M" not in _argv("x86_64") and "-M" not in _argv("i386")


def test_a_missing_qemu_is_named_with_the_package_for_that_arch(monkeypatch):
    monkeypatch.setattr(boottest, "which", lambda tool: None if tool.startswith("qemu-system-") else f"/usr/bin/{tool}")
    for arch, package in (("x86_64", "qemu-system-x86"), ("i386", "qemu-system-x86"), ("aarch64", "qemu-system-arm")):
        with pytest.raises(EmiError) as raised:
            require_tools(arch)
        assert raised.value.hint == f"apt-get install {package}"
    with pytest.raises(EmiError, match="cannot boot a riscv64 image"):
        require_tools("riscv64")


def test_the_cli_checks_no_qemu_before_the_artifact_says_its_arch(monkeypatch, tmp_path):
    # A host with only qemu-system-aarch64 boot-tests aarch64 images: the CLI's early check must not ask for x86's QEMU.
    from emi_tui.commands import boot

    monkeypatch.setattr(boottest, "which", lambda tool: None if tool == "qemu-system-x86_64" else f"/usr/bin/{tool}")
    require_tools(None)
    asked = []
    monkeypatch.setattr(boot, "BootTest", lambda *a, **k: asked.append(k) or (_ for _ in ()).throw(EmiError("stop here")))
    with pytest.raises(EmiError, match="stop here"):
        boot.boot_test(tmp_path / "x.tgz", None, None, "root", 10.0, "tcg", False)
    assert asked, "the CLI refused before the boot test could read the artifact's arch"


def _image(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "root"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    root.mkdir(exist_ok=True)
    image = tmp_path / "image.img"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", "-L", "emi-root", "-d", str(root), str(image), "8M"], check=True)
    return image


@pytest.mark.parametrize(("files", "arch"), [
    ({"etc/image-id": 'image_name="x"\nimage_arch="i386"\n'}, "i386"),
    ({"etc/image-id": 'image_name="x"\n', "etc/emi-tui/answers.yaml": "version: 1\narch: aarch64\n"}, "aarch64"),
    ({}, "x86_64"),
])
def test_the_guests_arch_is_read_from_its_image_id_then_its_stored_answers(tmp_path, files, arch):
    assert image_arch(_image(tmp_path, files)) == arch


def test_preflight_refuses_trixie_with_i386_even_from_answers_made_in_code(tmp_path, monkeypatch):
    checked = validate(f"arch: i386\noutput: {{dir: {tmp_path / 'out'}}}\n")
    answers = checked.answers.model_copy(update={"release": "trixie"})  # past validation, as a program's own answers may be
    result = run_build(answers, checked.recipe, lambda _: None, threading.Event(), BuildOptions(dry_run=True, work_root=tmp_path / "work"))
    assert not result.ok and result.failed_step == "preflight"
    assert "trixie is not built for i386: Debian builds no i386 kernel from trixie on" in result.message
