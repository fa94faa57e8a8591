"""Release a catalog, second screen: the plan, before anything runs.

One row per image in the order the builds start: its base (bootstrapped by
this image, or taken from the cache once the first image of that base has
bootstrapped it), its size, what it installs and its expected time (the
last builds' step timings). Below: the shared bases, how many images build
at once and why (`-`/`+` change it), and the expected wall time against one
after another. Build… asks first (ConfirmRoot): nothing runs as root without
a clear act.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Static

from emi_tui.engine.catalog.plan import CatalogPlan, JobsChoice, default_jobs, make_plan
from emi_tui.engine.catalog.resolve import ResolvedCatalog
from emi_tui.engine.sizes import human
from emi_tui.engine.text import printable
from emi_tui.tui.screens.job.step_rows import format_elapsed
from emi_tui.tui.screens.wizard.confirm_build import WORK_FOLDER, ConfirmRoot
from emi_tui.tui.state.wizard_state import tilde
from emi_tui.tui.widgets.header import ScreenHeader


def catalog_root_lines(catalog: ResolvedCatalog, plan: CatalogPlan, jobs: int) -> list[str]:
    """What a catalog build runs as root: each base's bootstrap, every image's build, the catalog's files."""
    lines = []
    for base in plan.bases:
        first = catalog.image(base.images[0])
        tool = first.recipe.bootstrap if first else "the bootstrapper"
        lines.append(f"{tool}: bootstrap {base.name} from {base.mirror} into {WORK_FOLDER}, once for {len(base.images)} image(s)")
    lines += [
        f"{len(plan.images)} image builds, {jobs} at once: chroot and apt-get, mounts of /proc, /dev and a loop device, "
        "mke2fs, e2fsck and zerofree",
        f"write every artifact, then EMI-IDs, SHA256SUMS and RELEASE-NOTES.md into {tilde(catalog.folder)}",
    ]
    return lines


class CatalogPlanScreen(Screen):
    """The catalog's jobs and bases, with their estimates; Build… starts them after asking."""

    DEFAULT_CSS = """
    CatalogPlanScreen #catalog-plan { padding: 0 1; height: 1fr; }
    CatalogPlanScreen #plan-table { height: 1fr; min-height: 4; }
    CatalogPlanScreen #plan-bases, CatalogPlanScreen #plan-jobs { height: auto; }
    CatalogPlanScreen #plan-jobs { color: $text-muted; }
    CatalogPlanScreen #plan-buttons { height: auto; align-horizontal: right; }
    CatalogPlanScreen #plan-buttons Button { margin-left: 2; }
    """
    AUTO_FOCUS = "#plan-table"
    BINDINGS = [
        Binding("b", "build", "Build…"),
        Binding("minus", "jobs(-1)", "Fewer jobs"),
        Binding("plus,equals_sign", "jobs(1)", "More jobs"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, catalog: ResolvedCatalog, plan: CatalogPlan | None = None, jobs: JobsChoice | None = None) -> None:
        super().__init__()
        self.catalog = catalog
        self.plan = plan or make_plan(catalog)
        self.choice = jobs or default_jobs(self.plan)
        self.jobs = self.choice.jobs
        self.sub_title = "release a catalog · the plan"

    def compose(self) -> ComposeResult:
        yield ScreenHeader()
        with Vertical(id="catalog-plan"):
            yield DataTable(id="plan-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="plan-bases")
            yield Static(id="plan-jobs")
            with Horizontal(id="plan-buttons"):
                yield Button("Back (esc)", id="back", compact=True)
                yield Button("Build… (b)", id="build", variant="warning", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#plan-table", DataTable)
        for label in ("image", "base", "size", "installs", "time"):
            table.add_column(label, key=label)
        for planned in self.plan.images:
            answers = planned.image.answers
            base = "bootstraps it" if planned.bootstraps_base else "from the cache"
            table.add_row(printable(planned.heading), base, human(answers.size_bytes), human(planned.installed_bytes),
                          format_elapsed(planned.seconds), key=planned.heading)
        bases = [Content.styled(f"{len(self.plan.bases)} shared base{'s' if len(self.plan.bases) != 1 else ''}", "bold")]
        for base in self.plan.bases:
            bases.append(Content.assemble("  ", (printable(base.name), "$accent"), f": {len(base.images)} image(s), bootstrapped once"))
        self.query_one("#plan-bases", Static).update(Content("\n").join(bases))
        self._show_jobs()

    def _show_jobs(self) -> None:
        wall, serial = self.plan.wall_seconds(self.jobs), self.plan.serial_seconds()
        reason = self.choice.reason if self.jobs == self.choice.jobs else f"{self.jobs} at once, as chosen (- and + change it)"
        text = (f"{reason}\nexpected: about {format_elapsed(wall)} in all, against {format_elapsed(serial)} one after another; "
                f"written to {tilde(self.catalog.folder)}")
        self.query_one("#plan-jobs", Static).update(Content(printable(text, keep_newlines=True)))

    def action_jobs(self, change: int) -> None:
        jobs = min(max(1, self.jobs + change), max(1, len(self.plan.images)))
        if jobs == self.jobs:
            self.app.bell()
            return
        self.jobs = jobs
        self._show_jobs()

    @on(DataTable.RowSelected, "#plan-table")
    @on(Button.Pressed, "#build")
    def action_build(self) -> None:
        """Ask before building (Enter on the table comes here too: forward, as on every screen; the question has Cancel focused)."""
        def answered(start: bool | None) -> None:
            if start:
                from emi_tui.tui.screens.catalog.running import CatalogRunScreen

                self.app.push_screen(CatalogRunScreen(self.catalog, self.plan, self.jobs))

        lines = catalog_root_lines(self.catalog, self.plan, self.jobs)
        self.app.push_screen(ConfirmRoot(f"Build {len(self.plan.images)} images as root?", lines, "Yes, build the catalog"), answered)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()
