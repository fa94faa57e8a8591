"""The peer benchmark's parts that need no real build: the hand script and the figures' helpers.

The hand script runs here against stand-ins for mmdebstrap, chroot,
dpkg-query, mke2fs and zerofree (tar is real), which checks what it lays out,
what it prints, and that its temporary folder goes on every way out.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import types
from pathlib import Path

import pytest

from emi_tui.engine import paths
from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build import bootstrap as bootstrap_step
from emi_tui.engine.build import job as build_job
from emi_tui.engine.build import preflight as preflight_step
from emi_tui.engine.run.events import JobEvent, OutputLine
from emi_tui.engine.sizes import STANDARD, parse_size
from tests.linting import run_shellcheck, shellcheck_program

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import peer_bench  # noqa: E402  (benchmarks/ is not a package)

SCRIPT = BENCHMARKS / "hand_build.sh"


@pytest.fixture(scope="module")
def recipe():
    return RecipeBook([paths.shipped_dir("recipes")]).get("debian-based")


# --- shellcheck ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shellcheck() -> str:
    return shellcheck_program()


def test_the_hand_script_passes_shellcheck(shellcheck):
    result = run_shellcheck(shellcheck, "sh", [SCRIPT])
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_as_run_here_flags_a_pipe_without_quotes(shellcheck, tmp_path):
    """The control: the same call flags an unquoted expansion and a bashism."""
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/sh\nset -eu\nrm -rf $1\n[[ -d /tmp ]]\n")
    result = run_shellcheck(shellcheck, "sh", [bad])
    assert result.returncode != 0 and "SC2086" in result.stdout, result.stdout


# --- the hand script matches emi-tui's choices ----------------------------------------------------


def test_the_hand_script_makes_the_image_as_large_as_emi_tui_does():
    sizes = [line.split("=", 1)[1] for line in SCRIPT.read_text().splitlines() if line.startswith("size=")]
    assert sizes == [f"{parse_size(STANDARD) // 1024}k"]  # what filesystem.filesystem hands mke2fs


def test_the_hand_script_bootstraps_with_the_recipes_keyring_arch_and_components(recipe):
    text = SCRIPT.read_text()
    assert f"--keyring={recipe.keyring}" in text
    assert f"--architectures={recipe.arches['x86_64']}" in text
    assert f"--components={','.join(recipe.components)}" in text


def dry_run_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every command a dry run of emi-tui's default debian-based build would run, as argv lists."""
    monkeypatch.setattr(preflight_step, "shutil", types.SimpleNamespace(which=lambda tool: f"/usr/sbin/{tool}", disk_usage=shutil.disk_usage))
    monkeypatch.setattr(bootstrap_step, "tool_version", lambda tool: f"{tool} 1.0 (test)")
    monkeypatch.setenv("EMI_TUI_CACHE_DIR", str(tmp_path / "cache"))
    text = f"version: 1\nrecipe: debian-based\nmirror: http://127.0.0.1:9/debian\noutput: {{dir: {tmp_path / 'images'}}}\n"
    checked = validate_bytes(text, "answers.yaml", RecipeBook([paths.shipped_dir("recipes")]))
    assert checked.ok, checked.problems
    events: list[JobEvent] = []
    result = build_job.run_build(checked.answers, checked.recipe, events.append, options=build_job.BuildOptions(dry_run=True))
    assert result.ok, result.message
    return [shlex.split(e.text[2:]) for e in events if isinstance(e, OutputLine) and e.text.startswith("$ ")]


def test_the_package_set_is_what_a_build_of_emi_tui_installs(recipe, tmp_path, monkeypatch):
    """Read from emi-tui's own plan: the bootstrap's --include, plus apt-get install, minus apt-get purge."""
    installed: dict[str, None] = {}
    for argv in dry_run_commands(tmp_path, monkeypatch):
        includes = [word.split("=", 1)[1] for word in argv if word.startswith("--include=")]
        if includes:
            installed.update(dict.fromkeys(includes[0].split(",")))
        for verb in ("install", "purge"):
            if "apt-get" in argv and verb in argv:
                names = [word for word in argv[argv.index(verb) + 1:] if not word.startswith("-")]
                if verb == "install":
                    installed.update(dict.fromkeys(names))
                else:
                    installed = {name: None for name in installed if name not in names}
    assert set(installed) and sorted(peer_bench.package_set(recipe)) == sorted(installed)


def test_the_package_set_has_the_kernel_and_no_trimmed_package(recipe):
    chosen = peer_bench.package_set(recipe)
    assert recipe.kernel_packages["x86_64"] in chosen
    assert set(recipe.base_packages) <= set(chosen)
    assert recipe.trim and not set(recipe.trim) & set(chosen)
    assert len(chosen) == len(set(chosen))
    # A trimmed base package is purged by customize, so it leaves the set too.
    trimmed_base = recipe.model_copy(update={"trim": [*recipe.trim, "curl"]})
    assert "curl" not in peer_bench.package_set(trimmed_base)


# --- the figures ---------------------------------------------------------------------------------


def test_median_and_its_refusal_of_no_runs():
    assert peer_bench.median([3.0, 1.0, 2.0]) == 2.0
    assert peer_bench.median([4.0, 1.0]) == 2.5
    with pytest.raises(ValueError):
        peer_bench.median([])


def test_a_ratio_is_written_against_its_target_and_stretch():
    assert peer_bench.against(0.85, 1.0, 0.9) == "0.85x (target <= 1x, meets; stretch <= 0.9x, meets)"
    assert peer_bench.against(0.95, 1.0, 0.9) == "0.95x (target <= 1x, meets; stretch <= 0.9x, misses)"
    assert peer_bench.against(0.31, 0.2) == "0.31x (target <= 0.2x, misses)"


def test_phases_are_read_from_the_hand_scripts_stderr_among_mmdebstrap_lines():
    stderr = "I: running apt-get update...\nphase mmdebstrap 41.25\nphase of the moon\nphase clean 0.50\nphase list x\n"
    assert peer_bench.parse_phases(stderr) == {"mmdebstrap": 41.25, "clean": 0.5}


def test_step_rows_set_each_step_beside_its_phases_and_account_for_the_rest():
    emi = [{"preflight": 1.0, "bootstrap": 40.0, "chroot": 9.0, "hygiene": 1.0, "kernel": 0.5, "filesystem": 5.0, "zerofree": 1.0, "package": 10.0},
           {"preflight": 3.0, "bootstrap": 50.0, "chroot": 11.0, "hygiene": 1.0, "kernel": 0.5, "filesystem": 7.0, "zerofree": 1.0, "package": 12.0}]
    hand = [{"mmdebstrap": 45.0, "clean": 0.2, "list": 0.1, "kernel": 0.1, "mke2fs": 5.0, "zerofree": 1.0, "package": 10.0}] * 2
    rows = peer_bench.step_rows(emi, hand, [70.0, 90.0], [62.4, 62.4])
    table = {row[0].strip(): row[1:3] for row in rows}
    assert table["preflight vs (nothing)"] == ("2.0 s vs 0.0 s", "+2.0 s")
    assert table["bootstrap vs mmdebstrap"] == ("45.0 s vs 45.0 s", "+0.0 s")
    assert table["chroot+hygiene vs clean + list"] == ("11.0 s vs 0.3 s", "+10.7 s")
    assert table["package vs package"] == ("11.0 s vs 10.0 s", "+1.0 s")
    # 70 - 67.5 and 90 - 85.5 (median 3.5); 62.4 - 61.4 = 1.0
    assert table["the rest (outside these steps)"] == ("3.5 s vs 1.0 s", "+2.5 s")
    # A step the table does not list is not lost: it counts in the rest.
    emi[0]["estimate"] = emi[1]["estimate"] = 4.0
    rows = peer_bench.step_rows(emi, hand, [74.0, 94.0], [62.4, 62.4])
    assert rows[-1][1] == "7.5 s vs 1.0 s" and rows[1][1] == "45.0 s vs 45.0 s"


def test_the_listing_keeps_only_installed_packages():
    text = "bash\t5.2.15-2+b7\tii \nman-db\t2.11.2-2\trc \nbroken\t1.0\tiF \n"
    assert peer_bench.read_listing(text) == {"bash": "5.2.15-2+b7"}


def test_the_package_comparison_says_same_only_when_same():
    emi = {"bash": "5.2", "curl": "7.88", "sudo": "1.9"}
    assert peer_bench.compare_packages(emi, dict(emi)) == (True, "same 3 packages, same versions")
    same, detail = peer_bench.compare_packages(emi, {"bash": "5.2", "curl": "7.89", "mawk": "1.3"})
    assert not same
    assert detail == "only emi-tui: sudo; only the hand script: mawk; other versions: curl 7.88 vs 7.89"


def test_the_command_line_reads_rounds_and_no_warm_up():
    assert peer_bench.parse_args([]) == (3, True)
    assert peer_bench.parse_args(["1", "--no-warm-up"]) == (1, False)
    with pytest.raises(SystemExit):
        peer_bench.parse_args(["one"])


# --- the hand script against stand-ins -----------------------------------------------------------

STUBS = {
    # RELEASE ROOT MIRROR come last, as mmdebstrap takes them; two kernels, to see the newest chosen.
    "mmdebstrap": 'printf "%s\\n" "$@" > "$STUB_LOG/mmdebstrap"\n'
                  'root=$(eval "echo \\${$(($# - 1))}")\nmkdir -p "$root/boot" "$root/var/lib/dpkg"\n'
                  'for v in 6.1.0-9-amd64 6.1.0-28-amd64; do echo "$v" > "$root/boot/vmlinuz-$v"; echo "$v" > "$root/boot/initrd.img-$v"; done\n'
                  'echo "$root" > "$STUB_LOG/root"\neval "${STUB_THEN:-true}"\n',
    "chroot": 'printf "%s\\n" "$@" > "$STUB_LOG/chroot"\n',
    "dpkg-query": 'printf "%s\\n" "$@" > "$STUB_LOG/dpkg-query"\nprintf "bash\\t5.2\\tii \\nold\\t1\\trc \\n"\n',
    "mke2fs": 'printf "%s\\n" "$@" > "$STUB_LOG/mke2fs"\nimage=$(eval "echo \\${$(($# - 1))}")\necho ext3 > "$image"\n',
    "zerofree": 'printf "%s\\n" "$@" > "$STUB_LOG/zerofree"\n',
    "pigz": 'exec gzip "$@"\n',
}


def run_hand_script(tmp_path: Path, then: str = "true") -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    log.mkdir()
    for name, body in STUBS.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body)
        (bin_dir / name).chmod(0o755)
    output = tmp_path / "out" / "hand-01.tgz"
    output.parent.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_LOG": str(log), "STUB_THEN": then}
    done = subprocess.run(["sh", str(SCRIPT), "http://127.0.0.1:9/debian", "bookworm", str(output), "bash,curl"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    return done, output, log


def test_the_hand_script_lays_out_the_tarball_as_emi_tui_does_and_cleans_up(tmp_path):
    done, output, log = run_hand_script(tmp_path)
    assert done.returncode == 0, done.stderr
    with tarfile.open(output) as tar:
        names = sorted(tar.getnames())
    assert names == ["hand-01", "hand-01/hand-01.img", "hand-01/kvm-kernel",
                     "hand-01/kvm-kernel/initrd.img-6.1.0-28-amd64", "hand-01/kvm-kernel/vmlinuz-6.1.0-28-amd64"]
    assert list(peer_bench.parse_phases(done.stderr)) == ["mmdebstrap", "clean", "list", "mke2fs", "zerofree", "kernel", "package"]
    mmdebstrap = (log / "mmdebstrap").read_text().splitlines()
    root = (log / "root").read_text().strip()
    assert "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr" in mmdebstrap  # else usrmerge and perl come in
    assert "--include=bash,curl" in mmdebstrap and mmdebstrap[-3:] == ["bookworm", root, "http://127.0.0.1:9/debian"]
    assert Path(root).parent.parent == Path("/dev/shm") and not Path(root).parent.exists()
    assert (log / "chroot").read_text().split() == [root, "apt-get", "clean"]
    assert f"--admindir={root}/var/lib/dpkg" in (log / "dpkg-query").read_text().splitlines()
    assert peer_bench.read_listing(Path(f"{output}.packages").read_text()) == {"bash": "5.2"}
    assert (log / "mke2fs").read_text().splitlines()[-1] == f"{parse_size(STANDARD) // 1024}k"


def test_a_failing_hand_script_leaves_no_temporary_folder(tmp_path):
    done, output, log = run_hand_script(tmp_path, then="false")
    assert done.returncode != 0 and "phase" not in done.stderr
    assert not output.exists()
    root = Path((log / "root").read_text().strip())
    assert root.parent.name.startswith("hand-build.") and not root.parent.exists()


def test_a_hand_script_stopped_by_a_signal_leaves_no_temporary_folder(tmp_path):
    done, output, log = run_hand_script(tmp_path, then=f"kill -{signal.SIGTERM.value} $PPID")
    assert done.returncode == 143, done.stderr
    root = Path((log / "root").read_text().strip())
    assert root.parent.name.startswith("hand-build.") and not root.parent.exists()


def test_the_hand_script_refuses_a_wrong_number_of_arguments():
    done = subprocess.run(["sh", str(SCRIPT), "http://127.0.0.1:9/debian"], capture_output=True, text=True, timeout=10, check=False)
    assert done.returncode == 2 and "usage:" in done.stderr


def test_the_gzip_rows_show_the_best_overlap_could_win_and_what_pigz_alone_costs():
    gzip = [(10.0, {"filesystem": 0.5, "zerofree": 0.2, "package": 6.0}, Path("m"))] * 3
    zstd = [(5.5, {"filesystem": 0.5, "zerofree": 0.2, "package": 1.5}, Path("m"))] * 3
    best, pigz, gain = peer_bench.gzip_rows(gzip, zstd, hand_cold=40.0)
    assert best[1] == "9.3 s" and best[2].startswith("0.23x") and "misses" in best[2]
    assert pigz[1] == "6.0 s" and pigz[2].startswith("0.15x")
    assert gain[2] == "0.55x the gzip rebuild" and "(0.25x)" in gain[3]
