"""The modify's own steps: Artifact first, Changes last (Packages and Metadata are the wizard's)."""
