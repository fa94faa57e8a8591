"""Reusable widgets of the TUI (the live build log)."""
