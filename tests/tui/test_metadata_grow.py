"""The Metadata step offers growing the root filesystem and sd* names for vd* disks, and the rc.local preview follows (issue 17)."""

from __future__ import annotations

from textual.widgets import Checkbox, Static

from emi_tui.tui.screens.wizard.metadata import PREVIEW_DELAY

SMALL = (80, 24)
STEPS = ["distro", "size", "packages", "metadata", "image", "summary"]


async def open_step(pilot, step: str) -> None:
    """From a replayed file, open `step` by the step list: F2, arrows, Enter."""
    await pilot.press("f2", "home", *["down"] * STEPS.index(step), "enter")
    await pilot.pause()
    assert step == pilot.app.screen.STEP


def help_after(screen, field) -> str:
    """The one-line help the form shows under a checkbox."""
    siblings = list(field.parent.children)
    return str(siblings[siblings.index(field) + 1].render())


async def test_grow_root_is_an_option_in_words_and_the_preview_follows_it(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await open_step(pilot, "metadata")
        await pilot.pause(PREVIEW_DELAY + 0.1)
        screen = app.screen
        box = screen.query_one("#md-grow_root", Checkbox)
        assert box.value is True  # on by default
        assert str(box.label).startswith("Grow the root filesystem")
        assert "fill its disk" in help_after(screen, box)
        assert "grow_root:  on" in screen.preview_text and "resize2fs" in screen.preview_text
        box.focus()
        await pilot.press("space")
        await pilot.pause(PREVIEW_DELAY + 0.2)
        assert screen.wizard.answers.metadata.grow_root is False
        assert "grow_root:  off" in screen.preview_text and "resize2fs" not in screen.preview_text
        rows = str(screen.query_one("#rc-local", Static).render()).splitlines()
        assert any(row.startswith("▌") and "grow_root:  off" in row for row in rows), rows
        await pilot.press("space")
        await pilot.pause(PREVIEW_DELAY + 0.2)
        assert screen.wizard.answers.metadata.grow_root is True and "resize2fs" in screen.preview_text


async def test_vd_names_sit_with_the_xvd_udev_option(make_app, answers_file):
    app = make_app(answers_path=answers_file())
    async with app.run_test(size=SMALL) as pilot:
        await open_step(pilot, "metadata")
        screen = app.screen
        boxes = [box.id for box in screen.query(Checkbox)]
        # The vd* mapping comes right after the xvd* one: both are the udev option.
        assert boxes.index("md-udev_vd") == boxes.index("md-udev_xvd") + 1
        box = screen.query_one("#md-udev_vd", Checkbox)
        assert box.value is True and str(box.label).startswith("sd* names for vd* disks")
        assert "virtio" in help_after(screen, box)
        box.focus()
        await pilot.press("space")
        await pilot.pause()
        assert screen.wizard.answers.metadata.udev_vd is False
        assert screen.wizard.answers.metadata.udev_xvd is True
