"""`emi-tui cache list|clear`: the bootstrapped bases kept in the user's cache folder."""

from __future__ import annotations

from datetime import datetime

from emi_tui.commands.console import out, safe_text
from emi_tui.commands.tables import Column, print_table
from emi_tui.engine.build.cache import BaseCache
from emi_tui.engine.errors import ExitCode
from emi_tui.engine.sizes import human

#: A cached base's fields, most wanted first (a narrow terminal leaves out the tool's version first).
COLUMNS = [Column("key"), Column("recipe"), Column("release", 2), Column("arch", 3), Column("tool", 5), Column("size"), Column("created", 4)]


def run(action: str, plain: bool = False) -> ExitCode:
    cache = BaseCache()
    if action == "clear":
        freed = cache.clear()
        out.print(safe_text(f"cleared {cache.root}: {human(freed)} freed"))
        return ExitCode.OK
    entries = cache.entries()
    if not entries:
        out.print(safe_text(f"no cached bases in {cache.root}"))
        return ExitCode.OK
    rows = []
    for entry in entries:
        inputs = entry.inputs
        rows.append([  # a cache entry's inputs are read back from its file: shown, never markup
            *(safe_text(value) for value in (entry.key, inputs.get("recipe", "?"), inputs.get("release", "?"), inputs.get("arch", "?"),
                                             inputs.get("tool_version", "?"))),
            human(entry.size), datetime.fromtimestamp(entry.created).strftime("%Y-%m-%d %H:%M"),
        ])
    print_table(out, safe_text(f"cached bases in {cache.root}"), COLUMNS, rows, plain=plain, plain_hint="emi-tui cache list --plain")
    return ExitCode.OK
