"""Reviewing image-id files, catalogs and images."""
