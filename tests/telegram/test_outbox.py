"""The outbox: order per chat, replies first, and every failure handled, against the fake
server through PTB's real HTTP stack."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import pytest

from bot.schedule.loop import Lane
from bot.telegram.outbox import SCHEDULED_BACKLOG, Backoff, LimitedBot, Outbox
from bot.telegram.render import ChatViews, SendText
from tests.botapi import FakeBotAPI

ANA, BEN = 1001, 1002
QUICK = Backoff(first=0.01, most=0.05, attempts=4)


@dataclass
class Blocked:
    chats: list[int] = field(default_factory=list)

    async def __call__(self, chat_id: int) -> None:
        self.chats.append(chat_id)


@dataclass
class Note:
    """A job that records when it ran, optionally waiting for a gate first."""

    log: list[str]
    name: str
    gate: asyncio.Event | None = None

    async def __call__(self, bot: LimitedBot, lane: Lane) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.log.append(f"{self.name}:{lane}")


@pytest.fixture
def blocked() -> Blocked:
    return Blocked()


@pytest.fixture
def outbox(api: FakeBotAPI, ptb: LimitedBot, blocked: Blocked) -> Outbox:
    for user in (ANA, BEN):
        api.user(user, started=True)
    return Outbox(ptb, on_blocked=blocked, backoff=QUICK)


def texts(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [m.text or "" for m in api.messages(chat_id)]


def say(views: ChatViews, chat_id: int, *lines: str) -> list[SendText]:
    return [SendText(views, chat_id, line) for line in lines]


async def test_replies_go_before_scheduled_sends_in_order(outbox: Outbox) -> None:
    ran: list[str] = []
    gate = asyncio.Event()
    outbox.submit(ANA, [Note(ran, "busy", gate)], lane="scheduled")
    await asyncio.sleep(0)  # the chat's worker takes that job and waits at the gate
    outbox.submit(ANA, [Note(ran, "check-in 1"), Note(ran, "check-in 2")], lane="scheduled")
    outbox.submit(ANA, [Note(ran, "reply 1"), Note(ran, "reply 2")])
    assert outbox.pending == 4 and outbox.busy_chats == 1
    gate.set()
    assert await outbox.drain(5) == 0
    assert ran == [
        "busy:scheduled",
        "reply 1:reply",
        "reply 2:reply",
        "check-in 1:scheduled",
        "check-in 2:scheduled",
    ]
    assert outbox.busy_chats == 0  # the chat's queue went with its last job


async def test_flood_control_pauses_only_that_chat(api: FakeBotAPI, outbox: Outbox) -> None:
    views = ChatViews()
    api.fail_next(ANA, count=1, retry_after=1)
    started = time.monotonic()
    outbox.submit(ANA, say(views, ANA, "one", "two"))
    outbox.submit(BEN, say(views, BEN, "hello"))
    await api.wait_for(BEN)
    assert time.monotonic() - started < 0.5
    await api.wait_for(ANA, 2, timeout=5)
    assert time.monotonic() - started >= 1
    assert texts(api, ANA) == ["one", "two"] and outbox.stats.retried == 1


async def test_network_trouble_is_retried(api: FakeBotAPI, outbox: Outbox) -> None:
    views = ChatViews()
    api.disconnect_next(ANA, count=2, methods=["sendMessage"])
    api.fail_next_with_status(ANA, count=1, status=502, methods=["sendMessage"])
    outbox.submit(ANA, say(views, ANA, "still here"))
    await outbox.drain(5)
    assert texts(api, ANA) == ["still here"]
    assert (outbox.stats.done, outbox.stats.retried, outbox.stats.failed) == (1, 3, 0)


async def test_a_lost_answer_may_repeat_a_message_never_lose_it(
    api: FakeBotAPI, outbox: Outbox
) -> None:
    api.fail_next_with_status(ANA, status=502, methods=["sendMessage"], performed=True)
    outbox.submit(ANA, say(ChatViews(), ANA, "breathe out"))
    await outbox.drain(5)
    assert texts(api, ANA) == ["breathe out", "breathe out"]  # at least once


async def test_giving_up_is_counted_and_logged_and_the_chat_goes_on(
    api: FakeBotAPI, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    views = ChatViews()
    api.fail_next_with_status(ANA, count=QUICK.attempts, status=500, methods=["sendMessage"])
    outbox.submit(ANA, say(views, ANA, "private words", "next"))
    with caplog.at_level(logging.ERROR):
        await outbox.drain(5)
    assert texts(api, ANA) == ["next"]
    assert outbox.stats.failed == 1
    assert "chat 1001: SendText given up" in caplog.text
    assert "private words" not in caplog.text


async def test_a_broken_job_does_not_stop_the_chat(
    api: FakeBotAPI, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        async def __call__(self, bot: LimitedBot, lane: Lane) -> None:
            raise ValueError("a bug")

    outbox.submit(ANA, [Broken(), *say(ChatViews(), ANA, "after")])
    await outbox.drain(5)
    assert texts(api, ANA) == ["after"] and outbox.stats.failed == 1


async def test_a_user_who_blocked_the_bot_gets_nothing_more(
    api: FakeBotAPI, outbox: Outbox, blocked: Blocked
) -> None:
    views = ChatViews()
    await api.block(ANA, notify=False)
    outbox.submit(ANA, say(views, ANA, "one", "two", "three"))
    await outbox.drain(5)
    assert blocked.chats == [ANA] and outbox.is_blocked(ANA)
    assert outbox.stats.dropped == 3
    assert len(api.calls_to("sendMessage", ANA)) == 1  # one 403, then no more tries
    outbox.submit(ANA, say(views, ANA, "four"))
    assert outbox.pending == 0 and outbox.stats.dropped == 4

    await api.unblock(ANA, notify=False)
    outbox.unblock(ANA)  # they wrote again
    outbox.submit(ANA, say(views, ANA, "welcome back"))
    await outbox.drain(5)
    assert texts(api, ANA) == ["welcome back"]


async def test_draining_does_not_wait_out_flood_control(api: FakeBotAPI, outbox: Outbox) -> None:
    views = ChatViews()
    api.fail_next(ANA, count=10, retry_after=30)
    outbox.submit(ANA, say(views, ANA, "one", "two"))
    outbox.submit(BEN, say(views, BEN, "hello"))
    await api.wait_until(lambda: bool(api.calls_to("sendMessage", ANA)))
    started = time.monotonic()
    unsent = await outbox.drain(3)
    assert time.monotonic() - started < 0.5
    assert unsent + outbox.stats.failed == 2  # cancelled, or given up: counted either way
    assert texts(api, BEN) == ["hello"] and outbox.busy_chats == 0


async def test_a_scheduler_waits_for_room_replies_never_do(outbox: Outbox) -> None:
    ran: list[str] = []
    gate = asyncio.Event()
    check_ins = [Note(ran, f"check-in {i}", gate) for i in range(SCHEDULED_BACKLOG + 1)]
    outbox.submit(ANA, check_ins, lane="scheduled")
    await asyncio.wait_for(outbox.room("reply"), 1)  # replies are never held back
    assert outbox.pending == SCHEDULED_BACKLOG  # the first one is at the gate
    waiting = asyncio.create_task(outbox.room("scheduled"))
    await asyncio.sleep(0)
    assert not waiting.done()
    gate.set()  # the outbox sends; the scheduler may hand over more
    await asyncio.wait_for(waiting, 1)
    await outbox.drain(5)
    assert len(ran) == SCHEDULED_BACKLOG + 1


async def test_first_unsent_is_the_lowest_reply_not_yet_out(
    api: FakeBotAPI, outbox: Outbox
) -> None:
    gate, views = asyncio.Event(), ChatViews()
    assert outbox.first_unsent() is None
    outbox.submit(ANA, [Note([], "a1", gate), *say(views, ANA, "a2")], tag=7)
    outbox.submit(ANA, say(views, ANA, "a3"), tag=9)
    outbox.submit(BEN, say(views, BEN, "b1"), tag=8)
    outbox.submit(BEN, say(views, BEN, "reminder"), lane="scheduled")
    await api.wait_until(lambda: texts(api, BEN) == ["b1", "reminder"])
    assert outbox.first_unsent() == 7, "Ana's first reply is still in progress"
    gate.set()
    await outbox.drain(5)
    assert texts(api, ANA) == ["a2", "a3"]
    assert outbox.first_unsent() is None, "all out; untagged sends never counted"


@pytest.mark.parametrize("closing_first", [True, False])
async def test_replies_cut_off_by_the_shutdown_stay_unsent(
    api: FakeBotAPI, outbox: Outbox, closing_first: bool
) -> None:
    api.fail_next(ANA, count=100, retry_after=30)
    if closing_first:  # the retry would outlast the deadline: given up at once
        outbox.closing(asyncio.get_running_loop().time() + 1)
    outbox.submit(ANA, say(ChatViews(), ANA, "held back"), tag=12)
    outbox.submit(ANA, say(ChatViews(), ANA, "and after"), tag=13)
    outbox.submit(BEN, say(ChatViews(), BEN, "sent"), tag=14)
    await api.wait_until(lambda: any(c.status == 429 for c in api.calls_to("sendMessage", ANA)))
    await api.wait_until(lambda: texts(api, BEN) == ["sent"])
    await outbox.drain(0.2)  # else cancelled in the middle of the wait
    assert outbox.first_unsent() == 12, "sent again after the restart"
    assert texts(api, ANA) == []
