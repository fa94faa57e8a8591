"""What a modify reads back out of the mounted image (the files it puts aside and back) is bounded and read inside the root.

The attacker's image holds a sparse /etc/resolv.conf or apt sources file that
claims far more than such a file ever holds: the modify must stop with a
clear message, not read it whole into memory.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emi_tui.engine.errors import EmiError
from emi_tui.engine.modify import steps as modify_steps
from emi_tui.engine.modify.teardown import STASHED

CHECKS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@CHECKS
@given(which=st.sampled_from(STASHED), size=st.integers(min_value=(1 << 20) + 1, max_value=64 << 20))
def test_a_giant_file_the_modify_puts_aside_is_not_read(tmp_path_factory, which, size):
    root = tmp_path_factory.mktemp("root")
    path = root / which
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)
    ctx = SimpleNamespace(dry_run=False, paths=SimpleNamespace(root=root), stash={})
    with pytest.raises(EmiError, match=rf"^/{which} in the image claims {size:,} bytes"):
        modify_steps._stash(ctx)
    assert which not in ctx.stash
