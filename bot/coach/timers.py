"""Firing the timers dialogues ask for (``after: {seconds: …}``).

Timers live in the ``users`` table (``timer_due``), not in memory: the runner sleeps until the
earliest one is due, fires every due timer through the coach, and hands the replies to
the door that owns the user. A restart loses nothing; a timer that came due while the
process was down fires as soon as it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.clock import sleep_until_woken
from bot.coach.actions import Reply
from bot.coach.engine import Coach
from bot.coach.events import TimerFired

log = logging.getLogger(__name__)

Deliver = Callable[[str, Reply], Awaitable[None]]


class TimerRunner:
    """Runs until cancelled; call :meth:`poke` whenever a new timer may be earlier."""

    def __init__(self, coach: Coach, deliver: Deliver, scope: str) -> None:
        self._coach = coach
        self._deliver = deliver
        self._scope = scope
        self._wake = asyncio.Event()
        self._stopping = False

    def poke(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the round of timers in hand (their replies delivered), then return from
        :meth:`run`; cancelling instead could lose a reply whose step was committed."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            await self.fire_due()
            if self._stopping:
                return
            due = await self._coach.store.next_timer_due(self._scope)
            await self._sleep(due)

    async def fire_due(self) -> int:
        """Fire every timer due now; returns how many fired."""
        fired = 0
        now = self._coach.clock.now()
        for timer in await self._coach.store.due_timers(now, self._scope):
            reply = await self._coach.handle(timer.user_id, TimerFired(timer.token))
            fired += 1
            try:
                await self._deliver(timer.user_id, reply)
            except Exception:  # one user's failed delivery must not stop everyone's timers
                log.exception("delivering a timer reply failed")
        return fired

    async def _sleep(self, due: datetime | None) -> None:
        await sleep_until_woken(self._coach.clock, due, self._wake)
