"""A repository line that switches off apt's signature checks is refused unless that repository opts in.

`[trusted=yes]` (and allow-insecure, allow-weak, allow-downgrade-to-insecure)
let anyone on the path to the mirror replace the packages that run as root in
the image. The attacker writes the option in every spelling apt reads as
"yes"; each must be refused at its line, and, once the repository says
`allow_unsigned: true`, shown as a warning in the plan, by validate and on
the wizard's Summary.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.app import App
from textual.widgets import OptionList

from emi_tui.engine import paths
from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.build.readiness import Readiness
from emi_tui.tui.screens.wizard.summary import SummaryScreen
from emi_tui.tui.state.wizard_state import open_answers

BOOK = RecipeBook([paths.shipped_dir("recipes")])
HEAD = "version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\nrepositories:\n"
CHECKS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WEAKENING = ["trusted", "allow-insecure", "allow-weak", "allow-downgrade-to-insecure"]
#: What apt's StringToBool reads as "yes", and values it does not know (which may mean yes to some apt).
YES = ["yes", "true", "with", "on", "enable", "1", "YES", "True", "2", "yes,arch=amd64"]
NO = ["no", "false", "without", "off", "disable", "0", "NO"]
BENIGN = ["arch=amd64", "arch+=arm64", "lang=none", "target-=Contents-deb", "pdiffs=no", "signed-by=/etc/apt/keyrings/x.gpg", "check-valid-until=no"]
TAILS = ["http://extra.example/debian bookworm main", "file:///srv/repo ./", "https://extra.example/debian bookworm main contrib"]


@st.composite
def weakened_lines(draw) -> tuple[str, str]:
    """An apt line with one option that weakens its checks among benign ones, in any spacing; and that option."""
    weak = f"{draw(st.sampled_from(WEAKENING))}{draw(st.sampled_from(['', '+', '-']))}={draw(st.sampled_from(YES))}"
    others = draw(st.lists(st.sampled_from(BENIGN), max_size=3))
    options = draw(st.permutations([weak, *others]))
    gap = st.sampled_from([" ", "  ", "   "])  # a tab is a control character, refused for its own sake
    inner = draw(gap).join(options)
    inside = f"{draw(st.sampled_from(['', ' ', '  ']))}{inner}{draw(st.sampled_from(['', ' ']))}"
    kind = draw(st.sampled_from(["deb", "deb-src"]))
    return f"{kind}{draw(gap)}[{inside}]{draw(gap)}{draw(st.sampled_from(TAILS))}", weak


def _quoted(line: str) -> str:
    return '"' + line.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'


@CHECKS
@given(weakened_lines())
def test_every_spelling_of_trusted_yes_is_refused_at_its_line(drawn):
    line, weak = drawn
    result = validate_bytes(HEAD + f"  - line: {_quoted(line)}\n", "a.yaml", BOOK)
    assert not result.ok
    assert [(p.line, p.column, p.key) for p in result.problems] == [(5, 11, "repositories[0].line")], [str(p) for p in result.problems]
    message = result.problems[0].message
    assert f"[{weak}]" in message and "without checking their signatures" in message and "allow_unsigned: true" in message


@CHECKS
@given(weakened_lines(), st.integers(0, 2))
def test_the_opt_in_is_per_repository_and_warns(drawn, position):
    from emi_tui.engine.answers.trust import trust_warnings  # new with the opt-in

    line, weak = drawn
    signed = "deb http://signed.example/debian bookworm main"
    repositories = [f"  - line: {_quoted(signed)}\n"] * 2
    repositories.insert(position, f"  - line: {_quoted(line)}\n    allow_unsigned: true\n")
    result = validate_bytes(HEAD + "".join(repositories), "a.yaml", BOOK)
    assert result.ok, [str(p) for p in result.problems]
    warnings = trust_warnings(result.answers, result.recipe)
    assert len(warnings) == 1 and warnings[0].startswith(f"repositories[{position}] is used without signature checks ([{weak}]")
    # An opt-in of one repository never covers another one.
    other = [f"  - line: {_quoted(line)}\n    allow_unsigned: true\n", f"  - line: {_quoted(line)}\n"]
    result = validate_bytes(HEAD + "".join(other), "a.yaml", BOOK)
    assert [p.key for p in result.problems] == ["repositories[1].line"]


@CHECKS
@given(st.sampled_from(WEAKENING), st.sampled_from(NO), st.lists(st.sampled_from(BENIGN), max_size=3))
def test_options_that_say_no_weaken_nothing(name, value, others):
    from emi_tui.engine.answers.sources import unsigned_options  # new with the opt-in
    from emi_tui.engine.answers.trust import trust_warnings

    line = f"deb [{' '.join([f'{name}={value}', *others])}] http://extra.example/debian bookworm main"
    assert unsigned_options(line) == []
    result = validate_bytes(HEAD + f"  - line: {_quoted(line)}\n", "a.yaml", BOOK)
    assert result.ok and trust_warnings(result.answers, result.recipe) == []


def test_the_plan_and_validate_show_the_warning(tmp_path):
    answers = tmp_path / "a.yaml"
    line = "deb [ arch=amd64 trusted=yes ] http://extra.example/debian bookworm main"
    answers.write_text(HEAD + f"  - line: {_quoted(line)}\n    allow_unsigned: true\noutput:\n  dir: {tmp_path / 'out'}\n")
    env = dict(os.environ, NO_COLOR="1", COLUMNS="400", XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    warning = f"repositories[0] is used without signature checks ([trusted=yes], allowed by allow_unsigned: true): {line}"
    plan = subprocess.run([sys.executable, "-m", "emi_tui", "build", "--dry-run", "--offline", str(answers)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    preflight = plan.stdout.split("1. preflight", 1)[1].split("2. bootstrap", 1)[0]
    assert f"warning: {warning}" in preflight
    checked = subprocess.run([sys.executable, "-m", "emi_tui", "validate", "-q", str(answers)], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0 and f"{answers}: warning: {warning}" in checked.stderr


class _SummaryApp(App):
    def __init__(self, screen: SummaryScreen) -> None:
        super().__init__()
        self._summary = screen

    def on_mount(self) -> None:
        self.push_screen(self._summary)


def test_summary_shows_the_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    line = "deb [trusted=yes] http://extra.example/debian bookworm main"
    answers = tmp_path / "a.yaml"
    answers.write_text(HEAD + f"  - line: {_quoted(line)}\n    allow_unsigned: true\n")
    state = open_answers(answers, BOOK, date(2026, 11, 28)).state
    assert state is not None

    async def shown() -> list[str]:
        # The checks are the readiness tests' business: here no mirror is asked (extra.example is not one).
        app = _SummaryApp(SummaryScreen(state, now=lambda: None, readiness=lambda *_, **__: Readiness(())))
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause()
            listing = app.screen.query_one("#problem-list", OptionList)
            return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]

    options = asyncio.run(shown())
    assert any("warning:" in o and "repositories[0] is used without signature checks ([trusted=yes]" in o for o in options), options
    assert any("No problems" in o for o in options)  # a warning, not a problem: Build stays possible


def test_allow_unsigned_false_is_no_opt_in():
    line = "deb [trusted=yes] http://extra.example/debian bookworm main"
    result = validate_bytes(HEAD + f"  - line: {_quoted(line)}\n    allow_unsigned: false\n", "a.yaml", BOOK)
    assert [p.key for p in result.problems] == ["repositories[0].line"]
