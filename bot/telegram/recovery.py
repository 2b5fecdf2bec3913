"""Replies that survive a crash, without anyone's updates waiting for another's replies.

The poller confirms a batch of updates to Telegram once every update of it is *handled*:
the engine has committed the user's state together with the reply
(:mod:`bot.coach.replay`). The reply itself may still be on its way — a chat under flood
control waits its turn, and nobody else waits with it. What makes that safe:

- each update handled gets an *order* (:meth:`SentMark.next_order`): a number that rises
  with every update, across restarts too (it is never below the time in microseconds,
  nor below the mark found at start). Its reply goes into the outbox tagged with it.
- the *mark* (:meth:`SentMark.value`): every reply to an update ordered below it is out.
  It is the lower of the first order the outbox still holds and the next order to give
  once the poller reports a batch handled.
- the door keeps the mark in the store every second and at shutdown, after the outbox
  has drained; at the next start it sends again every stored reply ordered at or above
  the mark it finds (:meth:`SentMark.recover`): a crash may repeat a message, never
  lose one.

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
from bot.coach.replay import ORDER, UNSENT, unsent_since
from bot.store.base import Store
from bot.telegram.outbox import Outbox
from bot.telegram.updates import USER_PREFIX

log = logging.getLogger(__name__)

MARK = "telegram.sent_below"
KEEP_EVERY = timedelta(seconds=1)
MICROSECONDS = 1_000_000

Resend = Callable[[str, int, Reply], None]
"""Queues ``(user_id, order, reply)`` again."""


class SentMark:
    """Orders for handled updates, and the mark: computed from the outbox, kept in the
    store."""

    def __init__(self, outbox: Outbox, store: Store, clock: Clock) -> None:
        self._outbox = outbox
        self._store = store
        self._clock = clock
        self._last = 0  # the last order given
        self._handled_below: int | None = None
        self._kept: int | None = None

    def next_order(self) -> int:
        """The order of the update about to be handled."""
        now = int(self._clock.now().timestamp() * MICROSECONDS)
        self._last = max(self._last + 1, now)
        return self._last

    def handled(self) -> None:
        """The poller's word: every update given an order so far is handled."""
        self._handled_below = self._last + 1

    def value(self) -> int | None:
        """Every reply to an update ordered below this is out; ``None`` while unknown
        (before the poller's first word, or without a poller)."""
        if self._handled_below is None:
            return None
        first = self._outbox.first_unsent()
        return self._handled_below if first is None else min(first, self._handled_below)

    def sent_below(self, order: int) -> int:
        """For the engine, handling the update ordered ``order``: the mark or, when it is
        unknown (webhook mode), what holds for this user alone: their earlier updates
        were handled (a chat's updates go one after the other), so each reply is out
        unless the outbox still holds it or an earlier one."""
        value = self.value()
        if value is not None:
            return value
        first = self._outbox.first_unsent()
        return order if first is None else min(first, order)

    async def recover(self, resend: Resend) -> int:
        """Queue again every stored reply ordered at or above the mark kept; how many."""
        kept = await self._store.mark(MARK)
        if kept is None:
            return 0  # a first start: nothing was confirmed before its reply was out
        self._last = max(self._last, kept)
        self._handled_below = self._kept = kept
        count = 0
        found = await self._store.sessions_listing(
            UNSENT, position=ORDER, at_least=kept, scope=USER_PREFIX
        )
        for user_id, session in found:
            for order, reply in unsent_since(session, kept):
                resend(user_id, order, reply)
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

    async def run(self) -> None:
        """:meth:`keep` every :data:`KEEP_EVERY`, until cancelled."""
        while True:
            await self._clock.sleep_until(self._clock.now() + KEEP_EVERY)
            await self.keep()
