"""A catalog: a family of images released together (the catalog file, its plan, build and files)."""
