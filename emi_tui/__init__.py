"""emi-tui: build small Eucalyptus/EC2-style machine images (EMIs)."""

__version__ = "0.1.0"
