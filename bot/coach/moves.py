"""Moves inside a dialogue, checked by its ``transitions`` state machine.

One machine per dialogue is built when the dialogues load and shared by every user: a
user's model is attached with its stored state for one move, then detached, so memory
does not grow with users (a ``Machine`` per user costs ~32 KiB).
"""

from __future__ import annotations

from collections.abc import Mapping

from transitions import Machine

from bot.dialogue.graph import build_machine
from bot.dialogue.schema import Dialogue


class _Model:
    """Holds one user's state while attached; the machine adds ``trigger`` to it."""

    state: str


class DialogueMachines:
    """Callable as ``move(dialogue, source, dest)``; raises if the dialogue has no such edge."""

    def __init__(self, dialogues: Mapping[str, Dialogue]) -> None:
        self._machines: dict[str, Machine] = {
            dialogue_id: build_machine(dialogue) for dialogue_id, dialogue in dialogues.items()
        }

    def __call__(self, dialogue: str, source: str, dest: str) -> None:
        machine = self._machines[dialogue]
        model = _Model()
        machine.add_model(model, initial=source)
        try:
            # transitions binds `trigger` onto the model at add_model time.
            getattr(model, "trigger")(f"to_{dest}")  # noqa: B009
        finally:
            machine.remove_model(model)
