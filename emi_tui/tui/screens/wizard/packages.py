"""Step 3, Packages: find packages in the chosen release, add several at once, trim the recipe's defaults.

The names, sizes and descriptions come from the package index of the mirror,
release and arch the answers choose (the one the build's estimate reads),
read once per session in a thread and bounded in time. When it cannot be
read, the step says why and names are only checked by Debian's rules; the
Summary's preflight checks them again. A modify starts from what the image
really contains: its manifest.
"""

from __future__ import annotations

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from emi_tui.engine.answers.model import effective_packages
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.build.package_catalog import CatalogLoader, CatalogSource, CatalogUnavailable, PackageCatalog, load_catalog
from emi_tui.engine.sizes import human
from emi_tui.engine.text import printable
from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.screens.wizard.package_tables import CatalogSuggester, fill_matches, fill_result
from emi_tui.tui.state.wizard_state import PackageOutcome, WizardState


class PackagesScreen(StepScreen):
    """Search the release's index and add packages (several at once), trim the recipe's defaults, see the result."""

    STEP = "packages"
    INTRO = "The recipe's base is always installed; its default list can be trimmed, and any package added."
    FIELDS = {"packages": "added", "packages.remove": "defaults", "repositories": "repositories"}
    AUTO_FOCUS = "#add-package"
    #: The packages the result list shows now (after the filter).
    shown: list[str] = []
    #: What the last add did, one outcome a name (tests read it; the screen shows it in #add-check).
    outcomes: list[PackageOutcome] = []
    #: Why the index cannot be read, or None.
    unavailable: str | None = None

    def __init__(self, wizard: WizardState, *, loader: CatalogLoader, catalogs: dict[CatalogSource, PackageCatalog]) -> None:
        """`loader` reads an index (slow: called in a thread); `catalogs` keeps what it read for the whole session."""
        super().__init__(wizard)
        self._loader = loader
        self._catalogs = catalogs

    def compose_body(self) -> ComposeResult:
        recipe = self.wizard.recipe
        assert recipe is not None
        changes = self.wizard.answers.packages
        trim = set(recipe.trim)
        #: Added packages listed in #added, in order; unchecked ones stay listed so they can come back.
        self._extra = [p for p in changes.add if p not in trim]
        self._repositories = list(self.wizard.answers.repositories)
        defaults = [
            Selection(
                Content.from_markup("$name  [dim](trimmed by the recipe)[/]", name=name) if name in trim else name,
                name,
                (name in changes.add) if name in trim else (name not in changes.remove),
            )
            for name in recipe.packages
        ]
        source = self.wizard.catalog_source()
        where = f" in {source.describe()}" if source else ""
        with VerticalScroll(id="packages-body"):
            yield Label(f"Find and add packages{where}: several names at once, separated by spaces", classes="field-label")
            yield Input(placeholder="a name or part of one; → completes, Enter adds, ↓ goes to the matches", id="add-package",
                        suggester=CatalogSuggester(self.wizard.current_catalog))
            yield Static(id="add-check")
            yield Static(id="catalog-state")
            yield DataTable(id="matches", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="packages-columns"):
                with Vertical(classes="column"):
                    yield Label("Defaults: uncheck to trim", classes="field-label")
                    yield SelectionList[str](*defaults, id="defaults")
                    yield self.problem_line("defaults")
                with Vertical(classes="column"):
                    yield Label("Added: uncheck to drop", classes="field-label", id="added-label")
                    yield SelectionList[str](*[(self._label(p), p, True) for p in self._extra], id="added")
                    yield self.problem_line("added")
            if self._repositories and self.wizard.kind == "build":  # a modify does not change package sources
                yield Label("Extra package sources (from the answer file): uncheck to drop", classes="field-label")
                yield SelectionList[int](*[(str(repo.line), index, True) for index, repo in enumerate(self._repositories)], id="repositories")
                yield self.problem_line("repositories")
            yield Label(id="result-title", classes="field-label")
            yield Input(placeholder="filter the list", id="filter")
            yield DataTable(id="result", cursor_type="row", zebra_stripes=True)
            yield Static(id="apt-total")
            yield Static(self._base_note(), id="base-note")

    def _base_note(self) -> Content:
        recipe = self.wizard.recipe
        assert recipe is not None
        base = " ".join(recipe.base_for(self.wizard.answers.arch))
        return Content(printable(f"Always installed (base and kernel): {base}"))

    def _label(self, name: str) -> Content:
        if package_name_problem(name, self._family()) is not None:
            return Content.from_markup("$name [$text-error](not a valid name)[/]", name=printable(name))
        catalog = self.wizard.current_catalog()
        if catalog is not None and not catalog.has(name):
            return Content.from_markup("$name [$text-error](not in $where)[/]", name=printable(name), where=printable(catalog.source.describe()))
        return Content(printable(name))

    def _family(self) -> str:
        recipe = self.wizard.recipe
        return recipe.family if recipe else "deb"

    def on_mount(self) -> None:
        super().on_mount()
        if self.has_body:
            self._read_catalog()

    # -- the catalog ---------------------------------------------------------------------

    def _read_catalog(self) -> None:
        source = self.wizard.catalog_source()
        state = self.query_one("#catalog-state", Static)
        if source is None and self._family() != "deb":
            state.update(Content("Not looked up: the picker reads Debian-family indexes; dnf checks an RPM recipe's names when it builds."))
            return
        if source is None:
            self._no_catalog("no mirror is chosen (the Distro step sets it)")
            return
        if self.wizard.offline and source not in self._catalogs:
            # Offline means no request to the mirror at all, not one that times out.
            self._no_catalog("the wizard is offline (the Summary's switch), so the mirror is not asked")
            return
        if source in self._catalogs:
            self._got_catalog(self._catalogs[source])
            return
        state.update(Content(printable(f"Reading the package index of {source.describe()} from {source.mirror}…")))
        self._load(source)

    @work(thread=True, group="catalog", exclusive=True, exit_on_error=False)
    def _load(self, source: CatalogSource) -> None:
        """Read the index off the UI loop; `load_catalog` gives up after its time limit, so this always ends."""
        try:
            catalog = load_catalog(source, self._loader)
        except CatalogUnavailable as exc:
            self.app.call_from_thread(self._no_catalog, exc.why)
            return
        self.app.call_from_thread(self._got_catalog, catalog)

    def _got_catalog(self, catalog: PackageCatalog) -> None:
        self._catalogs[catalog.source] = catalog
        self.wizard.package_catalog = catalog
        self.unavailable = None
        if not self.is_attached:
            return
        state = self.query_one("#catalog-state", Static)
        state.set_class(bool(catalog.note), "-error")
        text = f"{len(catalog.names):,} packages in {catalog.source.describe()}, from {catalog.source.mirror}"
        state.update(Content(printable(f"{text}; {catalog.note}" if catalog.note else text)))
        added = self.query_one("#added", SelectionList)
        for index, name in enumerate(self._extra):
            added.replace_option_prompt_at_index(index, self._label(name))
        self.refresh_state()
        self._search(self.query_one("#add-package", Input).value)

    def _no_catalog(self, why: str) -> None:
        self.unavailable = why
        if self.is_attached:
            state = self.query_one("#catalog-state", Static)
            state.set_class(True, "-error")
            state.update(Content(printable(f"Cannot look packages up: {why}. Names are checked by Debian's rules only; "
                                           "the Summary checks them against the mirror again.")))

    # -- edits -------------------------------------------------------------------

    @on(SelectionList.SelectedChanged, "#defaults")
    def _defaults_changed(self) -> None:
        recipe = self.wizard.recipe
        assert recipe is not None
        chosen = set(self.query_one("#defaults", SelectionList).selected)
        trim = set(recipe.trim)
        self.change("packages.remove", [p for p in recipe.packages if p not in trim and p not in chosen])
        self._store_added()

    @on(SelectionList.SelectedChanged, "#added")
    def _added_changed(self) -> None:
        self._store_added()

    def _store_added(self) -> None:
        recipe = self.wizard.recipe
        assert recipe is not None
        kept = set(self.query_one("#added", SelectionList).selected)
        trimmed_back = set(self.query_one("#defaults", SelectionList).selected) & set(recipe.trim)
        added = [p for p in self._extra if p in kept] + [p for p in recipe.trim if p in trimmed_back]
        self.change("packages.add", added)

    @on(SelectionList.SelectedChanged, "#repositories")
    def _repositories_changed(self, event: SelectionList.SelectedChanged) -> None:
        kept = set(event.selection_list.selected)
        self.change("repositories", [repo for index, repo in enumerate(self._repositories) if index in kept])

    @on(Input.Changed, "#add-package")
    def _name_typed(self, event: Input.Changed) -> None:
        self._search(event.value)

    def _search(self, value: str) -> None:
        catalog = self.wizard.current_catalog()
        table = self.query_one("#matches", DataTable)
        last = value.replace(",", " ").split(" ")[-1].strip()
        table.display = catalog is not None and bool(last)
        if catalog is not None and last:
            fill_matches(table, catalog, catalog.search(last, limit=30), self._roots())

    def on_key(self, event: events.Key) -> None:
        """↓ in the name field goes to the matches (the field has one line: ↓ means nothing else there)."""
        if event.key == "down" and self.focused is self.query_one("#add-package", Input):
            matches = self.query_one("#matches", DataTable)
            if matches.display and matches.row_count:
                event.stop()
                matches.focus()

    @on(Input.Submitted, "#add-package")
    def _names_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.add_packages(event.value)

    @on(DataTable.RowSelected, "#matches")
    def _match_chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.add_packages(event.row_key.value)

    def add_packages(self, text: str) -> list[PackageOutcome]:
        """Add every name in `text`; each gets an outcome (added, checked again, or refused and why), all shown."""
        outcomes = self.wizard.pick(text)
        defaults = self.query_one("#defaults", SelectionList)
        added = self.query_one("#added", SelectionList)
        for outcome in outcomes:
            if outcome.action == "recheck":
                defaults.select(outcome.name)
            elif outcome.action == "add":
                self._extra.append(outcome.name)
                added.add_option((self._label(outcome.name), outcome.name, True))
        if any(o.action != "refuse" for o in outcomes):
            self._store_added()
        self.outcomes = outcomes
        field = self.query_one("#add-package", Input)
        refused = " ".join(o.name for o in outcomes if o.action == "refuse")
        field.value = refused  # what was refused stays, to be corrected; what was taken goes
        check = self.query_one("#add-check", Static)
        check.set_class(any(o.error for o in outcomes), "-error")
        marks = {True: ("✗ ", "$text-error"), False: ("• ", "$text-warning")}
        lines = [Content.assemble(marks[o.error] if o.action == "refuse" else ("✓ ", "$text-success"), printable(o.message)) for o in outcomes]
        check.update(Content("\n").join(lines))
        return outcomes

    @on(Input.Changed, "#filter")
    def _filter_typed(self) -> None:
        self.state_refreshed()

    # -- the resulting list ------------------------------------------------------------

    def _roots(self) -> list[str]:
        catalog, recipe = self.wizard.current_catalog(), self.wizard.recipe
        if catalog is None or recipe is None:
            return []
        try:
            return catalog.image_roots(self.wizard.answers, recipe, self.wizard.answers.arch)
        except (TypeError, AttributeError):  # raw values from a file with problems
            return []

    def state_refreshed(self) -> None:
        recipe = self.wizard.recipe
        if recipe is None:
            return
        try:
            packages = effective_packages(self.wizard.answers, recipe)
        except (TypeError, AttributeError):
            packages = []
        added = set(self.wizard.answers.packages.add) - set(recipe.default_package_list())
        installed = self.wizard.installed_packages
        if installed is not None:  # a modify: what the image contains, and what the modify changes
            install, purge = self.wizard.package_changes()  # type: ignore[attr-defined]
            rows = [(n, "to purge" if n in purge else "image", "strike" if n in purge else "") for n in installed]
            rows += [(n, "to install", "bold") for n in install if n not in installed]
            title = f"In the image (its manifest): {len(installed)} packages"
        else:
            rows = [(n, "added" if n in added else "recipe", "") for n in packages]
            title = f"Resulting list: {len(packages)} packages on top of the base"
        needle = self.query_one("#filter", Input).value.strip().lower()
        rows = [row for row in rows if needle in row[0].lower()]
        self.shown = [row[0] for row in rows]
        if needle:
            title += f" ({len(rows)} match “{needle}”)"
        self.query_one("#result-title", Label).update(Content(printable(title)))
        fill_result(self.query_one("#result", DataTable), rows, self.wizard.current_catalog(), self._roots())
        self.query_one("#apt-total", Static).update(self._total(sorted(added)))
        listing = self.query_one("#added", SelectionList)
        listing.display = listing.option_count > 0
        self.query_one("#added-label").display = listing.display

    def _total(self, added: list[str]) -> Content:
        catalog = self.wizard.current_catalog()
        roots = self._roots()
        if catalog is None or not roots:
            return Content("")
        everything = catalog.closure(roots)
        total = sum(catalog.index.sizes_kb.get(p, 0) for p in everything) * 1024
        text = f"The image installs about {human(total)} ({len(everything)} packages with their dependencies)"
        if added:
            without = catalog.closure([r for r in roots if r not in added])
            extra = everything - without
            text += f"; the added packages bring {human(sum(catalog.index.sizes_kb.get(p, 0) for p in extra) * 1024)} of it"
        return Content(printable(text))
