"""Floods the build screen with log lines and measures what the operator would feel.

The fake build (tests/tui/fake_build.py) prints at full speed into a real
BuildScreen in a headless app. Figures: lines per second through to the
screen, whether every line arrived, the log's size against its line limit,
peak Python memory (tracemalloc, a separate run since tracing slows Python)
for a small and a large flood (bounded memory means the two are close), and
how long a key press waits for its handler while the flood runs.

    .venv/bin/python benchmarks/tui_log.py [--lines 200000] [--max-lines 10000]

Targets: every line shown, memory bounded, no key press waiting over 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "tui"))

from fake_build import FakeBuild, ScreenApp, engine_steps, sample_answers  # noqa: E402
from textual import events  # noqa: E402
from textual.binding import Binding  # noqa: E402

from emi_tui.tui.screens.job.build import BuildScreen  # noqa: E402
from emi_tui.tui.screens.job.done import DoneScreen  # noqa: E402
from emi_tui.tui.widgets.log_view import LogView  # noqa: E402

STEPS = len(engine_steps())  # the fake prints lines // STEPS in each of the engine's steps
KEY_EVERY_S = 0.05
LATENCY_TARGET_MS = 100.0


class BenchApp(ScreenApp):
    """Records, for every "z" press, how long it waited before its handler ran."""

    BINDINGS = [Binding("z", "ping", "ping", show=False)]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[float] = []
        self.waits_ms: list[float] = []

    def action_ping(self) -> None:
        self.waits_ms.append((time.perf_counter() - self.sent[len(self.waits_ms)]) * 1000)


async def flood(lines: int, max_lines: int, press_keys: bool) -> dict:
    fake = FakeBuild(lines_per_step=lines // STEPS)
    answers, recipe = sample_answers()
    app = BenchApp(lambda: BuildScreen(answers, recipe, Path("answers.yaml"), runner=fake, max_log_lines=max_lines))
    async with app.run_test(size=(120, 40)) as pilot:
        # The build starts as the screen mounts: time it from here (pilot.pause() could sit out a small flood).
        started = time.perf_counter()
        while app.screen_under_test is None:
            await asyncio.sleep(0.001)
        screen = app.screen_under_test
        # Keys go in while lines are still arriving: that is the flood an operator types into.
        while screen.lines_received < lines and screen.status not in ("failed", "cancelled"):
            if press_keys:
                app.sent.append(time.perf_counter())
                # As the driver delivers a key: a message to the app, queued behind the batches.
                app.post_message(events.Key("z", "z"))
            await asyncio.sleep(KEY_EVERY_S)
        seconds = time.perf_counter() - started
        while not (isinstance(app.screen, DoneScreen) and app.screen.is_mounted):
            await asyncio.sleep(0.01)
        await pilot.pause()
        log = screen.query_one(LogView)
        return {
            "emitted": fake.emitted_lines,
            "received": screen.lines_received,
            "log_lines": log.line_count,
            "batches": screen.batches_received,
            "seconds": seconds,
            "waits_ms": list(app.waits_ms),
            "presses": len(app.sent),
            # What one kept line costs: the string plus its slot in the Log's list.
            "line_bytes": sum(sys.getsizeof(line) + 8 for line in log.lines) / max(log.line_count, 1),
        }


def traced(lines: int, max_lines: int) -> int:
    gc.collect()
    tracemalloc.start()
    asyncio.run(flood(lines, max_lines, press_keys=False))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--max-lines", type=int, default=10_000)
    args = parser.parse_args()
    lines, max_lines = args.lines - args.lines % STEPS, args.max_lines

    run = asyncio.run(flood(lines, max_lines, press_keys=True))
    small = max(lines // 4, max_lines * 2)
    small -= small % STEPS
    peak_small, peak_large = traced(small, max_lines), traced(lines, max_lines)

    waits = run["waits_ms"] or [0.0]
    all_shown = run["emitted"] == run["received"] == lines
    # Kept lines would make the peak grow by at least this much between the two floods.
    unbounded_growth = (lines - small) * run["line_bytes"]
    growth = peak_large - peak_small
    # Only a flood well past the limit tells bounded from growing apart from tracemalloc's noise.
    judged = lines >= 8 * max_lines
    bounded = run["log_lines"] == min(lines, max_lines) and (growth < unbounded_growth / 2 or not judged)
    worst = max(waits)
    rows = [
        ("lines emitted / received", f"{run['emitted']:,} / {run['received']:,}", "ok" if all_shown else "LOST LINES"),
        ("lines per second", f"{run['received'] / run['seconds']:,.0f}", f"{run['seconds']:.2f} s in all"),
        ("messages (batches)", f"{run['batches']:,}", f"{run['received'] / max(run['batches'], 1):,.0f} lines each"),
        ("log lines kept / limit", f"{run['log_lines']:,} / {max_lines:,}", ""),
        (f"peak memory, {small:,} lines", f"{peak_small / 2**20:,.1f} MiB", "tracemalloc"),
        (f"peak memory, {lines:,} lines", f"{peak_large / 2**20:,.1f} MiB", ("bounded" if bounded else "GROWS") if judged else "not judged: flood too small"),
        ("growth / if lines were kept", f"{growth / 2**20:+,.1f} / {unbounded_growth / 2**20:,.1f} MiB", "bounded if under half"),
        ("key presses handled", f"{len(run['waits_ms'])} / {run['presses']}", f"one every {KEY_EVERY_S * 1000:.0f} ms"),
        ("key wait median / p95", f"{statistics.median(waits):.1f} / {sorted(waits)[int(len(waits) * 0.95) - 1 if len(waits) > 1 else 0]:.1f} ms", ""),
        ("key wait worst", f"{worst:.1f} ms", f"target ≤ {LATENCY_TARGET_MS:.0f} ms"),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"build screen under a flood of {lines:,} log lines (max_lines={max_lines:,})")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>{value_width}}  {note}")
    met = all_shown and bounded and worst <= LATENCY_TARGET_MS and len(run["waits_ms"]) == run["presses"]
    print("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
