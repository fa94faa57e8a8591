"""What the wizard's "Release a catalog" holds: the images picked from the recipes × arches × sizes grid.

The grid's cells, each recipe's release, the output folder and the
compressor become a catalog mapping in memory (`mapping`), resolved by the
engine's own rules (`resolve`): the wizard never accepts a catalog the
`emi-tui catalog` command would refuse. `save_text` is the same catalog as a
YAML file, for `emi-tui catalog build` or for next time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import yaml

from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.catalog.resolve import ResolvedCatalog, resolve_mapping
from emi_tui.engine.sizes import LARGE, STANDARD

#: The sizes the starter catalog had: the standard one, and the "large" one.
SIZES = (STANDARD, LARGE)
#: The grid's words for them: the seed's catalog called the 4.5G images "large".
SIZE_WORDS = {"1.3G": "1.3 GB", "4.5G": "large"}
COMPRESSORS = ("zstd", "gzip", "xz", "none")
DEFAULT_FOLDER = "./release"
#: The source name problems are reported against: the catalog exists only in memory until it is saved.
SOURCE = "the picked catalog"

Cell = tuple[str, str, str]  # (recipe, arch, size)


@dataclass
class CatalogPick:
    """The picked images (cells of the grid), each recipe's release, where they are written and how they are compressed."""

    book: RecipeBook
    today: date
    chosen: set[Cell] = field(default_factory=set)
    releases: dict[str, str] = field(default_factory=dict)
    folder: str = DEFAULT_FOLDER
    compress: str = "zstd"

    def __post_init__(self) -> None:
        for name, recipe in self.book.recipes.items():
            self.releases.setdefault(name, recipe.default_release)
        if not self.chosen and "debian-based" in self.book.recipes:
            # The seed's family, the e2e's too: a sensible start the operator edits.
            self.chosen = {("debian-based", arch, size) for arch in ("x86_64", "i386") for size in SIZES
                           if arch in self.book.recipes["debian-based"].arches}

    @property
    def recipes(self) -> list[str]:
        return sorted(self.book.recipes)

    @property
    def arches(self) -> list[str]:
        """Every arch some recipe builds, the common ones first."""
        seen = {arch for recipe in self.book.recipes.values() for arch in recipe.arches}
        order = ["x86_64", "i386", "aarch64"]
        return [a for a in order if a in seen] + sorted(seen - set(order))

    @property
    def columns(self) -> list[tuple[str, str]]:
        """The grid's columns: (arch, size), arch by arch."""
        return [(arch, size) for arch in self.arches for size in SIZES]

    def available(self, cell: Cell) -> bool:
        recipe = self.book.recipes.get(cell[0])
        return recipe is not None and cell[1] in recipe.arches

    def toggle(self, cell: Cell) -> bool:
        """Pick or unpick one image; False (and nothing changes) when its recipe does not build that arch."""
        if not self.available(cell):
            return False
        self.chosen ^= {cell}
        return True

    def cycle_release(self, recipe: str) -> str:
        """The recipe's next release (round to the first), now chosen."""
        releases = self.book.recipes[recipe].releases
        current = self.releases.get(recipe, releases[0])
        following = releases[(releases.index(current) + 1) % len(releases)] if current in releases else releases[0]
        self.releases[recipe] = following
        return following

    def ordered(self) -> list[Cell]:
        """The chosen cells in grid order: recipe, arch, then size."""
        rank = {c: i for i, c in enumerate(self.columns)}
        return sorted(self.chosen, key=lambda c: (self.recipes.index(c[0]) if c[0] in self.recipes else 99, rank.get((c[1], c[2]), 99)))

    def mapping(self) -> dict[str, object]:
        """The catalog, as its YAML would read: shared output settings, then one entry per picked image."""
        entries: list[object] = [
            {"recipe": recipe, "release": self.releases[recipe], "arch": arch, "size": size}
            for recipe, arch, size in self.ordered() if self.available((recipe, arch, size))
        ]
        return {"catalog": 1, "output": {"dir": self.folder, "compress": self.compress}, "entries": entries}

    def resolve(self) -> ResolvedCatalog:
        return resolve_mapping(self.mapping(), SOURCE, self.book, self.today)  # type: ignore[arg-type]  # plain YAML values

    def save_text(self) -> str:
        """The catalog file: what `emi-tui catalog build` reads."""
        head = "# A catalog picked in emi-tui's wizard: emi-tui catalog plan|build FILE\n"
        return head + yaml.safe_dump(self.mapping(), sort_keys=False, default_flow_style=None)

    def count(self) -> int:
        return len(self.chosen)


def size_label(size: str) -> str:
    """"1.3 GB" / "large": the column's words."""
    return SIZE_WORDS.get(size, size)

