"""The package picker's catalog: search and look-up over the chosen release's Packages index, for the chosen arch.

The wizard's Packages step needs, for a name typed or found: whether the
release carries it for the arch, its installed size, how much it adds with
the dependencies the image does not have yet, and its one-line description.
All of it comes from the same index the build's size estimate reads
(`aptlists.fetch_shared_index`, cached per mirror, release and arch), never
from this workstation's apt, which knows its own release only.

Loading is bounded in time (`load_catalog`): a mirror that does not answer
gives a `CatalogUnavailable` with the reason, never a hang. This module does
not import Textual or Rich.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from emi_tui.engine.answers.mirror import workstation_mirror
from emi_tui.engine.answers.model import Answers, effective_packages
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.build.estimate import PARSED_MAX_BYTES, PackageIndex
from emi_tui.engine.errors import EmiError, did_you_mean
from emi_tui.engine.safefs import write_atomic

#: How long a look-up may take before the picker says it cannot look packages up (a cold index is ~9 MB to fetch).
LOOKUP_SECONDS = 90.0
#: Search results shown at most: the table is for choosing, not for browsing 60,000 names.
SEARCH_LIMIT = 50
DESCRIPTIONS_FORMAT = 1
_DESCRIPTION = re.compile(r"^(Package|Description(?:-en)?):[ \t]*(.*)$", re.M)


class CatalogUnavailable(Exception):
    """The catalog cannot be had: `why` says so in an operator's words."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class CatalogSource:
    """Which index a catalog reads: one mirror, release, component and (distro) arch."""

    mirror: str
    release: str
    component: str
    arch: str
    keyring: str | None = None

    @classmethod
    def of(cls, answers: Answers, recipe: Recipe) -> CatalogSource | None:
        """The index `answers` built from `recipe` would install from; None for RPM recipes or unset values."""
        if recipe.family != "deb":
            return None
        release = answers.release if isinstance(answers.release, str) and answers.release else recipe.default_release
        mirror = answers.mirror if isinstance(answers.mirror, str) and answers.mirror else recipe.default_mirror
        if mirror == "apt-sources" and not answers.mirror:  # as `resolve` does: the workstation's source for the release
            mirror = workstation_mirror([release]) or workstation_mirror(recipe.releases)
        arch = recipe.arches.get(answers.arch) if isinstance(answers.arch, str) else None
        if not mirror or not release or not arch:
            return None
        return cls(mirror.rstrip("/"), release, recipe.components[0], arch, recipe.keyring)

    def describe(self) -> str:
        return f"{self.release} for {self.arch}"


@dataclass(frozen=True)
class PackageFacts:
    """What the picker shows of one package."""

    name: str  # the real package (a virtual name resolved to its provider)
    installed_bytes: int
    adds_bytes: int  # with the dependencies the image does not have yet
    adds_packages: int
    description: str


@dataclass
class PackageCatalog:
    """The names, sizes, dependencies and descriptions of one release's index, for one arch."""

    source: CatalogSource
    index: PackageIndex
    descriptions: dict[str, str] = field(default_factory=dict)
    #: Said beside the catalog when it is not the mirror's current index ("" when it is).
    note: str = ""

    def __post_init__(self) -> None:
        self.names = sorted(self.index.sizes_kb)
        self._joined = "\n" + "\n".join(self.names) + "\n"  # one string: a regular expression scans it in C
        self._closures: dict[tuple[str, ...], set[str]] = {}
        self._missing: dict[str, str] = {}

    # -- look-up --------------------------------------------------------------------

    def has(self, name: str) -> bool:
        return self.index.resolve(name) is not None

    def missing_message(self, name: str) -> str:
        """Why `name` cannot be installed: not in the release for the arch (with a near name when there is one)."""
        if name not in self._missing:
            # difflib over 60,000 names takes seconds: only names that start alike and are about as long.
            near = [n for n in self.names[bisect.bisect_left(self.names, name[:1]):bisect.bisect_left(self.names, name[:1] + "\x7f")]
                    if abs(len(n) - len(name)) <= 3]
            self._missing[name] = f"{name} is not in {self.source.describe()}{did_you_mean(name, near)}"
        return self._missing[name]

    def image_roots(self, answers: Answers, recipe: Recipe, arch: str) -> list[str]:
        """What the image installs before the picker's additions: minbase, the recipe's base and its (trimmed) list."""
        removed = [p for p in recipe.trim + list(answers.packages.remove) if p not in answers.packages.add]
        wanted = recipe.base_for(arch) + effective_packages(answers, recipe)
        return [p for p in self.index.required + ["apt"] + wanted if p not in removed]

    def bootstrap_set(self, recipe: Recipe, arch: str) -> set[str]:
        """What every image of `recipe` gets whatever the lists say: Priority required, apt, the base and kernel."""
        return set(self.index.required) | {"apt"} | set(recipe.base_for(arch))

    def closure(self, roots: Iterable[str]) -> set[str]:
        key = tuple(sorted(set(roots)))
        if key not in self._closures:
            if len(self._closures) > 64:  # roots change with every edit: keep the last few
                self._closures.clear()
            self._closures[key] = self.index.closure(list(key))
        return self._closures[key]

    def facts(self, name: str, roots: Iterable[str]) -> PackageFacts | None:
        """`name`'s sizes and description; what it adds is counted against the closure of `roots` without it."""
        real = self.index.resolve(name)
        if real is None:
            return None
        others = [r for r in roots if r != name and r != real]
        before = self.closure(others)
        new = self.closure([*others, real]) - before
        sizes = self.index.sizes_kb
        return PackageFacts(real, sizes.get(real, 0) * 1024, sum(sizes.get(p, 0) for p in new) * 1024, len(new),
                            self.descriptions.get(real, ""))

    # -- search ----------------------------------------------------------------------

    def search(self, query: str, limit: int = SEARCH_LIMIT) -> list[str]:
        """Names matching `query`: the exact name, then prefix matches, then names containing it, then fuzzy ones."""
        needle = query.strip().lower()
        if not needle:
            return []
        found: list[str] = []
        seen: set[str] = set()

        def take(names: Iterable[str]) -> bool:
            for name in names:
                if name not in seen:
                    seen.add(name)
                    found.append(name)
                    if len(found) >= limit:
                        return True
            return False

        start = bisect.bisect_left(self.names, needle)
        prefixed = []
        for name in self.names[start:]:
            if not name.startswith(needle):
                break
            prefixed.append(name)
        prefixed.sort(key=lambda n: (len(n), n))
        if take(prefixed):
            return found
        escaped = re.escape(needle)
        inside = [m.group(1) for m in re.finditer(rf"\n([^\n]*{escaped}[^\n]*)(?=\n)", self._joined)]
        inside.sort(key=lambda n: (n.index(needle), len(n), n))
        if take(inside):
            return found
        # Each letter in order, anything between: "pytst" finds python3-pytest.
        gaps = "[^\n]*?".join(re.escape(c) for c in needle)
        fuzzy = [m.group(1) for m in re.finditer(rf"\n([^\n]*{gaps}[^\n]*)(?=\n)", self._joined)]
        fuzzy.sort(key=lambda n: (_span(n, needle), len(n), n))
        take(fuzzy)
        return found

    def complete(self, prefix: str) -> str | None:
        """The shortest name that starts with `prefix` and is longer than it, or None."""
        needle = prefix.strip().lower()
        if not needle:
            return None
        start = bisect.bisect_left(self.names, needle)
        best = None
        for name in self.names[start:start + 2000]:
            if not name.startswith(needle):
                break
            if name != needle and (best is None or (len(name), name) < (len(best), best)):
                best = name
        return best


def _span(name: str, needle: str) -> int:
    """How many characters of `name` the letters of `needle` spread over, in order (smaller is closer)."""
    position, first = 0, -1
    for char in needle:
        position = name.find(char, position)
        if first < 0:
            first = position
        position += 1
    return position - first


# -- loading -------------------------------------------------------------------------------


def parse_descriptions(text: str) -> dict[str, str]:
    """name -> its one-line description, from a Packages index's text."""
    descriptions: dict[str, str] = {}
    name = ""
    for match in _DESCRIPTION.finditer(text):
        key, value = match.group(1), match.group(2).strip()
        if key == "Package":
            name = value
        elif name and name not in descriptions:
            descriptions[name] = value
    return descriptions


def cached_descriptions(download: Path, text: Callable[[], str]) -> dict[str, str]:
    """The descriptions of the index at `download`, kept beside it as JSON (data, never code: root reads it)."""
    kept = download.with_name(download.name + ".descriptions.json")
    if kept.is_file() and kept.stat().st_mtime >= download.stat().st_mtime and kept.stat().st_size <= PARSED_MAX_BYTES:
        try:
            data = json.loads(kept.read_bytes())
        except (OSError, ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and data.get("format") == DESCRIPTIONS_FORMAT and isinstance(data.get("descriptions"), dict):
            found: dict[str, str] = {k: v for k, v in data["descriptions"].items() if isinstance(v, str)}
            if len(found) == len(data["descriptions"]):
                return found
    descriptions = parse_descriptions(text())
    try:
        write_atomic(kept, json.dumps({"format": DESCRIPTIONS_FORMAT, "descriptions": descriptions}, separators=(",", ":")))
    except (OSError, EmiError):
        pass  # only a cache
    return descriptions


def catalog_from_text(source: CatalogSource, text: str) -> PackageCatalog:
    """A catalog of the Packages index `text` (tests and fixtures use it; so does a download once read)."""
    return PackageCatalog(source, PackageIndex.parse(text), parse_descriptions(text))


def mirror_catalog(source: CatalogSource) -> PackageCatalog:
    """The catalog of `source` from its mirror, through the build's index cache (slow: call it off the UI loop).

    When the mirror cannot be read but an earlier look-up or build kept its
    index, that index is used, and the catalog's `note` says from when.
    """
    from emi_tui.engine.build import aptlists

    try:
        shared = aptlists.fetch_shared_index(source.mirror, source.release, source.component, source.arch, source.keyring)
        return _catalog_of(source, shared.packages)
    except EmiError as exc:
        kept = aptlists.kept_packages(source.mirror, source.release, source.component, source.arch)
        if kept is None:
            raise CatalogUnavailable(exc.message) from None
        try:
            catalog = _catalog_of(source, kept)
        except (EmiError, OSError):
            raise CatalogUnavailable(exc.message) from None
        when = datetime.fromtimestamp(kept.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        catalog.note = f"the mirror cannot be read ({exc.message}): the index kept on {when} is used"
        return catalog
    except OSError as exc:
        raise CatalogUnavailable(f"the package index cache cannot be used: {exc}") from None


def _catalog_of(source: CatalogSource, packages: Path) -> PackageCatalog:
    from emi_tui.engine.build import aptlists

    descriptions = cached_descriptions(packages, lambda: aptlists.read_packages(packages))
    return PackageCatalog(source, aptlists.parsed_packages(packages), descriptions)


CatalogLoader = Callable[[CatalogSource], PackageCatalog]


def load_catalog(source: CatalogSource, loader: CatalogLoader = mirror_catalog, *, seconds: float = LOOKUP_SECONDS) -> PackageCatalog:
    """`loader(source)`, or CatalogUnavailable when it fails or takes longer than `seconds`.

    The loader runs in a thread of its own, so that a mirror that accepts the
    connection and then says nothing cannot hold the caller past `seconds`.
    """
    result: list[PackageCatalog] = []
    failure: list[str] = []

    def run() -> None:
        try:
            result.append(loader(source))
        except CatalogUnavailable as exc:
            failure.append(exc.why)
        except Exception as exc:
            failure.append(f"{type(exc).__name__}: {exc}")

    worker = threading.Thread(target=run, name=f"catalog {source.release} {source.arch}", daemon=True)
    worker.start()
    worker.join(seconds)
    if result:
        return result[0]
    if failure:
        raise CatalogUnavailable(failure[0])
    raise CatalogUnavailable(f"{source.mirror} did not send the {source.release} index within {seconds:.0f} s")
