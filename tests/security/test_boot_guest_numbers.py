"""A hostile guest's answers to the boot test's look inside: numbers that are not plain numbers.

After boot the test logs in and reads what the guest's own programs print
(`df` for the size of /, `ls | grep -c` for the host keys). The guest owns
those programs: it may print digits that Python's `str.isdigit` accepts but
`int` refuses (superscripts, other scripts' digits) or thousands of digits,
which `int` refuses past its limit. Either must fail that check with a
message, never end the boot test in a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emi_tui.engine.boot.boottest import GROWN_CHECK, BootTest

#: What a hostile df or grep may print where a number belongs.
NOT_NUMBERS = ["²", "12\u00b3", "4" * 5000]
IDS = ["superscript", "superscript-tail", "5000 digits"]


def _inspect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hostkeys: str, root_size: str, size: int | None) -> BootTest:
    """Run the boot test's look inside against a guest that prints `hostkeys` and `root_size` in those sections."""
    key = tmp_path / "id_ed25519"
    key.with_suffix(".pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey emi-boot-test\n")
    test = BootTest(tmp_path / "image.img", console_log=tmp_path / "console.log", root_size=size)
    output = (f"--authorized_keys\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey\n--ephemeral\n/dev/vdb\n--marker\n{test.marker}\n"
              f"--hostkeys\n{hostkeys}\n--image-id\nimage_stamp=1\n--root-size\n{root_size}\n--sdb\n--end\n")
    monkeypatch.setattr(test, "_ssh", lambda *args, **kwargs: output)
    test._inspect(None, key, 0)  # type: ignore[arg-type]  # the console is not read once the guest answered
    return test


@pytest.mark.parametrize("printed", NOT_NUMBERS, ids=IDS)
def test_a_guest_whose_ls_prints_no_number_fails_the_host_keys_check(tmp_path, monkeypatch, printed):
    test = _inspect(tmp_path, monkeypatch, printed, "1", None)
    check = test.checks["SSH host keys regenerated"]
    assert not check.passed
    assert check.detail == "no /etc/ssh/ssh_host_*_key"


@pytest.mark.parametrize("printed", NOT_NUMBERS, ids=IDS)
def test_a_guest_whose_df_prints_no_number_fails_the_grown_check(tmp_path, monkeypatch, printed):
    test = _inspect(tmp_path, monkeypatch, "3", printed, 4 * 1024**3)
    check = test.checks[GROWN_CHECK]
    assert not check.passed
    assert check.detail == "/ is not known, not about 4.0 GB"
    assert test.checks["SSH host keys regenerated"].passed
