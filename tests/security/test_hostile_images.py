"""Images are hostile: what review and modify read out of an image stays inside it, is bounded, and is never a link's target.

The attacker writes the image. Its /etc/image-id or stored answers may be a
link (to a host secret by absolute path, out through `../..`, a chain, a
loop), a FIFO, a device, a folder, or a sparse file that claims gigabytes in
a 8 MiB image. Review must give a clear finding for each and still check the
image's hygiene, read nothing it was not asked to (a file is stat-ed before it
is read, and one that is not a small regular file is never read), and run only
debugfs and dumpe2fs: no mount, no chroot, no loop device. Images are made at
test time with `mke2fs -d`, which keeps links, FIFOs and devices as they are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emi_tui.engine.modify.identity import ArtifactError, read_identity
from emi_tui.engine.review.review import review_paths
from emi_tui.engine.run import runner
from tests.security.planted import plant_escape

CHECKS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
READ_ONLY_TOOLS = {"debugfs", "dumpe2fs"}
NEVER = {"mount", "umount", "chroot", "losetup", "unshare", "nsenter", "kpartx", "fuse2fs", "e2fsck"}
ID_TEXT = 'image_name="euca-debian-emi"\nimage_version="12"\nimage_arch="x86_64"\nimage_file="x.img"\n'


@pytest.fixture
def host_secret(tmp_path: Path) -> tuple[Path, str]:
    """A file outside every image, holding a unique marker written as image-id lines, so a leak would be printed."""
    marker = f"SECRET-{uuid.uuid4().hex}"
    secret = tmp_path / "host" / f"secret-{marker}"
    secret.parent.mkdir()
    secret.write_text(f'image_name="{marker}"\nimage_version="{marker}"\nroot:{marker}:19000:0:99999:7:::\n')
    return secret, marker


def mounts_of(img: Path) -> list[str]:
    """Mount-table lines in `img`'s folder and loop devices backed by `img`: other tests beside this one mount their own."""
    lines = [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(img.parent) in line]
    backing = [p.read_text().strip() for p in Path("/sys/block").glob("loop*/loop/backing_file")]
    return lines + [f"loop device on {name}" for name in backing if name == str(img)]


def make_image(tree: Path, img: Path) -> Path:
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", "-d", str(tree), str(img), "8M"], check=True, capture_output=True)
    return img


def plant(tree: Path, inner: str, kind: str, secret: Path, depth: int, size: int) -> None:
    """Put a hostile thing of `kind` at `inner` in the tree an image is made from."""
    path = tree / inner
    path.parent.mkdir(parents=True, exist_ok=True)
    up = "../" * (inner.count("/") + depth)
    if plant_escape(path, kind, secret, up, size):
        return
    if kind == "link loop":
        (tree / "etc" / "loop-a").symlink_to("loop-b")
        (tree / "etc" / "loop-b").symlink_to("loop-a")
        path.symlink_to("loop-a")
    elif kind == "link inside":
        (tree / "etc" / "real-id").write_text(ID_TEXT)  # a link even to the image's own file is not followed
        path.symlink_to("real-id")
    elif kind == "device":
        os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3))  # a character device, like /dev/null
    elif kind == "folder":
        path.mkdir()
        (path / "image-id").write_text(ID_TEXT)


KINDS = ["absolute link", "escaping link", "link chain", "link loop", "link inside", "sparse", "fifo", "device", "folder"]


def recording(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every argv the runner starts from now on (pipes or pty), recorded before it runs."""
    started: list[list[str]] = []
    real_popen, real_spawn = runner.subprocess.Popen, runner.pexpect.spawn

    def popen(argv, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.append([str(a) for a in argv])
        return real_popen(argv, *args, **kwargs)

    def spawn(command, args=(), *rest, **kwargs):  # type: ignore[no-untyped-def]
        started.append([str(command), *map(str, args)])
        return real_spawn(command, args, *rest, **kwargs)

    monkeypatch.setattr(runner.subprocess, "Popen", popen)
    monkeypatch.setattr(runner.pexpect, "spawn", spawn)
    return started


def check_only_reads(started: list[list[str]], unread: list[str]) -> None:
    """Review ran only debugfs and dumpe2fs, never a mount or a chroot, and never `cat` of a file it refused."""
    programs = {os.path.basename(argv[0]) for argv in started}
    assert programs <= READ_ONLY_TOOLS, programs
    assert not programs & NEVER
    requests = [argv[argv.index("-R") + 1] for argv in started if "-R" in argv]
    for inner in unread:
        assert not any(r.startswith(("cat ", "dump ")) and inner in r for r in requests), requests
        assert any(r.startswith("stat ") and inner in r for r in requests), f"{inner} was read without a look at what it is: {requests}"


@CHECKS
@given(
    where=st.sampled_from(["etc/image-id", "etc/emi-tui/answers.yaml"]),
    kind=st.sampled_from(KINDS),
    depth=st.integers(min_value=1, max_value=8),
    size=st.integers(min_value=(64 << 10) + 1, max_value=4 << 30),
)
def test_review_of_a_hostile_image_reads_nothing_it_should_not(tmp_path_factory, host_secret, monkeypatch, where, kind, depth, size):
    secret, marker = host_secret
    work = tmp_path_factory.mktemp("img")
    tree = work / "tree"
    (tree / "etc").mkdir(parents=True)
    if where != "etc/image-id":
        (tree / "etc" / "image-id").write_text(ID_TEXT.replace("x.img", "hostile.img"))
    plant(tree, where, kind, secret, depth, size)
    img = make_image(tree, work / "hostile.img")
    mounts_before = mounts_of(img)

    with monkeypatch.context() as patch:
        started = recording(patch)
        entries = review_paths([img])

    assert mounts_of(img) == mounts_before == [], "review mounted the image or attached it to a loop device"
    assert len(entries) == 1
    entry = entries[0]
    assert entry.hygiene is not None and len(entry.hygiene) == 5, "the image's hygiene is still checked"
    assert not entry.ok
    said = [p.message for p in entry.problems if p.severity == "error"]
    expected = "claims" if kind == "sparse" else "is a link" if "link" in kind else "not a regular file"
    assert any(m.startswith(f"/{where} in the image") and expected in m and m.endswith("not read") for m in said), said
    shown = json.dumps(entry.to_json())
    assert marker not in shown and str(secret) not in shown
    check_only_reads(started, [where])


def test_a_sparse_image_id_of_3_gib_costs_review_no_memory(tmp_path):
    """The case measured in the issue: a 8 MiB image whose /etc/image-id claims 3 GiB, reviewed by the CLI under a 1 GiB address-space cap."""
    tree = tmp_path / "tree"
    (tree / "etc" / "emi-tui").mkdir(parents=True)
    for inner in ("etc/image-id", "etc/emi-tui/answers.yaml"):
        with open(tree / inner, "wb") as handle:
            handle.truncate(3 << 30)
    img = make_image(tree, tmp_path / "sparse.img")
    child = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from emi_tui.cli import main\n"
        "code = main(['review', '--json', sys.argv[1]])\n"
        # VmHWM, not RUSAGE_SELF: Linux carries ru_maxrss across exec, so a big pytest worker that started us would count.
        "own = int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1])\n"
        "peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(peak, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", child, str(img)], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    assert peak_kib < 200 * 1024, f"review peaked at {peak_kib} KiB"
    problems = [p["message"] for p in json.loads(done.stdout)[0]["problems"]]
    assert "/etc/image-id in the image claims 3,221,225,472 bytes, over the 65,536 emi-tui reads of it: not read" in problems
    assert any(m.startswith("/etc/emi-tui/answers.yaml in the image claims 3,221,225,472 bytes") for m in problems)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sparse.img", "tree"], "review wrote nothing"


@pytest.mark.parametrize("kind", ["absolute link", "escaping link", "sparse", "fifo", "folder"])
def test_modify_refuses_an_image_whose_image_id_is_not_a_small_regular_file(tmp_path, host_secret, kind):
    secret, marker = host_secret
    tree = tmp_path / "tree"
    (tree / "usr" / "lib").mkdir(parents=True)
    (tree / "usr" / "lib" / "os-release").write_text("ID=debian\n")
    plant(tree, "etc/image-id", kind, secret, 3, 3 << 30)
    img = make_image(tree, tmp_path / "hostile.img")
    with pytest.raises(ArtifactError) as raised:
        read_identity(img)
    message = str(raised.value)
    assert message.startswith("/etc/image-id in the image") and message.endswith("not read"), message
    assert marker not in message

