"""Input benchmarks (no root): how fast emi-tui judges answer files, recipes and image-ids.

The fuzz tests prove that hostile inputs are answered, located and bounded in
work; the times are measured here, against the targets the fault-tolerance
issue set: at most 1 s for one answer or recipe file, 2 s for one review of a
file of a few hundred KB. Each figure is the slowest of REPEATS runs, after
one warm-up run. The inputs are rebuilt here (the hostile files of the fuzz
suite, and seeded mutations of the good files like its generators make), so
that benchmarks need neither the test helpers nor hypothesis.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from emi_tui.engine import paths
from emi_tui.engine.answers.model import validate_bytes
from emi_tui.engine.answers.recipes import RecipeBook, load_recipe_file
from emi_tui.engine.answers.yamlload import MAX_BYTES
from emi_tui.engine.image.imageid import date_for, stamp_for
from emi_tui.engine.review import stampcheck
from emi_tui.engine.review.review import review_bytes

REPEATS = 5
MUTANTS = 300  # seeded mutations of the good answer files: what the fuzz suite's typical file looks like
ANSWER_TARGET_S, RECIPE_TARGET_S, REVIEW_TARGET_S = 1.0, 1.0, 2.0
GOOD_ANSWERS = Path(__file__).resolve().parent.parent / "tests" / "data" / "answers" / "good"

HEAD = "version: 1\nrecipe: debian-based\nmirror: http://mirror.example/debian\n"
LOL = '["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
BILLION_LAUGHS = f"a: &a {LOL}\n" + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))

#: The hostile answer files of the fuzz suite, rebuilt here so that benchmarks need no test helpers.
HOSTILE_ANSWERS = {
    "1 MB of comments": "# " + "x" * (MAX_BYTES - 200) + "\n",
    "lists nested 10,000 deep": "[" * 10_000 + "]" * 10_000,
    "block lists nested 10,000 deep": "- " * 10_000 + "x\n",
    "mappings nested 10,000 deep": "{a: " * 10_000 + "1" + "}" * 10_000,
    "100,000 heading lines": "a:\n" * 100_000,
    "billion laughs": BILLION_LAUGHS,
    "100,000-key mapping": "".join(f"{i:x}: 0\n" for i in range(100_000)),
    "200 KB key": HEAD + "k" * 200_000 + ": 1\n",
    "3,000 packages on a line": HEAD + "packages: {add: [" + ", ".join(f"p{i}x" for i in range(3000)) + "]}\n",
    "1 MB line": "recipe: " + "a" * (MAX_BYTES - 100),
}


def mutants(seeds: list[bytes], count: int, seed: int = 0) -> dict[str, bytes]:
    """`count` of `seeds`, each after 1 to 4 line or byte edits (the edits of the fuzz suite's `mutated`)."""
    rng = random.Random(seed)
    inserts = [b":", b"- ", b"  ", b"\t", b"{", b"[", b"&a ", b"*a", b"!!binary ", b'"', b"\n", b"\xff", b"#"]
    out = {}
    for n in range(count):
        data = rng.choice(seeds)
        for _ in range(rng.randint(1, 4)):
            lines = data.split(b"\n")
            i = rng.randrange(len(lines))
            op = rng.choice(["delete_line", "duplicate_line", "swap_lines", "indent", "insert", "truncate", "replace_byte"])
            if op == "delete_line":
                del lines[i]
            elif op == "duplicate_line":
                lines.insert(i, lines[i])
            elif op == "swap_lines":
                j = rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
            elif op == "indent":
                lines[i] = b" " * rng.choice([1, 2, 3, 5]) + lines[i]
            if op in ("delete_line", "duplicate_line", "swap_lines", "indent"):
                data = b"\n".join(lines)
                continue
            pos = rng.randint(0, len(data))
            if op == "insert":
                data = data[:pos] + rng.choice(inserts) + data[pos:]
            elif op == "truncate":
                data = data[:pos]
            elif pos < len(data):
                data = data[:pos] + bytes([rng.randrange(256)]) + data[pos + 1:]
        out[f"mutant {n}"] = data
    return out


def _unverifiable_catalog(count: int) -> bytes:
    """A catalog whose stamps verify at no offset: each costs a full search until the review's budget is spent."""
    return "".join(
        f'entry {i}:\n  image_stamp="{stamp_for(1_300_500_000 + 86_400 * i)}"\n  image_date="{date_for(1_300_000_000 + 86_400 * i)}"\n'
        for i in range(count)
    ).encode()


HOSTILE_REVIEWS = {
    "100,000 heading lines": b"a:\n" * 100_000,
    "catalog of 600 unverifiable stamps": _unverifiable_catalog(600),
    "catalog of 2,000 entries": b"".join(b'e%d:\n  image_name="x"\n' % i for i in range(2000)),
    "4 MB of NUL": b"\0" * (4 << 20),
    "1 MB line": b'image_file="' + b"a-" * 500_000 + b'.img"\n',
}


def slowest(call: Callable[[], object]) -> float:
    """The slowest of REPEATS timed calls, after one untimed warm-up (imports, caches of the first call)."""
    call()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return max(times)


def _row(figure: str, seconds: float, target: float, detail: str) -> tuple[str, str, str, str]:
    verdict = f"≤ {target:g} s — {'met' if seconds <= target else 'MISSED'}"
    return figure, f"{seconds * 1000:.1f} ms", verdict, detail


def _worst(figure: str, timings: dict[str, float], target: float) -> tuple[str, str, str, str]:
    name = max(timings, key=timings.get)
    return _row(figure, timings[name], target, f"worst: {name}; {len(timings)} inputs")


def main() -> list[tuple[str, str, str, str]]:
    book = RecipeBook([paths.shipped_dir("recipes")])
    rows = []
    good = {p.name: p.read_bytes() for p in sorted(GOOD_ANSWERS.glob("*.yaml"))}
    rows.append(_worst("answer file, valid", {n: slowest(lambda raw=raw, n=n: validate_bytes(raw, n, book)) for n, raw in good.items()}, ANSWER_TARGET_S))
    mutant_times = {n: slowest(lambda raw=raw: validate_bytes(raw, "x.yaml", book)) for n, raw in mutants(list(good.values()), MUTANTS).items()}
    rows.append(_row("answer file, fuzz-mutated (median)", statistics.median(mutant_times.values()), ANSWER_TARGET_S, f"{MUTANTS} seeded mutations of the valid files"))
    rows.append(_worst("answer file, fuzz-mutated (worst)", mutant_times, ANSWER_TARGET_S))
    hostile = {n: text.encode() for n, text in HOSTILE_ANSWERS.items()}
    rows.append(_worst("answer file, hostile", {n: slowest(lambda raw=raw: validate_bytes(raw, "x.yaml", book)) for n, raw in hostile.items()}, ANSWER_TARGET_S))

    with tempfile.TemporaryDirectory(prefix="emi-inputs-bench-") as scratch:
        folder = Path(scratch)
        shipped = sorted(paths.shipped_dir("recipes").glob("*.yaml"))
        rows.append(_worst("recipe file, shipped", {p.name: slowest(lambda p=p: load_recipe_file(p)) for p in shipped}, RECIPE_TARGET_S))
        hostile_recipes = {}
        for name, text in HOSTILE_ANSWERS.items():
            path = folder / f"{len(hostile_recipes)}.yaml"
            path.write_text(text)
            hostile_recipes[name] = slowest(lambda path=path: load_recipe_file(path))
        rows.append(_worst("recipe file, hostile", hostile_recipes, RECIPE_TARGET_S))

    def review(data: bytes) -> None:
        stampcheck._check_stamp.cache_clear()  # a cached check costs nothing: each run must pay for its searches
        review_bytes("bench", data)

    for name, data in HOSTILE_REVIEWS.items():
        rows.append(_row(f"review: {name}", slowest(lambda data=data: review(data)), REVIEW_TARGET_S, f"{len(data) / 1024:,.0f} KB"))
    return rows


if __name__ == "__main__":
    for row in main():
        print(" | ".join(row))
