"""The wizard's "Release a catalog": pick, plan, run, and the released catalog reviewed."""
