"""Thread workers: run an engine job off the UI loop and post its events to a screen in batches."""
