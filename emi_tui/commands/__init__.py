"""Headless subcommands of `emi-tui`: each renders core results with rich, never Textual."""
