"""The headless engine of emi-tui.

Nothing under this package may import Textual: the CLI, CI and batch rebuilds
use it without a terminal UI (tests/test_import_hygiene.py keeps it so).
"""
