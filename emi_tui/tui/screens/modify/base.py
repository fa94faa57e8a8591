"""The frame of the modify flow's own steps: a StepScreen that edits a ModifyState."""

from __future__ import annotations

from emi_tui.tui.screens.step import StepScreen
from emi_tui.tui.state.modify_state import ModifyState


class ModifyStepScreen(StepScreen):
    """A step of the modify flow (Artifact, Changes): its wizard state is always a ModifyState."""

    @property
    def modify(self) -> ModifyState:
        state = self.wizard
        assert isinstance(state, ModifyState)
        return state
