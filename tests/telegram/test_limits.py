"""Telegram's sending limits: per-chat pace, the bot-wide bucket, replies first."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bot.telegram.limits import ChatPacer, PriorityBucket, SendLimiter, TokenBucket


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=1.0, burst=3, now=0.0)
    assert [bucket.reserve(0.0) for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert bucket.reserve(10.0) == 0.0 and not bucket.full(10.0) and bucket.full(12.0)


async def test_a_chat_is_paced_and_forgotten_once_refilled() -> None:
    ticks = Ticks()
    pacer = ChatPacer(rate=1000.0, burst=2, clock=ticks)
    for _ in range(3):
        await pacer.pace(1001)
    await pacer.pace(-42)
    assert len(pacer) == 2
    ticks.now += 1.0  # long enough for a private chat to refill, not a group (20/min)
    await pacer.pace(7)
    assert len(pacer) == 2  # 1001 forgotten; the group remembered
    assert ChatPacer(rate=0, burst=1).rate == 0


async def test_replies_are_served_before_scheduled_sends() -> None:
    bucket = PriorityBucket(rate=200.0, burst=1)
    served: list[str] = []

    async def take(lane: Any, name: str) -> None:
        await bucket.acquire(lane)
        served.append(name)

    await take("scheduled", "first")  # empties the bucket
    waiting = [asyncio.create_task(take("scheduled", f"check-in {i}")) for i in range(3)]
    await asyncio.sleep(0)
    waiting.append(asyncio.create_task(take("reply", "reply")))
    await asyncio.gather(*waiting)
    assert served == ["first", "reply", "check-in 0", "check-in 1", "check-in 2"]


async def test_a_cancelled_waiter_takes_no_token() -> None:
    bucket = PriorityBucket(rate=50.0, burst=1)
    await bucket.acquire("reply")
    gone = asyncio.create_task(bucket.acquire("scheduled"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.wait_for(bucket.acquire("reply"), 1)


async def test_the_limiter_passes_untagged_requests_straight_through() -> None:
    limiter = SendLimiter(send_rate=1.0, chat_rate=1.0, send_burst=1, chat_burst=1)
    calls: list[str] = []

    async def call(name: str) -> bool:
        calls.append(name)
        return True

    for _ in range(3):  # answerCallbackQuery: never throttled
        await limiter.process_request(call, ("answer",), {}, "answerCallbackQuery", {}, None)
    await limiter.process_request(call, ("send",), {}, "sendMessage", {"chat_id": 1}, "reply")
    blocked = limiter.process_request(call, ("send",), {}, "sendMessage", {"chat_id": 1}, "reply")
    with contextlib.suppress(TimeoutError):  # the second send to chat 1 must wait a second
        await asyncio.wait_for(blocked, 0.05)
    assert calls == ["answer", "answer", "answer", "send"]
