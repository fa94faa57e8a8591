#!/usr/bin/env python3
"""Print the emi-tui(1) manual page, built from the command line's parser and README.md: `make man` writes it to emi-tui.1."""

from __future__ import annotations

import sys
from pathlib import Path

from emi_tui.cli import build_parser
from emi_tui.commands.manpage import manpage

README = Path(__file__).resolve().parent.parent / "README.md"

if __name__ == "__main__":
    readme = Path(sys.argv[1]) if len(sys.argv) > 1 else README
    sys.stdout.write(manpage(build_parser(), readme.read_text(encoding="utf-8")))
