"""Coach time that runs faster than the wall clock, for tests and demos.

``SECUREBASE_TIME_SCALE=0.01`` makes every timer a dialogue asks for (a breathing phase,
a break reminder) fire a hundred times sooner, while still going through the database and
the real :class:`~bot.coach.timers.TimerRunner`: only the clock is quicker. Coach time
starts at the wall-clock time when the process starts.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from bot.clock import Clock, SystemClock


class ScaledClock:
    """A :class:`~bot.clock.Clock` where ``scale`` real seconds make one coach second."""

    def __init__(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("a time scale must be positive")
        self.scale = scale
        self._origin = datetime.now(UTC)
        self._start = time.monotonic()

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=(time.monotonic() - self._start) / self.scale)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds() * self.scale
        if delay > 0:
            await asyncio.sleep(delay)


def clock_for(scale: float) -> Clock:
    """The wall clock, or a :class:`ScaledClock` when ``scale`` is not 1."""
    return SystemClock() if scale == 1 else ScaledClock(scale)
