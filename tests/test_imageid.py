"""/etc/image-id: the stamp is the operators' shell pipeline, the date is UTC, both from one instant."""

from __future__ import annotations

import calendar
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from emi_tui.engine.image.imageid import (
    DATE_FORMAT,
    DATE_RE,
    FIELDS,
    STAMP_RE,
    ImageId,
    date_for,
    now_epoch,
    stamp_for,
)

GOLDEN = Path(__file__).parent / "data" / "imageid" / "golden-image-id"
SED = r"sed '1,$ s/\(....\)\(....\).*/\1-\2/'"
EPOCHS = [0, 1, 9, 59, 86399, 999999999, 1000000000, 1234567890, 1313410821, 1500000000, 1700000000, 1764288000, 2147483647, 2147483648,
          4102444800]


def shell_stamp(epoch: int) -> str:
    """What `date +%s | md5sum | sed ...` printed, with `echo EPOCH` standing in for date."""
    done = subprocess.run(["sh", "-c", f"echo {epoch} | md5sum | {SED}"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def shell_utc_date(epoch: int) -> str:
    done = subprocess.run(["date", "-u", "-d", f"@{epoch}", "+%Y%m%d%H%M%S"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("epoch", EPOCHS)
def test_stamp_matches_the_shell_pipeline(epoch):
    expected = shell_stamp(epoch)
    assert STAMP_RE.match(expected)
    assert stamp_for(epoch) == expected


def test_known_stamp_vector():
    assert shell_stamp(1313410821) == "a17c-a678"
    assert stamp_for(1313410821) == "a17c-a678"


def test_stamp_of_the_real_date_command():
    done = subprocess.run(["sh", "-c", f"e=$(date +%s); echo $e; date +%s | md5sum | {SED}; echo $e | md5sum | {SED}"],
                          capture_output=True, text=True, check=True)
    epoch, from_date, from_echo = done.stdout.split()
    assert stamp_for(int(epoch)) == from_echo
    if from_date == from_echo:  # the two `date` calls fell in the same second (almost always)
        assert stamp_for(int(epoch)) == from_date


def test_stamp_accepts_a_float_epoch_as_whole_seconds():
    assert stamp_for(1313410821.9) == "a17c-a678"


@pytest.mark.parametrize("epoch", EPOCHS)
def test_date_is_utc(epoch):
    assert date_for(epoch) == shell_utc_date(epoch)
    assert DATE_RE.match(date_for(epoch))


def test_date_ignores_the_tz_environment():
    code = "from emi_tui.engine.image.imageid import date_for; print(date_for(1313410821))"
    for tz in ("America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati", "UTC"):
        env = dict(os.environ, TZ=tz)
        local = subprocess.run(["date", "-d", "@1313410821", "+%Y%m%d%H%M%S"], env=env, capture_output=True, text=True, check=True)
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "20110815122021", tz
        if tz != "UTC":
            assert local.stdout.strip() != "20110815122021", f"TZ={tz} did not change local time: the test proves nothing"


def test_date_ignores_the_tz_of_this_process(monkeypatch):
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        assert date_for(1313410821) == "20110815122021"
    finally:
        monkeypatch.undo()
        time.tzset()


def _epoch_of_date(image_date: str) -> int:
    return calendar.timegm(datetime.strptime(image_date, DATE_FORMAT).timetuple())


@pytest.mark.parametrize("epoch", EPOCHS)
def test_stamped_takes_stamp_and_date_from_one_instant(epoch):
    image_id = ImageId.stamped(name="n", version="v", arch="x86_64", file="f.img", recipe="debian-based", epoch_seconds=epoch)
    assert image_id.image_stamp == shell_stamp(epoch)
    assert image_id.image_date == shell_utc_date(epoch)
    # A reviewer proves the stamp belongs to the date: the date's UTC instant gives back the stamp.
    assert stamp_for(_epoch_of_date(image_id.image_date)) == image_id.image_stamp


def test_now_epoch_is_now():
    before = int(time.time())
    now = now_epoch()
    after = int(time.time())
    assert isinstance(now, int)
    assert before <= now <= after


def golden_image_id() -> ImageId:
    return ImageId.stamped(
        name="euca-debian-emi", version="2011.08.15", arch="x86_64", file="euca-debian-2011.08.15-x86_64.img",
        recipe="debian-based", epoch_seconds=1313410821,
    )


def test_render_matches_the_golden_file():
    assert golden_image_id().render() == GOLDEN.read_text(encoding="utf-8")


def test_golden_file_shape():
    lines = GOLDEN.read_text(encoding="utf-8").splitlines()
    assert [line.split("=", 1)[0] for line in lines] == list(FIELDS)
    assert all(re.fullmatch(r'[a-z_]+="[^"\n]*"', line) for line in lines)


def test_render_follows_the_canonical_order_not_the_dataclass_order():
    image_id = ImageId("N", "V", "A", "F", "S", "D", "R")
    assert image_id.render() == 'image_name="N"\nimage_version="V"\nimage_arch="A"\nimage_file="F"\nimage_stamp="S"\nimage_date="D"\nrecipe_name="R"\n'


def test_as_dict():
    assert golden_image_id().as_dict() == {
        "image_name": "euca-debian-emi",
        "image_version": "2011.08.15",
        "image_arch": "x86_64",
        "image_file": "euca-debian-2011.08.15-x86_64.img",
        "image_stamp": "a17c-a678",
        "image_date": "20110815122021",
        "recipe_name": "debian-based",
    }
