"""The template files of emi_tui/engine/image/templates/ and the one function that renders them.

- render: placeholders and sections must match exactly what it is given, and
  every value goes into a shell file shell-quoted;
- shellcheck (POSIX sh) passes on every shell script that goes into an image,
  for every combination of the Metadata options, enumerated from the model;
- every template file is used, and no Python module under emi_tui/engine/image/
  holds a script as a string again.
"""

from __future__ import annotations

import ast
import itertools
import re
import subprocess
import typing
from importlib import resources
from pathlib import Path

import pytest

from emi_tui.engine.answers.model import Metadata
from emi_tui.engine.image import layout, templates
from emi_tui.engine.image.files import image_files
from emi_tui.engine.image.templates import TemplateError, render
from tests.linting import run_shellcheck, shellcheck_program

ROOT = Path(__file__).resolve().parent.parent
IMAGE_PACKAGE = ROOT / "emi_tui" / "engine" / "image"
TEMPLATES = IMAGE_PACKAGE / "templates"
#: The files that go into an image and are not scripts; anything else must start with #!.
NOT_SCRIPTS = {layout.UDEV_RULE, layout.FSTAB, layout.HOSTKEY_UNIT, layout.RC_LOCAL_UNIT_DROPIN}
SHELLS = {"#!/bin/sh": "sh", "#!/bin/bash": "bash"}


def metadata_choices() -> dict[str, tuple[object, ...]]:
    """Every value each Metadata option can take: both of a boolean, each of a choice; free text keeps its default."""
    choices: dict[str, tuple[object, ...]] = {}
    for name, field in Metadata.model_fields.items():
        if field.annotation is bool:
            choices[name] = (True, False)
        elif typing.get_origin(field.annotation) is typing.Literal:
            choices[name] = typing.get_args(field.annotation)
        elif field.annotation is str:
            choices[name] = (field.default,)
        else:
            raise AssertionError(f"Metadata.{name}: say here which of its values the image files are checked with")
    return choices


def every_metadata() -> list[Metadata]:
    choices = metadata_choices()
    return [Metadata(**dict(zip(choices, values))) for values in itertools.product(*choices.values())]


# --- render ------------------------------------------------------------------------------------


@pytest.fixture
def fake_templates(monkeypatch):
    """Templates given as text in the test instead of read from the package."""
    texts: dict[str, str] = {}
    monkeypatch.setattr(templates, "_source", lambda name: texts[name])
    return texts


def test_a_missing_value_is_refused():
    with pytest.raises(TemplateError, match="without a value: LABEL"):
        render("fstab")


def test_a_value_the_template_does_not_have_is_refused():
    with pytest.raises(TemplateError, match="does not have: LABLE"):
        render("fstab", LABEL="root", LABLE="root")


def test_a_missing_or_unknown_flag_is_refused(fake_templates):
    fake_templates["t.sh"] = "#@if swap\nswapon\n#@end\n"
    assert render("t.sh", {"swap": True}) == "swapon\n"
    with pytest.raises(TemplateError, match="flags without a value: swap"):
        render("t.sh")
    with pytest.raises(TemplateError, match="does not have: swpa"):
        render("t.sh", {"swap": True, "swpa": False})


def test_placeholders_in_dropped_sections_still_need_their_values(fake_templates):
    fake_templates["t.sh"] = "#@if on\nA=@@A@@\n#@end\n"
    assert render("t.sh", {"on": False}, A="x") == ""
    with pytest.raises(TemplateError, match="without a value: A"):
        render("t.sh", {"on": False})


def test_sections_else_and_nesting(fake_templates):
    fake_templates["t.sh"] = "a\n#@if x\nb\n#@if y\nc\n#@else\nd\n#@end\n#@else\ne\n#@end\nf\n"
    rendered = {(x, y): render("t.sh", {"x": x, "y": y}) for x in (True, False) for y in (True, False)}
    assert rendered == {
        (True, True): "a\nb\nc\nf\n",
        (True, False): "a\nb\nd\nf\n",
        (False, True): "a\ne\nf\n",
        (False, False): "a\ne\nf\n",
    }


@pytest.mark.parametrize(
    "text, problem",
    [
        ("#@if x\n", "never closed"),
        ("#@end\n", "#@end without"),
        ("#@if x\n#@else\n#@else\n#@end\n", "#@else without"),
        ("#@fi x\n", "unknown template directive"),
        ("#@include inner.sh\n", "includes nothing itself"),
    ],
)
def test_a_broken_template_is_refused(fake_templates, text, problem):
    fake_templates["t.sh"] = "#@include middle.sh\n"
    fake_templates["middle.sh"] = text
    fake_templates["inner.sh"] = "x\n"
    with pytest.raises(TemplateError, match=problem):
        render("t.sh", {"x": True} if "#@if" in text else None)


def test_notes_and_includes(fake_templates):
    fake_templates["t.sh"] = "#!/bin/sh\n#@ a note\n#@\n#@include part.sh\nend\n"
    fake_templates["part.sh"] = "#@ the part's note\npart\n"
    assert render("t.sh") == "#!/bin/sh\npart\nend\n"


@pytest.mark.parametrize(
    "value",
    ["plain", "", "it's", "$(touch /tmp/emi-pwned)", "`id`\"\\", "a\nexit 7\n", "--", "-e", "*"],
)
def test_a_value_reaches_the_shell_as_the_literal_word(fake_templates, tmp_path, value):
    fake_templates["t.sh"] = "V=@@V@@\nprintf '%s' \"$V\"\n"
    script = tmp_path / "t.sh"
    script.write_text(render("t.sh", V=value))
    result = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=10, check=False)
    assert (result.returncode, result.stdout) == (0, value)
    assert not Path("/tmp/emi-pwned").exists()


def test_a_list_value_becomes_one_quoted_word_per_item(fake_templates):
    fake_templates["t.sh"] = "for w in @@WORDS@@; do :; done\n"
    assert render("t.sh", WORDS=("vdb", "sdb", "it's")) == "for w in vdb sdb 'it'\"'\"'s'; do :; done\n"


def test_a_value_never_breaks_out_of_a_comment(fake_templates):
    fake_templates["t.sh"] = "# shown: @@V@@\n"
    assert render("t.sh", V="a b") == "# shown: 'a b'\n"
    with pytest.raises(TemplateError, match="comment"):
        render("t.sh", V="a\nrm -rf /")


def test_values_of_other_files_are_one_printable_line(fake_templates):
    fake_templates["t.conf"] = "Key=@@V@@\n"
    assert render("t.conf", V="it's $x") == "Key=it's $x\n"
    for bad in ("a\nb", "a\rb", "a\x00b"):
        with pytest.raises(TemplateError, match="printable"):
            render("t.conf", V=bad)
    with pytest.raises(TemplateError, match="text or a number"):
        render("t.conf", V=True)


def test_an_inserted_value_is_never_read_as_a_placeholder(fake_templates):
    fake_templates["t.conf"] = "@@A@@ @@B@@\n"
    assert render("t.conf", A="@@B@@", B="b") == "@@B@@ b\n"


# --- the templates as package data ------------------------------------------------------------


def test_the_templates_are_read_through_importlib_resources():
    packaged = resources.files("emi_tui.engine.image").joinpath("templates")
    assert packaged.joinpath("rc.local.sh").read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert packaged.joinpath("rc.local").joinpath("say.sh").is_file()


def test_every_template_file_is_used(monkeypatch):
    read: set[str] = set()
    source = templates._source

    def recording(name: str) -> str:
        read.add(name)
        return source(name)

    monkeypatch.setattr(templates, "_source", recording)
    for metadata in every_metadata():
        image_files(metadata)
    on_disk = {path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*") if path.is_file()}
    assert read == on_disk


def test_every_template_starts_with_a_note_for_its_reader():
    for path in TEMPLATES.rglob("*"):
        if path.is_file():
            lines = path.read_text().splitlines()
            first = lines[1] if lines[0].startswith("#!") else lines[0]
            assert first.startswith("#@ "), f"{path.name}: no header note"


# --- shellcheck on every combination ---------------------------------------------------------


@pytest.fixture(scope="module")
def shellcheck() -> str:
    return shellcheck_program()


def scripts_of_every_combination() -> dict[str, dict[str, str]]:
    """shell -> {distinct script text: one combination and path that produce it}."""
    scripts: dict[str, dict[str, str]] = {}
    for metadata in every_metadata():
        for path, (text, _mode) in image_files(metadata).items():
            shebang = text.split("\n", 1)[0]
            if path in NOT_SCRIPTS:
                assert not shebang.startswith("#!"), path
                continue
            assert shebang in SHELLS, f"{path} goes into the image without a shebang this test knows: {shebang!r}"
            scripts.setdefault(SHELLS[shebang], {}).setdefault(text, f"{path}: {metadata!r}")
    return scripts


def named_by_origin(report: str, paths: list[Path], origins: list[str]) -> str:
    """shellcheck's report with each temporary file named by the image path and options it came from."""
    for path, origin in zip(paths, origins, strict=True):
        report = report.replace(f"{path}:", f"{origin}:")
    return report


def test_the_combinations_are_every_boolean_and_every_choice():
    choices = metadata_choices()
    assert choices["ssh_key"] == ("root", "ec2-user", "none")
    booleans = [name for name, values in choices.items() if values == (True, False)]
    assert {"ephemeral0", "swap", "user_data", "hostname", "udev_xvd", "udev_vd", "grow_root"} <= set(booleans)
    assert len(every_metadata()) == 3 * 2 ** len(booleans)


def test_every_shell_script_of_every_combination_passes_shellcheck(shellcheck, tmp_path):
    scripts = scripts_of_every_combination()
    # rc.local differs for each combination of the options it reads; euca-udev is one script.
    assert len(scripts["sh"]) == 3 * 2**5 + 1
    for shell, texts in scripts.items():
        paths = []
        for number, text in enumerate(texts):
            path = tmp_path / f"{shell}-{number}"
            path.write_text(text)
            paths.append(path)
        result = run_shellcheck(shellcheck, shell, paths)
        assert result.returncode == 0, named_by_origin(result.stdout, paths, list(texts.values())) + result.stderr


def test_shellcheck_as_run_here_does_find_problems(shellcheck, tmp_path):
    """The control: the same call flags a script with a bashism and an unquoted expansion."""
    bad = tmp_path / "bad"
    bad.write_text('#!/bin/sh\nif [[ $1 == x ]]; then echo $2; fi\n')
    result = run_shellcheck(shellcheck, "sh", [bad])
    assert result.returncode != 0
    assert "SC3010" in result.stdout and "SC2086" in result.stdout


# --- no script hides in a Python string again --------------------------------------------------

#: A line only a script or a unit file has: a shell keyword alone, "; then" or
#: "; do" at the end, a shebang, or a systemd section header.
SCRIPT_LINE = re.compile(
    r"^[ \t]*(?:fi|done|esac|;;)[ \t]*$|;[ \t]*(?:then|do)[ \t]*$|^#!/|^\[(?:Unit|Service|Install)\][ \t]*$", re.MULTILINE
)


def scripts_in_python(source: str) -> list[str]:
    """The multi-line string constants of `source` that hold a script or a unit file."""
    return [
        node.value[:60]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "\n" in node.value
        and SCRIPT_LINE.search(node.value)
    ]


def test_no_module_of_the_image_package_holds_a_script():
    modules = sorted(IMAGE_PACKAGE.rglob("*.py"))
    assert {"files.py", "rclocal.py", "templates.py"} <= {path.name for path in modules}
    found = {str(path.relative_to(ROOT)): hits for path in modules if (hits := scripts_in_python(path.read_text()))}
    assert found == {}, "shell and unit files belong in emi_tui/engine/image/templates/"


def test_the_script_check_finds_a_script_in_a_string():
    """The control: scripts the way the image package once held them, and prose that is not one."""
    holds_scripts = '''
SWAP = """
do_swap() {
    if [ -z "$sw_dev" ]; then
        return 0
    fi
}
"""
UNIT = f"""{HEADER}
[Unit]
Description=x
"""
LOOP = "for d in a b; do\\n    echo $d\\ndone\\n"
'''
    assert len(scripts_in_python(holds_scripts)) == 3
    prose = '"""What is done here is done once.\n\nThen it is done; fi is not a word here."""\n'
    assert scripts_in_python(prose) == []
