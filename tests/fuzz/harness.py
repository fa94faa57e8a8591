"""The fuzz suite's harness: how a problem must be located, the core bugs it steps over, bounded runs.

The inputs themselves come from strategies.py.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------- checks


def line_breaks(raw: bytes) -> int:
    """Every line break YAML counts (it also breaks lines at CR, NEL, LS and PS)."""
    return raw.count(b"\n") + raw.count(b"\r") + raw.count("\x85".encode()) + raw.count("\u2028".encode()) + raw.count("\u2029".encode())


def problem_errors(problems, source: str, raw: bytes | None = None) -> list[str]:
    """What is wrong with how `problems` are located (empty when every problem is fine)."""
    wrong = []
    # libyaml puts the end of the stream on the line after the last one when the file lacks a final newline.
    last_line = line_breaks(raw) + 2 if raw is not None else None
    for p in problems:
        text = str(p)
        if not (isinstance(p.line, int) and p.line >= 1 and isinstance(p.column, int) and p.column >= 1):
            wrong.append(f"not located: {p!r}")
        elif last_line is not None and p.line > last_line:
            wrong.append(f"line {p.line} is past the end of the file ({last_line} lines): {p!r}")
        if not (isinstance(p.message, str) and p.message.strip()):
            wrong.append(f"empty message: {p!r}")
        if not text.startswith(f"{source}:"):
            wrong.append(f"does not start with {source}: {text!r}")
        if p.severity not in ("error", "warning"):
            wrong.append(f"unknown severity: {p!r}")
    return wrong


def known_core_bug(exc: BaseException) -> str | None:
    """The name of an already reported core bug that `exc` is, or None for a new failure.

    Each one is pinned by a strict xfail test (see test_fuzz_answers.py and
    test_fuzz_recipes.py); the generated tests step over them so that they
    keep looking for new ones. When the core is fixed, the xfail test starts
    passing (and fails as strict), and its entry here is to be removed.
    """
    return None  # none open: the ones found were fixed in the core


def _raised_in(exc: BaseException, file_name: str, function: str) -> bool:
    """Whether `function` of the core module `file_name` is on the way from the test to where `exc` was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    return any(f.name == function and Path(f.filename).name == file_name and "emi_tui" in f.filename for f in frames)


def known_silent_answers(validation) -> str | None:
    """The name of an already reported core bug when a validation is neither ok nor has a problem."""
    return None  # none open


def known_silent_recipe(path: Path) -> str | None:
    """The same for a recipe file that gives neither a recipe nor a problem."""
    from emi_tui.engine.answers.yamlload import load_located_file

    located = load_located_file(path)
    if located.data is None and not located.problems:
        return "null-document"  # recipes.load_recipe_file returns located.problems (none) when the data is None
    return None


# --------------------------------------------------------------------------- bounded runs


#: How long the parent waits for a child before calling it a hang. A guard, not a speed
#: target: it is far above any real time, so a slow machine never fails a test. How fast
#: these inputs are judged is a figure of `make bench BENCH=inputs` (benchmarks/inputs_bench.py).
HANG_GUARD_SECONDS = 60.0


def run_bounded(fn: Callable[[], Any], timeout: float = HANG_GUARD_SECONDS) -> dict:
    """Run `fn` in a forked child; {"value", "seconds"} or {"raised"} or {"timeout"}.

    The parent stops waiting after `timeout`, so that an input that makes the
    core hang costs this suite `timeout` seconds, not forever. The child's
    own time ("seconds") is for messages only, never asserted on.
    """
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            started = time.perf_counter()
            value = fn()
            sender.send({"value": value, "seconds": time.perf_counter() - started})
        except BaseException as exc:
            sender.send({"raised": f"{type(exc).__name__}: {str(exc)[:300]}", "traceback": traceback.format_exc()[-2000:]})

    process = ctx.Process(target=child, daemon=True)
    # Frozen objects are left alone by the child's garbage collector, which would otherwise touch (and so copy)
    # every page of this big test process and be what the child's clock measures.
    gc.freeze()
    try:
        process.start()
    finally:
        gc.unfreeze()
    try:
        if receiver.poll(timeout):
            return receiver.recv()
        return {"timeout": timeout}
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receiver.close()
        sender.close()


def located_summary(problems) -> list[tuple]:
    return [(p.line, p.column, p.key, p.message, str(p), p.severity) for p in problems]

