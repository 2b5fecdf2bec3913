"""Staying within Telegram's sending limits, replies first.

Telegram allows a bot about 30 messages a second in all, about one a second per chat
(short bursts pass) and about 20 a minute per group. :class:`SendLimiter` plugs into PTB
as its rate limiter and throttles every request the outbox tags with a lane: first the
chat's own pace, then a token from the bot-wide bucket. Waiters for that bucket are
served lane by lane, so a reply never queues behind a fan-out of scheduled check-ins.
Requests without a lane (answering a button press, polling, ``setMyCommands``) pass
straight through.

A 429 is not handled here: the outbox pauses just that chat and retries (PTB's limiter
contract allows either).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

from bot.schedule.loop import Lane

LANES: tuple[Lane, ...] = ("reply", "scheduled")
"""In order of priority: answers to what a user just did, ahead of sends the bot starts
on its own (check-ins, reminders)."""
GROUP_RATE = 20 / 60  # Telegram: about 20 messages a minute in a group
MAX_CHATS = 10_000  # per-chat budgets remembered at most; the least recently used go first

Monotonic = Callable[[], float]


class TokenBucket:
    """``rate`` tokens a second, saving up to ``burst``. Tokens are reserved ahead: a
    caller takes one now and learns how long to wait before using it."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._stamp = now

    def available(self, now: float) -> float:
        """Tokens on hand at ``now`` (negative while reservations are outstanding)."""
        return min(self.burst, self._tokens + (now - self._stamp) * self.rate)

    def reserve(self, now: float) -> float:
        """Take a token; the seconds to wait before it may be used (0 if at once)."""
        self._tokens = self.available(now) - 1
        self._stamp = now
        return max(0.0, -self._tokens / self.rate)

    def full(self, now: float) -> bool:
        return self.available(now) >= self.burst


class PriorityBucket:
    """A token bucket shared by all chats whose waiters are served lane by lane, first
    come first served within a lane. ``rate <= 0`` disables it."""

    def __init__(self, rate: float, burst: float, clock: Monotonic = time.monotonic) -> None:
        self._bucket = TokenBucket(rate, burst, clock())
        self._clock = clock
        self._waiters: dict[Lane, deque[asyncio.Future[None]]] = {lane: deque() for lane in LANES}
        self._timer: asyncio.TimerHandle | None = None

    @property
    def enabled(self) -> bool:
        return self._bucket.rate > 0

    async def acquire(self, lane: Lane) -> None:
        """Wait for a token; ``reply`` waiters always go before ``scheduled`` ones."""
        if not self.enabled:
            return
        if not self._queued() and self._bucket.available(self._clock()) >= 1:
            self._bucket.reserve(self._clock())
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters[lane].append(future)
        self._arm()
        await future

    def _queued(self) -> bool:
        return any(self._waiters.values())

    def _wake(self) -> None:
        self._timer = None
        for lane in LANES:
            waiters = self._waiters[lane]
            while waiters and self._bucket.available(self._clock()) >= 1:
                future = waiters.popleft()
                if not future.done():  # a waiter cancelled meanwhile takes no token
                    self._bucket.reserve(self._clock())
                    future.set_result(None)
        self._arm()

    def _arm(self) -> None:
        """Wake up when the next token is due, if anyone waits and no wake-up is set."""
        if self._timer is not None or not self._queued():
            return
        missing = 1 - self._bucket.available(self._clock())
        delay = max(0.0, missing / self._bucket.rate)
        self._timer = asyncio.get_running_loop().call_later(delay, self._wake)


class ChatPacer:
    """One :class:`TokenBucket` per chat (groups slower), forgotten once refilled."""

    def __init__(self, rate: float, burst: float, clock: Monotonic = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: OrderedDict[int, TokenBucket] = OrderedDict()

    async def pace(self, chat_id: int) -> None:
        """Wait until ``chat_id`` may get another message; ``rate <= 0`` never waits."""
        if self.rate <= 0:
            return
        now = self._clock()
        self._forget_refilled(now)
        bucket = self._buckets.pop(chat_id, None) or TokenBucket(
            self.rate if chat_id > 0 else min(self.rate, GROUP_RATE), self.burst, now
        )
        self._buckets[chat_id] = bucket  # most recently used last
        delay = bucket.reserve(now)
        if delay > 0:
            await asyncio.sleep(delay)

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget_refilled(self, now: float) -> None:
        while self._buckets:
            chat_id, oldest = next(iter(self._buckets.items()))
            if not (oldest.full(now) or len(self._buckets) > MAX_CHATS):
                return
            del self._buckets[chat_id]


class SendLimiter(BaseRateLimiter[Lane]):
    """PTB's rate limiter hook: per-chat pace, then the bot-wide bucket by lane."""

    def __init__(
        self,
        *,
        send_rate: float,
        chat_rate: float,
        send_burst: float = 30,
        chat_burst: float = 3,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self.bot_wide = PriorityBucket(send_rate, send_burst, clock)
        self.chats = ChatPacer(chat_rate, chat_burst, clock)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if rate_limit_args is not None:
            chat_id = data.get("chat_id")
            if isinstance(chat_id, int):
                await self.chats.pace(chat_id)
            await self.bot_wide.acquire(rate_limit_args)
        return await callback(*args, **kwargs)
