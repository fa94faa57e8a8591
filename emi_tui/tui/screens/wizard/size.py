"""Step 2, Size: 1.3 GB, 4.5 GB ("large") or a custom size, against what the recipe needs."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, ProgressBar, RadioButton, RadioSet, Static

from emi_tui.engine.sizes import LARGE, STANDARD, SizeError, human, parse_size
from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.widgets.choice import ChoiceSet

PRESETS = {
    STANDARD: "1.3 GB  the standard starter image",
    LARGE: "4.5 GB  large (default names get -large)",
}
PRESET_IDS = {STANDARD: "size-standard", LARGE: "size-large"}
CUSTOM = "custom"


class SizeScreen(StepScreen):
    """Choose the image size; the recipe's estimate is drawn against it, and a root that cannot fit stops Next."""

    STEP = "size"
    INTRO = "The size of the ext3 root (the whole image: there is no partition table)."
    FIELDS = {"size": "size"}
    AUTO_FOCUS = "#size"

    def compose_body(self) -> ComposeResult:
        size = self.wizard.answers.size
        preset = size if size in PRESETS else CUSTOM
        with VerticalScroll(id="size-form"):
            yield Label("Image size", classes="field-label")
            buttons = [
                RadioButton(label, value=preset == value, name=value, id=PRESET_IDS[value]) for value, label in PRESETS.items()
            ]
            buttons.append(RadioButton("Custom size", value=preset == CUSTOM, name=CUSTOM, id="size-custom"))
            yield ChoiceSet(*buttons, id="size")
            yield Input(
                value=str(size) if preset == CUSTOM else "",
                placeholder="a custom size, such as 2 GB or 1500 MB (binary: 1 GB = 1024 MB)",
                id="custom-size",
            )
            yield Static(id="custom-check")
            yield Label("Will it fit?", classes="field-label")
            yield Static(id="fit-text")
            yield ProgressBar(total=100, show_eta=False, id="fit-bar")
            yield self.problem_line("size")

    @on(RadioSet.Changed, "#size")
    def _preset_chosen(self, event: RadioSet.Changed) -> None:
        choice = event.pressed.name or CUSTOM
        if choice == CUSTOM:
            field = self.query_one("#custom-size", Input)
            self.change("size", field.value.strip())
            field.focus()
        else:
            self.change("size", choice)

    @on(Input.Changed, "#custom-size")
    def _custom_typed(self, event: Input.Changed) -> None:
        custom = self.query_one("#size-custom", RadioButton)
        if not event.value and not custom.value:
            return  # clearing the unused field is not choosing a custom size
        if not custom.value:
            custom.value = True  # selecting it here does not move focus out of the field
        self.change("size", event.value.strip())

    @on(Input.Submitted, "#custom-size")
    def _custom_submitted(self) -> None:
        if not self.wizard.problems_for(self.STEP):
            self.action_next()

    def state_refreshed(self) -> None:
        recipe = self.wizard.recipe
        check = self.query_one("#custom-check", Static)
        text = self.query_one("#custom-size", Input).value.strip()
        try:
            check.update(f"= {human(parse_size(text))}" if text else "")
        except SizeError:
            check.update("")
        if recipe is None:
            return
        capacity = self.wizard.size_bytes()
        bar = self.query_one("#fit-bar", ProgressBar)
        fit = self.query_one("#fit-text", Static)
        estimate = recipe.estimated_bytes
        if capacity is None:
            bar.display = False
            fit.update(Content.from_markup("[dim]Enter a size to compare it with the recipe estimate.[/]"))
            return
        bar.display = True
        bar.update(total=capacity, progress=min(estimate, capacity))
        fits = capacity >= max(estimate, recipe.min_size_bytes)
        bar.set_class(not fits, "-over")
        fit.update(
            Content.from_markup(
                "Recipe estimate of the installed size: [b]$estimate[/b] of [b]$capacity[/b]"
                " · free after install: $free · minimum for $recipe: $minimum",
                estimate=human(estimate),
                capacity=human(capacity),
                free=human(max(capacity - estimate, 0)),
                recipe=recipe.name,
                minimum=human(recipe.min_size_bytes),
            )
        )
