"""Time, as something the code is handed rather than something it reads.

Everything that waits or schedules takes a :class:`Clock`, so tests drive time exactly
with :class:`ManualClock` instead of sleeping.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """The current instant (aware, UTC) and a way to wait for a later one."""

    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime) -> None: ...


class SystemClock:
    """Wall-clock time; sleeping really waits."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class ManualClock:
    """A clock that moves only when a test calls :meth:`advance` or :meth:`set`.

    Sleepers wake, in due order, as soon as the clock passes their instant.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((when, future))
        try:
            await future
        finally:
            self._sleepers = [(w, f) for w, f in self._sleepers if f is not future]

    async def advance(self, seconds: float = 0, **delta: float) -> None:
        """Move forward and let every task woken by the move run before returning."""
        await self.set(self._now + timedelta(seconds=seconds, **delta))

    async def set(self, when: datetime) -> None:
        """Jump to ``when`` (never backwards), waking sleepers due by then in order."""
        if when < self._now:
            raise ValueError("a ManualClock does not go backwards")
        for due, future in sorted(self._sleepers, key=lambda item: item[0]):
            if due > when:
                break
            self._now = due
            if not future.done():
                future.set_result(None)
            for _ in range(20):
                await asyncio.sleep(0)
        self._now = when
        for _ in range(20):
            await asyncio.sleep(0)


async def sleep_until_woken(clock: Clock, until: datetime | None, wake: asyncio.Event) -> None:
    """Sleep on ``clock`` until ``until`` (forever when ``None``), or until ``wake`` is set,
    whichever comes first. Background loops use it to sleep to their next due instant and
    still notice new work at once."""
    waiters: list[asyncio.Task[object]] = [asyncio.create_task(wake.wait())]
    if until is not None:
        waiters.append(asyncio.create_task(clock.sleep_until(until)))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        # Not ``suppress(CancelledError): await waiter``: a cancel of the sleeping task
        # that arrives meanwhile is passed on to the waiter it awaits, and would then be
        # swallowed as the waiter's: the loop would never stop. asyncio.wait leaves the
        # waiters' outcomes to them and still lets this task be cancelled.
        await asyncio.wait(waiters)
