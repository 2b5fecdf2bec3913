"""How feature packages plug into the engine without the engine knowing them.

Each feature (safety, schedule, privacy…) offers one :class:`Extensions`; the app merges
them. Hooks that run inside a turn are synchronous and work on the turn's in-memory row;
the only asynchronous ones run outside a turn (``async_commands``) or inside the commit
transaction (``save_hooks``), so a turn stays I/O-free and a save stays atomic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bot.coach.actions import Reply
    from bot.coach.engine import Coach
    from bot.coach.turn import Turn
    from bot.store.base import UserRow

CommandHandler = Callable[["Turn", str], None]
"""``/name args`` handled inside a turn."""

AsyncCommand = Callable[["Coach", "UserRow", str], Awaitable["Reply"]]
"""``/name args`` that needs the store itself (export, forget); runs under the user's lock."""

PressHandler = Callable[["Turn", str], None]
"""A button press whose callback data starts with the handler's ``prefix:``."""

EffectHandler = Callable[["Turn", Mapping[str, str]], None]
"""A state's ``effects: [{name, args}]``; args arrive with ``{placeholders}`` filled."""

ScheduledHandler = Callable[["Turn", str], None]
"""A :class:`~bot.coach.events.Scheduled` event of the handler's kind, given its ``ref``."""

TextScreen = Callable[["Turn", str], bool]
"""Sees every free-text input first; returns True when it has answered it itself."""

T = TypeVar("T")

SaveHook = Callable[[Any, "UserRow", datetime], Awaitable[None]]
"""Runs inside the commit transaction with the store, e.g. to keep an index in step."""


@dataclass(frozen=True, slots=True)
class Extensions:
    commands: Mapping[str, CommandHandler] = field(default_factory=dict)
    async_commands: Mapping[str, AsyncCommand] = field(default_factory=dict)
    presses: Mapping[str, PressHandler] = field(default_factory=dict)
    effects: Mapping[str, EffectHandler] = field(default_factory=dict)
    scheduled: Mapping[str, ScheduledHandler] = field(default_factory=dict)
    text_screens: Sequence[TextScreen] = ()
    save_hooks: Sequence[SaveHook] = ()

    def __add__(self, other: Extensions) -> Extensions:
        """Both sets of hooks; a name claimed twice is a programming error."""
        return Extensions(
            commands=_union(self.commands, other.commands),
            async_commands=_union(self.async_commands, other.async_commands),
            presses=_union(self.presses, other.presses),
            effects=_union(self.effects, other.effects),
            scheduled=_union(self.scheduled, other.scheduled),
            text_screens=(*self.text_screens, *other.text_screens),
            save_hooks=(*self.save_hooks, *other.save_hooks),
        )


def _union(first: Mapping[str, T], second: Mapping[str, T]) -> dict[str, T]:
    clash = first.keys() & second.keys()
    if clash:
        raise ValueError(f"claimed by two extensions: {', '.join(sorted(clash))}")
    return {**first, **second}
