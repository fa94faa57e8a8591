"""A running job (build or modify), its cancel dialog, its results, and the boot test."""
