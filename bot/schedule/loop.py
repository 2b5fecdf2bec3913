"""The scheduler: one loop that sleeps until the earliest due subscription and sends it.

Door-agnostic, like :class:`~bot.coach.timers.TimerRunner`: a door starts one loop for
its users (``scope``: its id prefix, such as ``"tg:"``, or one user id in the terminal)
with a ``deliver`` that hands replies to its outgoing side in the ``scheduled`` lane.

Each round claims a batch of due rows (committed, so an occurrence is never sent twice
even if the process dies right after sending it: see :mod:`bot.schedule.store`), runs
each through the coach as a :class:`~bot.coach.events.Scheduled` event (the weekly
summary as ``/history weekly``), and awaits ``deliver`` for each reply before the next.
So a door whose ``deliver`` waits while its scheduled lane is full paces the loop to
its sending rate: claims stay a batch ahead of the sends, and a crash loses at most one
batch of claimed, unsent reminders. Between sends the loop yields, so the people talking
to the coach are answered in between.

The loop wakes when the earliest row comes due, when :meth:`ScheduleLoop.poke` says the
schedule may have changed, and at least every :data:`MAX_SLEEP` in any case (a change
made by another process, or a poke nobody sent).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Literal, Protocol

from bot.clock import sleep_until_woken
from bot.coach.actions import Reply
from bot.coach.engine import Coach
from bot.coach.events import Event, Scheduled
from bot.schedule.recurrence import DEFAULT_GRACE
from bot.schedule.report import WEEKLY_SUMMARY
from bot.schedule.store import Due, ScheduleStore

log = logging.getLogger(__name__)

Lane = Literal["reply", "scheduled"]
DEFAULT_BATCH = 100
MAX_SLEEP = timedelta(minutes=1)


class Deliver(Protocol):
    """A door's way out: send ``reply`` to ``user_id`` in ``lane``."""

    async def __call__(self, user_id: str, reply: Reply, *, lane: Lane) -> None: ...


def event_for(due: Due) -> Event:
    """What the coach is told when ``due`` comes due."""
    return WEEKLY_SUMMARY if due.kind == "summary" else Scheduled(due.kind, due.ref)


class ScheduleLoop:
    """Runs until cancelled. See the module docstring."""

    def __init__(
        self,
        coach: Coach,
        deliver: Deliver,
        scope: str,
        *,
        batch: int = DEFAULT_BATCH,
        grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        self._coach = coach
        self._store = ScheduleStore(coach.store)
        self._deliver = deliver
        self._scope = scope
        self._batch = batch
        self._grace = grace
        self._wake = asyncio.Event()

    def poke(self) -> None:
        """The schedule may have changed: look again now rather than at the next wake."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            await self.dispatch_due()
            await self._sleep(await self._store.next_due(self._scope))

    async def dispatch_due(self) -> int:
        """Claim and send everything due now, a batch at a time; returns how many went."""
        sent = 0
        while True:
            claim = await self._store.claim(
                self._coach.clock.now(), self._scope, self._batch, self._grace
            )
            for due in claim.due:
                sent += await self._dispatch(due)
            if claim.taken < self._batch:
                return sent

    async def _dispatch(self, due: Due) -> int:
        """One claimed occurrence through the coach and out; 1 if a reply went out.
        A failure is logged and costs only this one reminder."""
        try:
            reply = await self._coach.handle(due.user_id, event_for(due))
            if not reply.actions:
                return 0
            await self._deliver(due.user_id, reply, lane="scheduled")
        except Exception:
            log.exception("scheduled %s for a user failed", due.kind)
            return 0
        return 1

    async def _sleep(self, due: datetime | None) -> None:
        """Until ``due`` (at most :data:`MAX_SLEEP`) or a poke, on the coach's clock."""
        clock = self._coach.clock
        latest = clock.now() + MAX_SLEEP
        until = latest if due is None else min(due, latest)
        await sleep_until_woken(clock, until, self._wake)
