"""Replies that survive a crash, without anyone's updates waiting for another's replies.

The poller confirms a batch of updates to Telegram once every update of it is *handled*:
the engine has committed the user's state together with the reply
(:mod:`bot.coach.replay`). The reply itself may still be on its way — a chat under flood
control waits its turn, and nobody else waits with it. What makes that safe is one
number, the *mark*: every reply to an update below it is out. It is the lower of the
first update whose reply the outbox still holds and the poller's offset (every update
below it handled). The door keeps the mark in the store every second and at shutdown,
after the outbox has drained; after a crash, it sends again every stored reply at or
above the mark it finds: a reply may arrive twice, never not at all.

With each update the door also tells the engine which replies are out
(:meth:`SentMark.sent_below`), so the user's row keeps only those that may not be, and an
update Telegram hands over again gets its reply again only if it may not have arrived.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.clock import Clock
from bot.coach.actions import Reply
from bot.coach.replay import UNSENT, unsent_since
from bot.store.base import Store
from bot.telegram.outbox import Outbox
from bot.telegram.updates import USER_PREFIX

log = logging.getLogger(__name__)

MARK = "telegram.sent_below"
KEEP_EVERY = timedelta(seconds=1)

Resend = Callable[[str, int, Reply], None]
"""Queues ``(user_id, update_id, reply)`` again."""


class SentMark:
    """The mark: computed from the outbox and the poller, kept in the store."""

    def __init__(self, outbox: Outbox, store: Store) -> None:
        self._outbox = outbox
        self._store = store
        self.handled_below: int | None = None
        """Every update below this one was handled (the poller's offset), if known."""
        self._kept: int | None = None

    def handled(self, offset: int) -> None:
        """The poller's word: every update below ``offset`` is handled."""
        self.handled_below = offset

    def value(self) -> int | None:
        """Every reply to an update below this one is out; ``None`` while unknown."""
        if self.handled_below is None:
            return None
        first = self._outbox.first_unsent()
        return self.handled_below if first is None else min(first, self.handled_below)

    def sent_below(self, update_id: int) -> int:
        """For the engine, handling ``update_id``: the mark or, without a poller (webhook
        mode), what holds for this user alone: their earlier updates were handled (a
        chat's updates go one after the other), so each reply is out unless the outbox
        still holds it or an earlier one."""
        value = self.value()
        if value is not None:
            return value
        first = self._outbox.first_unsent()
        return update_id if first is None else min(first, update_id)

    async def recover(self, resend: Resend) -> int:
        """Queue again every stored reply at or above the mark kept; how many."""
        kept = await self._store.mark(MARK)
        if kept is None:
            return 0  # a first run: nothing was confirmed before its reply was sent
        self.handled_below = self._kept = kept
        count = 0
        for user_id, session in await self._store.sessions_having(UNSENT, USER_PREFIX):
            for update_id, reply in unsent_since(session, kept):
                resend(user_id, update_id, reply)
                count += 1
        if count:
            log.warning("%d replies may not have been sent before a crash: sending them", count)
        return count

    async def keep(self) -> None:
        """Store the mark if it moved."""
        value = self.value()
        if value is not None and value != self._kept:
            await self._store.set_mark(MARK, value)
            self._kept = value

    async def run(self, clock: Clock) -> None:
        """:meth:`keep` every :data:`KEEP_EVERY`, until cancelled."""
        while True:
            await clock.sleep_until(clock.now() + KEEP_EVERY)
            await self.keep()
