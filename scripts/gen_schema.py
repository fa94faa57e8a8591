#!/usr/bin/env python3
"""Regenerate answers.schema.json (the JSON Schema of the answer-file format) from the model.

    python scripts/gen_schema.py            # writes answers.schema.json at the top of the repo
    python scripts/gen_schema.py --check    # exits 1 if the file is out of date
    python scripts/gen_schema.py OUTPUT     # writes OUTPUT instead

tests/test_schema_file.py fails when the committed file and the model drift apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from emi_tui.engine.answers.model import json_schema  # noqa: E402 (the checkout's package, found through sys.path above)

SCHEMA_FILE = REPO / "answers.schema.json"


def render() -> str:
    """The schema as it is stored: 2-space indented JSON and a trailing newline."""
    return json.dumps(json_schema(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate answers.schema.json from emi_tui.engine.answers.model.json_schema().")
    parser.add_argument("output", nargs="?", type=Path, default=SCHEMA_FILE, help="where to write (default: answers.schema.json)")
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date (exit 1 if not)")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
        if current != text:
            print(f"{args.output} is out of date: run `python scripts/gen_schema.py`", file=sys.stderr)
            return 1
        print(f"{args.output}: up to date")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
