"""answers.schema.json stays in step with the answer-file model (regenerate with scripts/gen_schema.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from emi_tui.engine.answers.model import Answers, ImageFields, Metadata, Output, json_schema

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "answers.schema.json"
REGENERATE = "answers.schema.json is out of date with emi_tui.engine.answers.model: run `python scripts/gen_schema.py`"


def test_schema_file_matches_the_model():
    assert SCHEMA_FILE.is_file(), REGENERATE
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json_schema(), REGENERATE


def test_schema_file_is_formatted_as_generated():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json.dumps(json_schema(), indent=2) + "\n", REGENERATE


def test_gen_schema_script_writes_the_same_file(tmp_path):
    target = tmp_path / "schema.json"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_schema.py"), str(target)], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert target.read_text(encoding="utf-8") == SCHEMA_FILE.read_text(encoding="utf-8")


def test_gen_schema_check_notices_a_stale_file(tmp_path):
    stale = tmp_path / "stale.json"
    stale.write_text("{}\n")
    script = str(REPO / "scripts" / "gen_schema.py")
    done = subprocess.run([sys.executable, script, "--check", str(stale)], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "python scripts/gen_schema.py" in done.stderr
    done = subprocess.run([sys.executable, script, "--check", str(SCHEMA_FILE)], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_cli_prints_the_same_schema():
    env = dict(os.environ, COLUMNS="200")
    done = subprocess.run([sys.executable, "-m", "emi_tui", "validate", "--schema"], check=False, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_schema_describes_format_v1():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "emi-tui answer file, format v1"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["version", "recipe"]
    assert list(schema["properties"]) == list(Answers.model_fields)
    assert schema["properties"]["version"]["const"] == 1
    assert schema["properties"]["arch"]["default"] == "x86_64"
    assert schema["properties"]["size"]["default"] == "1.3G"
    assert schema["properties"]["kernel"]["default"] is True


def test_schema_sections_forbid_unknown_keys_and_list_choices():
    defs = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["$defs"]
    for model in (Metadata, ImageFields, Output):
        section = defs[model.__name__]
        assert section["additionalProperties"] is False, model.__name__
        assert list(section["properties"]) == list(model.model_fields), model.__name__
    assert defs["Metadata"]["properties"]["ssh_key"]["enum"] == ["root", "ec2-user", "none"]
    assert defs["Output"]["properties"]["compress"]["enum"] == ["gzip", "zstd", "xz", "none"]
    assert defs["Repository"]["required"] == ["line"]


def test_every_schema_property_has_a_description_or_a_section():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    for holder in [schema] + list(schema["$defs"].values()):
        for name, prop in holder["properties"].items():
            assert "description" in prop or "$ref" in prop or "$ref" in json.dumps(prop), name


def test_an_installed_wheel_names_its_own_copy_of_the_schema(tmp_path, monkeypatch):
    """The modeline of saved answers points at the schema beside the running code: the wheel's _data, else the checkout's."""
    from emi_tui.engine import paths
    from emi_tui.engine.answers.storage import schema_modeline

    assert paths.shipped_file("answers.schema.json") == SCHEMA_FILE
    package = tmp_path / "site" / "emi_tui"
    (package / "_data").mkdir(parents=True)
    (package / "_data" / "answers.schema.json").write_text("{}\n")
    monkeypatch.setattr(paths, "_PACKAGE_DIR", package)
    assert schema_modeline() == f"# yaml-language-server: $schema={(package / '_data' / 'answers.schema.json').as_uri()}\n"
    (package / "_data" / "answers.schema.json").unlink()
    assert schema_modeline() == ""  # neither copy: no pointer to nothing


def test_every_pattern_says_in_words_what_it_asks_for():
    """Editors show `patternErrorMessage` instead of a pattern of hundreds of characters."""
    from emi_tui.engine.answers.schemarules import UNSIGNED_LINE

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    found: list[dict] = []

    def walk(node):
        if isinstance(node, dict):
            found.extend([node] if "pattern" in node else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert len(found) >= 12
    for node in found:
        if node["pattern"] != UNSIGNED_LINE:  # a "not": its message sits on the node around it, checked below
            assert node.get("patternErrorMessage"), node["pattern"]
    unsigned = schema["$defs"]["Repository"]["then"]["properties"]["line"]
    assert "allow_unsigned: true" in unsigned["errorMessage"]


def test_every_key_has_a_description_and_examples():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    for holder in [schema] + list(schema["$defs"].values()):
        for name, prop in holder["properties"].items():
            assert prop.get("description"), name
            assert isinstance(prop.get("examples"), list) and prop["examples"], name
