"""The schema's patterns mean the same to an editor (ECMA-262 regular expressions) as to Python's `re`.

The YAML language server compiles each `pattern` with JavaScript's RegExp and
the "u" flag; the `jsonschema` library, and so tests/test_schema_agrees.py, with
Python's `re`. Node runs every pattern of answers.schema.json over the corpus
of that test, and each verdict must be Python's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_schema_agrees import FIELD_CORPUS, HOSTILE, KEYS, LINES, PACKAGES

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "answers.schema.json"
NODE = shutil.which("node") or shutil.which("nodejs")

SCRIPT = """
const {patterns, samples} = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(patterns.map(p => { const r = new RegExp(p, 'u'); return samples.map(s => r.test(s)); })));
"""


def _patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


@pytest.mark.skipif(NODE is None, reason="node (a JavaScript engine, as editors use) is not installed")
def test_every_pattern_means_the_same_in_javascript():
    patterns = sorted(set(_patterns(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))))
    assert len(patterns) >= 12
    samples = sorted({v for values in FIELD_CORPUS.values() for v in values if isinstance(v, str)} | set(HOSTILE + PACKAGES + LINES + KEYS))
    samples += [f"deb [{o}] http://m.example/d s main" for o in ("trusted=yes", "trusted=No", "allow-weak=0", "a=b trusted=1")]
    done = subprocess.run([NODE, "-e", SCRIPT], input=json.dumps({"patterns": patterns, "samples": samples}),
                          capture_output=True, text=True, check=True, timeout=60)
    verdicts = json.loads(done.stdout)
    for pattern, by_javascript in zip(patterns, verdicts, strict=True):
        by_python = [re.search(pattern, s) is not None for s in samples]
        differ = [s for s, js, py in zip(samples, by_javascript, by_python) if js != py]
        assert not differ, f"{pattern}: JavaScript and Python differ on {differ}"
        assert any(by_python) and not all(by_python), f"{pattern}: the corpus does not exercise it"
