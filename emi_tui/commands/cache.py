"""`emi-tui cache list|clear`: the bootstrapped bases kept in the user's cache folder."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table

from emi_tui.commands.console import out, safe_text
from emi_tui.engine.build.cache import BaseCache
from emi_tui.engine.errors import ExitCode
from emi_tui.engine.sizes import human


def run(action: str) -> ExitCode:
    cache = BaseCache()
    if action == "clear":
        freed = cache.clear()
        out.print(safe_text(f"cleared {cache.root}: {human(freed)} freed"))
        return ExitCode.OK
    entries = cache.entries()
    if not entries:
        out.print(safe_text(f"no cached bases in {cache.root}"))
        return ExitCode.OK
    table = Table(title=safe_text(f"cached bases in {cache.root}"), title_justify="left")
    for column in ("key", "recipe", "release", "arch", "tool", "size", "created"):
        table.add_column(column)
    for entry in entries:
        inputs = entry.inputs
        table.add_row(  # a cache entry's inputs are read back from its file: shown, never markup
            *(safe_text(value) for value in (entry.key, inputs.get("recipe", "?"), inputs.get("release", "?"), inputs.get("arch", "?"),
                                             inputs.get("tool_version", "?"))),
            human(entry.size), datetime.fromtimestamp(entry.created).strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)
    return ExitCode.OK
