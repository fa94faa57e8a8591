"""The Textual wizard: screens and widgets only, the engine lives in emi_tui.core."""
