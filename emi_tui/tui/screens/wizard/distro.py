"""Step 1, Distro: the recipe, then the release and the architecture it offers, and the mirror."""

from __future__ import annotations

import re

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.widgets import Input, Label, RadioButton, RadioSet

from emi_tui.engine.answers.recipes import Recipe
from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.state.wording import a_distro
from emi_tui.tui.widgets.choice import ChoiceSet


def widget_id(prefix: str, value: str) -> str:
    """A widget id for a recipe's own word (releases such as 22.04 hold characters ids cannot)."""
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]', '_', value)}"


def mirror_placeholder(recipe: Recipe | None) -> str:
    """What an empty mirror field means for `recipe`."""
    if recipe is None:
        return "the URL of a mirror"
    if recipe.default_mirror == "apt-sources":
        return "empty: the mirror of this workstation's apt sources"
    if recipe.default_mirror is None:
        return f"required: the URL of {a_distro(recipe.distro)} mirror (http://…, https://… or file:///…)"
    return "empty: the recipe's own mirror"


def recipe_label(recipe: Recipe) -> Content:
    """A recipe's name and description; one that replaces a shipped recipe says so, and from which file."""
    label = Content.from_markup("[b]$name[/b]  [dim]$description[/]", name=recipe.name, description=recipe.description)
    if recipe.replaces is None:
        return label
    return label + Content.from_markup("  [$text-warning]⚠ replaces the shipped recipe: $file[/]", file=str(recipe.source))


class WrapButton(RadioButton):
    """A radio button whose label wraps under itself (a hanging indent), never cut off: a recipe's description, say."""

    DEFAULT_CSS = """
    RadioSet > WrapButton { height: auto; text-wrap: wrap; }
    """

    def _label_lines(self, width: int) -> list[Content]:
        # The button takes its cells, then one space before the label and one after.
        room = max(width - self._button.cell_length - 2, 12)
        return self._label.wrap(room) or [Content("")]

    def render(self) -> Content:
        button = self._button
        style = self.get_visual_style("toggle--label")
        lines = self._label_lines(self.content_size.width)
        indent = " " * (button.cell_length + 1)
        first = Content.assemble(button, lines[0].pad(1, 1).stylize_before(style))
        rest = [Content.assemble(indent, line.pad_right(1).stylize_before(style)) for line in lines[1:]]
        return Content("\n").join([first, *rest])

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._label_lines(width))


class DistroScreen(StepScreen):
    """Choose the recipe (with its one-line description), its release and arch, and the mirror."""

    STEP = "distro"
    INTRO = "What the image is built from: a recipe, one of its releases and architectures, and where packages come from."
    FIELDS = {"recipe": "recipe", "release": "release", "arch": "arch", "mirror": "mirror"}
    NEEDS_RECIPE = False
    AUTO_FOCUS = "#recipe"

    def compose_body(self) -> ComposeResult:
        answers = self.wizard.answers
        with VerticalScroll(id="distro-form"):
            yield Label("Recipe", classes="field-label")
            buttons = [
                WrapButton(
                    recipe_label(recipe),
                    value=name == answers.recipe,
                    name=name,
                    id=widget_id("recipe", name),
                )
                for name, recipe in sorted(self.wizard.book.recipes.items())
            ]
            yield ChoiceSet(*buttons, id="recipe")
            yield self.problem_line("recipe")
            with Horizontal(id="release-arch"):
                with Vertical(classes="column"):
                    yield Label("Release", classes="field-label")
                    yield Vertical(*self._release_set(), id="release-box")
                    yield self.problem_line("release")
                with Vertical(classes="column"):
                    yield Label("Architecture", classes="field-label")
                    yield Vertical(*self._arch_set(), id="arch-box")
                    yield self.problem_line("arch")
            yield Label("Mirror", classes="field-label")
            yield Input(
                value=answers.mirror if isinstance(answers.mirror, str) else "",
                placeholder=mirror_placeholder(self.wizard.recipe),
                id="mirror",
            )
            yield self.problem_line("mirror")

    def _release_set(self) -> list[RadioSet]:
        recipe = self.wizard.recipe
        if recipe is None:
            return []
        chosen = self.wizard.answers.release or recipe.default_release
        buttons = [
            WrapButton(
                f"{release}{'  (default)' if release == recipe.default_release else ''}",
                value=release == chosen,
                name=release,
                id=widget_id("release", release),
            )
            for release in recipe.releases
        ]
        return [ChoiceSet(*buttons, id="release")]

    def _arch_set(self) -> list[RadioSet]:
        recipe = self.wizard.recipe
        if recipe is None:
            return []
        buttons = [
            WrapButton(f"{arch}  ({native})", value=arch == self.wizard.answers.arch, name=arch, id=widget_id("arch", arch))
            for arch, native in recipe.arches.items()
        ]
        return [ChoiceSet(*buttons, id="arch")]

    @on(RadioSet.Changed, "#recipe")
    async def _recipe_chosen(self, event: RadioSet.Changed) -> None:
        name = event.pressed.name or ""
        if name == self.wizard.answers.recipe:
            return
        self.wizard.choose_recipe(name)
        for box, widgets in (("#release-box", self._release_set()), ("#arch-box", self._arch_set())):
            container = self.query_one(box)
            await container.remove_children()
            await container.mount_all(widgets)
        mirror = self.query_one("#mirror", Input)
        mirror.placeholder = mirror_placeholder(self.wizard.recipe)
        # The state put back the mirror given for this distro, or none: the field shows it.
        given = self.wizard.answers.mirror
        with mirror.prevent(Input.Changed):
            mirror.value = given if isinstance(given, str) else ""
        self.refresh_state()
        if any(p.key == "mirror" for p in self.wizard.problems_for(self.STEP)):
            # This recipe cannot go on without a mirror: the cursor goes where it is typed, its problem in view.
            mirror.focus()
            self.call_after_refresh(self.query_one("#mirror-problem").scroll_visible, animate=False)

    @on(RadioSet.Changed, "#release")
    def _release_chosen(self, event: RadioSet.Changed) -> None:
        self.change("release", event.pressed.name)

    @on(RadioSet.Changed, "#arch")
    def _arch_chosen(self, event: RadioSet.Changed) -> None:
        self.change("arch", event.pressed.name)

    @on(Input.Changed, "#mirror")
    def _mirror_typed(self, event: Input.Changed) -> None:
        self.change("mirror", event.value.strip() or None)
