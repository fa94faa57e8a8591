"""A broken module must fail the suite, not skip it: no test guards an import of ours.

`pytest.importorskip("emi_tui...")` or `try: import emi_tui... except ImportError: skip`
turns a module that no longer imports into a quiet skip. Guards on optional
third-party tools stay allowed (they say why they skip, and CI fails them).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def guards_in(source: str, name: str) -> list[str]:
    """Each place in `source` that turns a failed import of emi_tui into a skip or a pass."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "importorskip":
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and str(first.value).startswith("emi_tui"):
                found.append(f"{name}:{node.lineno}: importorskip({first.value!r})")
        if isinstance(node, ast.Try):
            imports_ours = any(
                isinstance(inner, (ast.Import, ast.ImportFrom))
                and any(n.startswith("emi_tui") for n in ([a.name for a in inner.names] if isinstance(inner, ast.Import) else [inner.module or ""]))
                for statement in node.body for inner in ast.walk(statement)
            )
            caught = [ast.unparse(handler.type) for handler in node.handlers if handler.type is not None]
            catches_import_error = any("ImportError" in names or "ModuleNotFoundError" in names for names in caught)
            if imports_ours and catches_import_error:
                found.append(f"{name}:{node.lineno}: try/except ImportError around an import of emi_tui")
    return sorted(found, key=lambda line: int(line.split(":")[1]))


def test_no_test_turns_a_broken_module_into_a_skip():
    found = [g for path in sorted(TESTS.rglob("*.py")) for g in guards_in(path.read_text(encoding="utf-8"), str(path.relative_to(TESTS)))]
    assert found == [], "\n".join(found)


def test_the_scan_sees_both_kinds_of_guard():
    planted = (
        "import pytest\n"
        "review = pytest.importorskip('emi_tui.engine.review.review', reason='not written yet')\n"
        "try:\n"
        "    from emi_tui.tui.screens.job.build import BuildScreen\n"
        "except ImportError:\n"
        "    pytest.skip('no build screen', allow_module_level=True)\n"
        "yaml = pytest.importorskip('yaml')\n"
    )
    assert guards_in(planted, "planted.py") == [
        "planted.py:2: importorskip('emi_tui.engine.review.review')",
        "planted.py:3: try/except ImportError around an import of emi_tui",
    ]
