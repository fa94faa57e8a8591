"""Step 3, Packages: trim the recipe's defaults, add packages, and see the list the image gets.

Package names are checked as they are typed (the core's Debian/RPM rules).
For Debian-family recipes the workstation's own apt is asked, in a thread,
whether each package exists and how big it is installed; when apt is absent
or does not know a name, the list says so instead of guessing.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import get_current_worker

from emi_tui.engine.answers.model import effective_packages
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.sizes import human
from emi_tui.engine.text import printable
from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.state.wizard_state import PackageInfo, PackageLookup, WizardState


class PackagesScreen(StepScreen):
    """Trim the recipe's default list, add packages (name-checked, looked up in apt), filter the result."""

    STEP = "packages"
    INTRO = "The recipe's base is always installed; its default list can be trimmed, and any package added."
    FIELDS = {"packages": "added", "packages.remove": "defaults", "repositories": "repositories"}
    AUTO_FOCUS = "#add-package"
    #: The packages the result list shows now (after the filter).
    shown: list[str] = []
    _cleared_after_add = False

    def __init__(self, wizard: WizardState, *, package_info: PackageLookup, package_cache: dict[str, PackageInfo]) -> None:
        """`package_info` asks the workstation's apt about one name (slow: called off the UI loop);
        `package_cache` keeps its answers for the whole session, shared with later visits of this step."""
        super().__init__(wizard)
        self._package_info = package_info
        self._package_cache = package_cache

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
                Content.from_markup("$name  [dim](trimmed by the recipe)[/]", name=name)
                if name in trim
                else name,
                name,
                (name in changes.add) if name in trim else (name not in changes.remove),
            )
            for name in recipe.packages
        ]
        with Horizontal(id="packages-columns"):
            with VerticalScroll(id="packages-edit", classes="column"):
                yield Label("Recipe defaults: uncheck to trim", classes="field-label")
                yield SelectionList[str](*defaults, id="defaults")
                yield self.problem_line("defaults")
                yield Label("Add a package", classes="field-label")
                yield Input(placeholder="a package name; Enter adds it", id="add-package")
                yield Static(id="add-check")
                yield Label("Added: uncheck to drop", classes="field-label", id="added-label")
                yield SelectionList[str](*[(self._label(p), p, True) for p in self._extra], id="added")
                yield self.problem_line("added")
                if self._repositories and self.wizard.kind == "build":  # a modify does not change package sources
                    yield Label("Extra package sources (from the answer file): uncheck to drop", classes="field-label")
                    yield SelectionList[int](
                        *[(str(repo.line), index, True) for index, repo in enumerate(self._repositories)], id="repositories"
                    )
                    yield self.problem_line("repositories")
            with Vertical(id="packages-result", classes="column"):
                yield Label(id="result-title", classes="field-label")
                yield Input(placeholder="filter the list", id="filter")
                with VerticalScroll(id="result-scroll"):
                    yield Static(id="result")
                yield Static(id="apt-total")
                yield Static(self._base_note(), id="base-note")

    def _base_note(self) -> Content:
        recipe = self.wizard.recipe
        assert recipe is not None
        base = " ".join(recipe.base_for(self.wizard.answers.arch))
        return Content(f"Always installed (base and kernel): {base}")

    def _label(self, name: str) -> Content:
        if package_name_problem(name, self._family()) is None:
            return Content(name)
        return Content.from_markup("$name [$text-error](not a valid name)[/]", name=name)

    def _family(self) -> str:
        recipe = self.wizard.recipe
        return recipe.family if recipe else "deb"

    def on_mount(self) -> None:
        super().on_mount()
        if self.has_body:
            self._look_up(effective_packages(self.wizard.answers, self.wizard.recipe))

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
        self._look_up(added)

    @on(SelectionList.SelectedChanged, "#repositories")
    def _repositories_changed(self, event: SelectionList.SelectedChanged) -> None:
        kept = set(event.selection_list.selected)
        self.change("repositories", [repo for index, repo in enumerate(self._repositories) if index in kept])

    @on(Input.Changed, "#add-package")
    def _name_typed(self, event: Input.Changed) -> None:
        name = event.value.strip()
        if self._cleared_after_add and not name:
            self._cleared_after_add = False  # the field emptied itself after an add: keep its message
            return
        check = self.query_one("#add-check", Static)
        problem = package_name_problem(name, self._family()) if name else None
        check.set_class(problem is not None, "-error")
        check.update(Content(printable(problem or ("Enter adds it" if name else ""))))

    @on(Input.Submitted, "#add-package")
    def _name_submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if name:
            self.add_package(name)

    def add_package(self, name: str) -> bool:
        """Add `name` to the image (or check it again among the defaults); False when it is not a valid name."""
        recipe = self.wizard.recipe
        assert recipe is not None
        check = self.query_one("#add-check", Static)
        problem = package_name_problem(name, recipe.family)
        if problem:
            check.set_class(True, "-error")
            check.update(Content(printable(problem)))
            return False
        field = self.query_one("#add-package", Input)
        self._cleared_after_add = bool(field.value)
        field.value = ""
        check.set_class(False, "-error")
        defaults = self.query_one("#defaults", SelectionList)
        added = self.query_one("#added", SelectionList)
        if name in recipe.packages:
            defaults.select(name)
            check.update(Content(f"{printable(name)} is one of the recipe's defaults: checked again"))
        elif name in self._extra:
            added.select(name)
            check.update(Content(f"{printable(name)} is already added"))
        else:
            self._extra.append(name)
            added.add_option((self._label(name), name, True))
            self._store_added()
            check.update(Content(f"added {printable(name)}"))
        return True

    @on(Input.Changed, "#filter")
    def _filter_typed(self) -> None:
        self.state_refreshed()

    # -- the resulting list ------------------------------------------------------------

    def state_refreshed(self) -> None:
        recipe = self.wizard.recipe
        if recipe is None:
            return
        packages = effective_packages(self.wizard.answers, recipe)
        added = set(self.wizard.answers.packages.add) - set(recipe.default_package_list())
        needle = self.query_one("#filter", Input).value.strip().lower()
        shown = [p for p in packages if needle in p.lower()]
        self.shown = shown
        title = f"Resulting list: {len(packages)} packages on top of the base"
        if needle:
            title += f" ({len(shown)} match “{needle}”)"
        self.query_one("#result-title", Label).update(Content(printable(title)))
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column("package", ratio=2, no_wrap=True)
        table.add_column("from", ratio=1, no_wrap=True)
        table.add_column("apt says", ratio=3)
        for name in shown:
            # A rich Table reads a str cell as markup; names come from answer files and the image's stored answers.
            table.add_row(Text(printable(name)), "added" if name in added else "recipe", self._apt_text(name))
        if not shown:
            table.add_row(Text("nothing matches" if packages else "no packages", style="dim"), "", "")
        self.query_one("#result", Static).update(table)
        self.query_one("#apt-total", Static).update(self._apt_total(sorted(added)))
        listing = self.query_one("#added", SelectionList)
        listing.display = listing.option_count > 0
        self.query_one("#added-label").display = listing.display

    def _apt_text(self, name: str) -> Text:
        if self._family() != "deb":
            return Text("not looked up (an RPM recipe)", style="dim")
        info = self._package_cache.get(name)
        if info is None:
            return Text("asking apt…", style="dim")
        return Text(info.describe(), style="" if info.known else "italic")

    def _apt_total(self, added: list[str]) -> Content:
        if not added or self._family() != "deb":
            return Content("")
        infos = [self._package_cache.get(name) for name in added]
        sizes = [i.installed_bytes for i in infos if i is not None and i.installed_bytes is not None]
        unknown = sum(1 for i in infos if i is not None and not i.known)
        text = f"Added packages apt knows: {human(sum(sizes))} installed (not counting their dependencies)"
        if unknown:
            text += f"; {unknown} unknown to this workstation's apt"
        return Content(text)

    def _look_up(self, names: list[str]) -> None:
        if self._family() != "deb":
            return
        missing = [n for n in names if n not in self._package_cache and package_name_problem(n, "deb") is None]
        if missing:
            self._ask_apt(missing)

    @work(thread=True, group="apt", exit_on_error=False)
    def _ask_apt(self, names: list[str]) -> None:
        """Ask apt about `names` one by one, off the UI loop, showing each answer as it comes."""
        worker = get_current_worker()
        for name in names:
            if worker.is_cancelled:
                return
            info = self._package_info(name)
            if worker.is_cancelled:
                return
            self.app.call_from_thread(self._got_info, info)

    def _got_info(self, info: PackageInfo) -> None:
        self._package_cache[info.name] = info
        if self.is_attached:
            self.state_refreshed()
