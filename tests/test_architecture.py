"""The architecture as a contract: layers that import one way, and no import cycles anywhere.

    cli ──> tui ──────┐
     └───> commands ──┴──> engine ──> (stdlib, pyyaml, pydantic, pexpect, platformdirs)

Every import statement counts, wherever it stands: at the top, inside a
function, or under `if TYPE_CHECKING:` — a cycle hidden in a function is
still a cycle a reader has to untangle. The walk reads the source (ast), so
it sees modules that nothing imports yet, and its checks are shown to fail on
a planted tree.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "emi_tui"

#: Which of our layers each layer may import (itself included). `cli` is the entry point above both renderers.
ALLOWED_LAYERS = {
    "engine": {"engine"},
    "commands": {"commands", "engine"},
    "tui": {"tui", "engine"},
    "cli": {"cli", "commands", "tui", "engine"},
}
#: Third-party packages a layer must never import.
FORBIDDEN_THIRD_PARTY = {"engine": {"textual", "rich"}, "commands": {"textual"}}


def module_name(path: Path, root: Path) -> str:
    """emi_tui.engine.run.job for <root>/engine/run/job.py (root is the emi_tui folder)."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Every module `path` imports (ours resolved to the module itself, others to their top-level package)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in known else target)
    return {m if m in known else m.split(".")[0] for m in found if m}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module name -> the modules it imports, for every .py file below `root`."""
    files = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    known = set(files)
    return {name: imports_of(path, name, known) for name, path in files.items()}


def layer_of(module: str, root_name: str) -> str | None:
    parts = module.split(".")
    if parts[0] != root_name or len(parts) < 2:
        return None
    return {"cli": "cli", "__main__": "cli", "engine": "engine", "commands": "commands", "tui": "tui"}.get(parts[1])


def layer_violations(graph: dict[str, set[str]], root_name: str = "emi_tui") -> list[str]:
    """Each import that goes against ALLOWED_LAYERS or FORBIDDEN_THIRD_PARTY, as 'a imports b'."""
    problems = []
    for module, targets in sorted(graph.items()):
        layer = layer_of(module, root_name)
        if layer is None:
            continue
        for target in sorted(targets):
            target_layer = layer_of(target, root_name)
            if target_layer is not None and target_layer not in ALLOWED_LAYERS[layer]:
                problems.append(f"{module} ({layer}) imports {target} ({target_layer})")
            if target in FORBIDDEN_THIRD_PARTY.get(layer, set()):
                problems.append(f"{module} ({layer}) imports {target}")
    return problems


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted: every one is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def test_the_layers_import_one_way():
    assert layer_violations(import_graph(PACKAGE_ROOT)) == []


def test_there_is_no_import_cycle():
    assert import_cycles(import_graph(PACKAGE_ROOT)) == []


def test_the_walk_sees_every_engine_subpackage():
    graph = import_graph(PACKAGE_ROOT)
    for part in ("answers", "run", "build", "image", "artifact", "modify", "review", "boot"):
        assert any(m.startswith(f"emi_tui.engine.{part}.") for m in graph), part


# The checks above can fail: a planted tree with each kind of violation.

def _plant(root: Path, files: dict[str, str]) -> Path:
    package = root / "emi_tui"
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in [package, *[p for p in package.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()
    return package


@pytest.fixture
def planted(tmp_path) -> dict[str, set[str]]:
    return import_graph(_plant(tmp_path, {
        "engine/a.py": "def f():\n    from emi_tui.tui import screen\n",
        "engine/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from emi_tui.engine import c\nimport rich.text\n",
        "engine/c.py": "from . import b\n",
        "commands/x.py": "import textual\nfrom emi_tui.engine import a\n",
        "tui/screen.py": "from emi_tui.commands import x\n",
    }))


def test_the_layer_check_sees_upward_and_forbidden_imports(planted):
    problems = layer_violations(planted)
    assert "emi_tui.engine.a (engine) imports emi_tui.tui.screen (tui)" in problems
    assert "emi_tui.engine.b (engine) imports rich" in problems
    assert "emi_tui.commands.x (commands) imports textual" in problems
    assert "emi_tui.tui.screen (tui) imports emi_tui.commands.x (commands)" in problems


def test_the_cycle_check_sees_a_cycle_hidden_under_type_checking(planted):
    assert ["emi_tui.engine.b", "emi_tui.engine.c"] in import_cycles(planted)
