"""The files emi-tui puts into images: rc.local, the udev pair, fstab, the units.

rc.local is checked statically here (each option's code is there when it is
on and gone when it is off) and by sh -n for every combination of options;
tests/test_image_templates.py runs shellcheck on every script of every
combination, and tests/test_rclocal_runs.py runs rc.local.
"""

from __future__ import annotations

import configparser
import itertools
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.image import layout, rclocal
from emi_tui.engine.image.files import (
    RC_LOCAL_TIMEOUT,
    image_files,
    image_symlinks,
    render_euca_udev,
    render_fstab,
    render_hostkey_unit,
    render_rc_local,
    render_rc_local_dropin,
    render_udev_rule,
)

ALL_OFF = dict(ssh_key="none", ephemeral0=False, swap=False, user_data=False, hostname=False, grow_root=False)



def code_of(script: str) -> str:
    """The script without its comment lines: what runs, not what is said about it."""
    return "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))


def all_metadata() -> list[Metadata]:
    booleans = [True, False]
    return [
        Metadata(ssh_key=key, ephemeral0=eph, swap=swap, user_data=ud, hostname=hn)
        for key, eph, swap, ud, hn in itertools.product(["root", "ec2-user", "none"], booleans, booleans, booleans, booleans)
    ]


def combo_name(m: Metadata) -> str:
    on = [name for name in ("ephemeral0", "swap", "user_data", "hostname") if getattr(m, name)]
    return f"key-{m.ssh_key}_" + ("+".join(on) or "nothing")


# --- what each option leaves in rc.local -----------------------------------------------------

OPTION_MARKERS = {
    "ephemeral0": ["block-device-mapping/ephemeral0", "mke2fs", "EPHEMERAL_MOUNT", "do_ephemeral0"],
    "swap": ["block-device-mapping/swap", "swapon", "do_swap"],
    "user_data": ["md_get user-data", "USER_DATA_LOG", "RUN_DIR", "do_user_data"],
    "hostname": ["local-hostname", "HOSTNAME_FILE", "do_hostname"],
}


@pytest.mark.parametrize("option", sorted(OPTION_MARKERS))
def test_each_boolean_option_leaves_its_code_only_when_on(option):
    on = code_of(render_rc_local(Metadata(**{**ALL_OFF, "ssh_key": "root", option: True})))
    off = code_of(render_rc_local(Metadata(**{**ALL_OFF, "ssh_key": "root", option: False})))
    for marker in OPTION_MARKERS[option]:
        assert marker in on, f"{option} on: {marker!r} missing"
        assert marker not in off, f"{option} off: {marker!r} left behind"


def test_ssh_key_root_installs_for_root_only():
    code = code_of(render_rc_local(Metadata(**{**ALL_OFF, "ssh_key": "root"})))
    assert "meta-data/public-keys/0/openssh-key" in code
    assert "install_keys root ''" in code
    assert "ec2-user" not in code and "useradd" not in code and "SUDOERS_DIR" not in code


def test_ssh_key_ec2_user_creates_the_user_and_turns_root_away():
    code = code_of(render_rc_local(Metadata(**{**ALL_OFF, "ssh_key": "ec2-user"})))
    assert "useradd -m -s" in code
    assert "NOPASSWD:ALL" in code
    assert 'install_keys root "$ROOT_FORCED_COMMAND"' in code
    assert shlex.quote(rclocal.ROOT_FORCED_COMMAND) in code


def test_ssh_key_none_leaves_no_key_code():
    code = code_of(render_rc_local(Metadata(**{**ALL_OFF, "ssh_key": "none", "hostname": True})))
    for marker in ("openssh-key", "authorized_keys", "install_keys", "ssh-key", "useradd"):
        assert marker not in code


def test_every_option_off_leaves_no_network_code():
    script = render_rc_local(Metadata(**ALL_OFF))
    code = code_of(script)
    for marker in ("curl", "MD_URL", "wait_for_metadata", "WORK", "do_"):
        assert marker not in code
    assert 'say "done"' in code


def test_udev_options_do_not_change_rc_local():
    assert render_rc_local(Metadata(udev_xvd=True)) == render_rc_local(Metadata(udev_xvd=False))
    assert render_rc_local(Metadata(udev_vd=True)) == render_rc_local(Metadata(udev_vd=False))


def test_header_names_the_options_it_was_generated_with():
    script = render_rc_local(Metadata(url="http://10.0.0.1:8773/", ssh_key="ec2-user", swap=False, hostname=True))
    header = script.split("\n\n", 1)[0]
    assert header.startswith("#!/bin/sh\n")
    assert all(line.startswith("#") for line in header.splitlines())
    for shown in ("url:        http://10.0.0.1:8773/", "ssh_key:    ec2-user", "ephemeral0: on", "swap:       off", "user_data:  on", "hostname:   on"):
        assert f"#   {shown}" in header


def test_no_placeholder_is_left_unfilled():
    for metadata in all_metadata():
        assert not re.search(r"@[A-Z_]+@", render_rc_local(metadata)), combo_name(metadata)


def test_bounds_are_the_documented_ones():
    code = code_of(render_rc_local(Metadata()))
    assert "--connect-timeout 2 --max-time 5" in code
    assert "--noproxy '*'" in code
    assert re.search(r"^CONTACT_BUDGET=30$", code, re.M) and re.search(r"^CONTACT_TRIES=15$", code, re.M)


def test_rc_local_worst_case_fits_in_the_units_timeout():
    worst = max(rclocal.worst_case_seconds(m) for m in all_metadata())
    assert 0 < worst < RC_LOCAL_TIMEOUT
    assert rclocal.worst_case_seconds(Metadata(**ALL_OFF)) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/'; touch /tmp/emi-pwned; '",
        'http://x/$(touch /tmp/emi-pwned)"`id`\\',
        "http://x/\nexit 7\n",
    ],
)
def test_the_url_reaches_the_script_as_one_literal_word(url, tmp_path):
    script = render_rc_local(Metadata(url=url))
    header = script.split("\n\n", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines())
    settings = script.split("\nsay() {", 1)[0]
    probe = tmp_path / "probe.sh"
    probe.write_text(settings + '\nprintf "%s" "$MD_URL"\n')
    result = subprocess.run(["sh", str(probe)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    assert result.stdout == url.rstrip("/")
    assert not Path("/tmp/emi-pwned").exists()


def test_the_script_touches_only_the_paths_of_its_settings_block():
    """What the runs below redirect is all there is: no absolute path hides in the functions."""
    allowed = {"/dev/null", "/bin/bash", "/bin/sh", "/tmp", "/dev/"}
    for metadata in all_metadata():
        script = render_rc_local(metadata)
        functions = code_of(script.split("\nsay() {", 1)[1])
        paths = set(re.findall(r"(?<![\w.$}])/[A-Za-z][\w./-]*", functions))
        assert paths <= allowed, (combo_name(metadata), paths - allowed)


# --- sh -n for every combination (shellcheck: tests/test_image_templates.py) -------------------------------------------------


@pytest.fixture(scope="module")
def every_rc_local(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("rc-local")
    paths = []
    for metadata in all_metadata():
        path = folder / f"{combo_name(metadata)}.sh"
        path.write_text(render_rc_local(metadata))
        paths.append(path)
    return paths


def test_every_combination_parses_with_sh(every_rc_local):
    assert len(every_rc_local) == 3 * 2**4
    for path in every_rc_local:
        result = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"


# --- euca-udev and its rule ------------------------------------------------------------------


@pytest.fixture
def euca_udev(tmp_path) -> Path:
    path = tmp_path / "euca-udev"
    path.write_text(render_euca_udev())
    return path


@pytest.mark.parametrize(
    "name, printed",
    [("xvda1", "sda1"), ("xvdb", "sdb"), ("xvdaa", "sdaa"), ("xvdf12", "sdf12"), ("sda1", "sda1"), ("xvd", "xvd"),
     # virtio disks under KVM, as the starter images' later 06-euca-udev.rules maps them
     ("vda", "sda"), ("vdb", "sdb"), ("vdb1", "sdb1"), ("vdaa3", "sdaa3"),
     # names that are no disk of either kind stay as they are
     ("vd", "vd"), ("vd1", "vd1"), ("vdB", "vdB"), ("vdb-x", "vdb-x"), ("nvme0n1", "nvme0n1"), ("loop0", "loop0")],
)
def test_euca_udev_names(euca_udev, name, printed):
    result = subprocess.run(["sh", str(euca_udev), name], capture_output=True, text=True, timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (0, printed + "\n", "")


@pytest.mark.parametrize("args", [[], ["xvda", "xvdb"]])
def test_euca_udev_wants_exactly_one_name(euca_udev, args):
    result = subprocess.run(["sh", str(euca_udev), *args], capture_output=True, text=True, timeout=10)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "usage:" in result.stderr


def rules_of(rule: str) -> list[str]:
    return [line for line in rule.splitlines() if line and not line.startswith("#")]


def test_udev_rule_calls_euca_udev_for_xvd_and_vd_disks():
    rules = rules_of(render_udev_rule())
    assert rules == [
        'KERNEL=="xvd*", PROGRAM="/sbin/euca-udev %k", SYMLINK+="%c"',
        'KERNEL=="vd*", PROGRAM="/sbin/euca-udev %k", SYMLINK+="%c"',
    ]
    assert render_euca_udev().startswith("#!/bin/sh\n")
    assert all("/" + layout.EUCA_UDEV in line for line in rules)


@pytest.mark.parametrize("xvd, vd", [(True, False), (False, True)])
def test_udev_rule_covers_only_the_disks_its_options_name(xvd, vd):
    files = image_files(Metadata(udev_xvd=xvd, udev_vd=vd))
    rules = rules_of(files[layout.UDEV_RULE][0])
    assert [line.split(",")[0] for line in rules] == (['KERNEL=="xvd*"'] if xvd else ['KERNEL=="vd*"'])
    assert files[layout.EUCA_UDEV] == (render_euca_udev(), 0o755)


def test_the_vd_mapping_is_on_by_default_and_old_answers_keep_udev_xvd():
    assert Metadata().udev_vd is True
    old = Metadata.model_validate({"udev_xvd": False})
    assert (old.udev_xvd, old.udev_vd) == (False, True)
    assert rules_of(image_files(old)[layout.UDEV_RULE][0]) == ['KERNEL=="vd*", PROGRAM="/sbin/euca-udev %k", SYMLINK+="%c"']


# --- fstab and the systemd units ------------------------------------------------------------


def test_fstab_mounts_the_root_by_label():
    fstab = render_fstab()
    entries = [line.split() for line in fstab.splitlines() if line and not line.startswith("#")]
    assert entries == [[f"LABEL={layout.ROOT_LABEL}", "/", "ext3", "defaults,errors=remount-ro", "0", "1"]]
    assert fstab.startswith("#")


def test_fstab_takes_another_label_and_refuses_a_bad_one():
    assert "LABEL=emi-root  /  ext3" in render_fstab("emi-root")
    for bad in ("", "two words", "x" * 17, "a\nb"):
        with pytest.raises(ValueError):
            render_fstab(bad)


def unit(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(text)
    return parser


def test_hostkey_unit_makes_missing_keys_before_sshd():
    parsed = unit(render_hostkey_unit())
    assert parsed["Unit"]["ConditionPathExistsGlob"] == "!/etc/ssh/ssh_host_*_key"
    assert set(parsed["Unit"]["Before"].split()) == {"ssh.service", "sshd.service"}
    assert parsed["Service"]["Type"] == "oneshot"
    assert parsed["Service"]["ExecStart"] == "/usr/bin/ssh-keygen -A"
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


def test_rc_local_dropin_waits_for_the_network_and_is_bounded():
    parsed = unit(render_rc_local_dropin())
    assert parsed["Unit"]["Wants"] == "network-online.target"
    assert parsed["Unit"]["After"] == "network-online.target"
    timeout = int(parsed["Service"]["TimeoutSec"])
    assert timeout == RC_LOCAL_TIMEOUT and 0 < timeout <= 600
    assert parsed["Service"]["StandardOutput"] == "journal+console"
    assert parsed["Service"]["SyslogIdentifier"] == rclocal.TAG


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_reads_the_units_without_complaint(tmp_path):
    hostkey = tmp_path / layout.HOSTKEY_UNIT_NAME
    hostkey.write_text(render_hostkey_unit())
    # A drop-in is not a unit: try its lines inside a stand-in for rc-local.service.
    rc_local = tmp_path / "rc-local-standin.service"
    rc_local.write_text(render_rc_local_dropin().replace("[Service]\n", "[Service]\nType=forking\nExecStart=/bin/true\n"))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(hostkey), str(rc_local)], capture_output=True, text=True, timeout=60
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if ("Unknown" in line or "ignoring" in line or "Failed to parse" in line or "Invalid" in line)
    ]
    assert not complaints, complaints


# --- image_files -----------------------------------------------------------------------------


def test_image_files_with_udev():
    metadata = Metadata()
    files = image_files(metadata)
    assert files == {
        layout.RC_LOCAL: (render_rc_local(metadata), 0o755),
        layout.RC_LOCAL_UNIT_DROPIN: (render_rc_local_dropin(), 0o644),
        layout.FSTAB: (render_fstab(), 0o644),
        layout.HOSTKEY_UNIT: (render_hostkey_unit(), 0o644),
        layout.UDEV_RULE: (render_udev_rule(), 0o644),
        layout.EUCA_UDEV: (render_euca_udev(), 0o755),
    }
    assert all(not path.startswith("/") and ".." not in path.split("/") for path in files)


def test_image_files_without_udev():
    files = image_files(Metadata(udev_xvd=False, udev_vd=False))
    assert layout.UDEV_RULE not in files and layout.EUCA_UDEV not in files
    assert set(files) == {layout.RC_LOCAL, layout.RC_LOCAL_UNIT_DROPIN, layout.FSTAB, layout.HOSTKEY_UNIT}


def test_image_files_follow_the_metadata_options():
    rc_local, _ = image_files(Metadata(ssh_key="ec2-user", hostname=True))[layout.RC_LOCAL]
    assert rc_local == render_rc_local(Metadata(ssh_key="ec2-user", hostname=True))


def test_the_hostkey_unit_is_enabled_by_a_relative_link():
    links = image_symlinks()
    assert set(links) == {layout.HOSTKEY_UNIT_LINK}
    target = links[layout.HOSTKEY_UNIT_LINK]
    assert not target.startswith("/")
    assert posixpath.normpath(posixpath.join(posixpath.dirname(layout.HOSTKEY_UNIT_LINK), target)) == layout.HOSTKEY_UNIT
    assert layout.HOSTKEY_UNIT_LINK not in image_files(Metadata())


def test_the_module_stays_headless():
    code = "import sys, emi_tui.engine.image.files; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
