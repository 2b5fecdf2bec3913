"""The coach engine: ``(user, event) → actions``, with state written through to the store.

It knows nothing of Telegram or terminals. For each event it takes the user's lock (so a
user's events run one at a time, in order, whichever door they came from), loads their
row, lets a :class:`~bot.coach.turn.Turn` advance the dialogue, commits, and only then
returns the actions — so nothing a user was told is ever lost by a crash.

A door that may deliver the same event twice (Telegram redelivers an update it was not
told was received) names each :class:`~bot.coach.replay.Delivery`. The engine keeps, in
the same row write that commits the state, the replies the door has not yet reported
sent (:mod:`bot.coach.replay`); a delivery found there is a *replay*: its stored reply
comes back (or nothing, once sent) and nothing runs or moves, so a text answer is never
read twice.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.clock import Clock, SystemClock
from bot.coach.actions import Forgotten, Reply
from bot.coach.events import Command, Event, Press, Resume, Text, Unsupported, as_command
from bot.coach.extensions import Extensions
from bot.coach.replay import UNSENT, Delivery, after_turn, replayed
from bot.coach.triggers import TriggerPhrases
from bot.coach.turn import Catalogue, Mover, Turn
from bot.store.base import Store, UserRow


@dataclass(slots=True)
class _UserLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0


class UserLocks:
    """One lock per user, created on demand and dropped as soon as nobody waits on it,
    so memory does not grow with the number of users ever seen."""

    def __init__(self) -> None:
        self._locks: dict[str, _UserLock] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        entry = self._locks.setdefault(key, _UserLock())
        entry.holders += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.holders -= 1
            if entry.holders == 0:
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


USER_EVENTS = (Text, Press, Command, Unsupported, Resume)


class Coach:
    """The engine. One instance serves every door and every user."""

    def __init__(
        self,
        catalogue: Catalogue,
        store: Store,
        move: Mover,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        extensions: Extensions | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self._move = move
        self._rng = rng or random.Random()
        self.ext = extensions or Extensions()
        _check_effects(catalogue, self.ext)
        self._triggers = TriggerPhrases.of(catalogue.dialogues.values())
        self.locks = UserLocks()

    async def handle(
        self,
        user_id: str,
        event: Event,
        *,
        locale: str | None = None,
        delivery: Delivery | None = None,
        sent_below: int | None = None,
    ) -> Reply:
        """Advance ``user_id``'s conversation by ``event``; return what to show them.

        ``locale`` is the user's language as their client reports it (used for new users
        and kept up to date when it is one the dialogues declare). ``delivery`` names
        the door's delivery of ``event``: when it was handled before, its stored reply is
        returned and nothing else happens. ``sent_below``: the door has sent the reply
        to every delivery ordered before it, so those need not be kept (see the module
        docstring).
        """
        async with self.locks.hold(user_id):
            row = await self.store.load(user_id) or UserRow(user_id)
            replay = None if delivery is None else replayed(row.session, delivery.key, sent_below)
            if replay is not None:
                return replay
            kept = {UNSENT: row.session.get(UNSENT)}
            if locale and locale in self.catalogue.locales:
                row.locale = locale
            special = await self._special_command(row, event)
            if special is not None:
                return special
            turn = Turn(
                self.catalogue,
                row,
                self.clock.now(),
                self._rng,
                self._move,
                self._triggers,
                self.ext,
            )
            turn.handle(event)
            # The turn wrote the session afresh: add the deliveries and the unsent replies,
            # this one's included, to the same row write.
            row.session.update(after_turn(kept, delivery, turn.actions, sent_below))
            if any(isinstance(action, Forgotten) for action in turn.actions):
                await self.store.forget(user_id)  # the user asked us to delete, not save
            else:
                # Only what the user did makes them active again: a timer of a user who
                # blocked the bot must not undo the block.
                row.active = row.active or isinstance(event, USER_EVENTS)
                await self.store.save(row, turn.records, self.clock.now(), self.ext.save_hooks)
            return Reply(turn.actions)

    async def _special_command(self, row: UserRow, event: Event) -> Reply | None:
        """Commands that need the store itself (export, forget) run outside a turn."""
        command = as_command(event)
        if command is not None and command.name in self.ext.async_commands:
            return await self.ext.async_commands[command.name](self, row, command.args)
        return None


def _check_effects(catalogue: Catalogue, extensions: Extensions) -> None:
    """Refuse to start when a dialogue names an effect no package provides."""
    named = {
        (dialogue.id, effect.name)
        for dialogue in catalogue.dialogues.values()
        for state in dialogue.states.values()
        for effect in state.effects
    }
    missing = sorted(f"{d}: {name}" for d, name in named if name not in extensions.effects)
    if missing:
        raise LookupError(f"dialogues use effects nobody provides: {', '.join(missing)}")
